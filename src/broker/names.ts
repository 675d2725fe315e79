/** Server-generated names: `amq.gen-…` queues and `amq.ctag-…` consumer tags, as RabbitMQ makes. */

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

export const generatedQueueName = () => `amq.gen-${randomToken()}`;
export const generatedConsumerTag = () => `amq.ctag-${randomToken()}`;
