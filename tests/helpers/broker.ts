/**
 * Starts a broker in-process on an ephemeral loopback port for a test, and stops it afterwards.
 *
 *   const broker = await startBroker();
 *   try { ... amqp.connect(broker.url) ... } finally { await broker.close(); }
 */
import { startServer } from "../../src/server/server.ts";
import type { BrokerServer, ServerOptions } from "../../src/server/server.ts";

export interface TestBroker {
  /** The AMQP port the broker listens on (127.0.0.1). */
  port: number;
  /** `amqp://guest:guest@127.0.0.1:PORT/` */
  url: string;
  server: BrokerServer;
  close(): Promise<void>;
}

/**
 * With TEST_AMQP_URL set (e.g. amqp://guest:guest@127.0.0.1:5700/ for a reference RabbitMQ), tests
 * that need only a URL run against that broker instead: a way to check our assertions against
 * RabbitMQ itself. `server` is then undefined, so tests that reach into it must not use this.
 */
export async function startBroker(options: Partial<ServerOptions> = {}): Promise<TestBroker> {
  const external = Deno.env.get("TEST_AMQP_URL");
  if (external) {
    const port = Number(new URL(external).port || 5672);
    return {
      port,
      url: external,
      server: undefined as unknown as BrokerServer,
      close: async () => {},
    };
  }
  // The admin and metrics HTTP servers stay off unless a test asks (then on an ephemeral port).
  const server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    logLevel: "warn",
    management: { enabled: false, port: 0, ip: "127.0.0.1" },
    prometheus: { enabled: false, port: 0, ip: "127.0.0.1", perObject: false },
    ...options,
  });
  const port = server.port;
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    server,
    close: () => server.close(),
  };
}
