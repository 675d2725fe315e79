/**
 * Small helpers around the npm amqplib client for interop tests.
 *
 *   const client = await connect(url);
 *   try {
 *     const failure = await attempt(client, (ch) => ch.checkExchange("missing"));
 *     // failure = { code: 404, text: "NOT_FOUND - ...", connectionClosed: false }
 *   } finally {
 *     await client.close();
 *   }
 *
 * amqplib ships no type declarations, so the subset of its promise API used by the tests is
 * described here.
 */
// deno.json has no import map entry for it (and tests must not add one), hence the inline specifier.
// deno-lint-ignore no-import-prefix
import amqp from "npm:amqplib@0.10";
import { Buffer } from "node:buffer";

/** A message from `channel.get` or a consumer callback. */
export interface AmqpMessage {
  content: Buffer;
  fields: {
    deliveryTag: number;
    redelivered: boolean;
    exchange: string;
    routingKey: string;
    messageCount?: number;
    consumerTag?: string;
    replyCode?: number;
    replyText?: string;
  };
  properties: {
    contentType?: string;
    contentEncoding?: string;
    headers?: Record<string, unknown>;
    deliveryMode?: number;
    priority?: number;
    correlationId?: string;
    replyTo?: string;
    expiration?: string;
    messageId?: string;
    timestamp?: number;
    type?: string;
    userId?: string;
    appId?: string;
  };
}

export interface PublishOptions {
  mandatory?: boolean;
  persistent?: boolean;
  contentType?: string;
  contentEncoding?: string;
  headers?: Record<string, unknown>;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  timestamp?: number;
  type?: string;
  appId?: string;
}

export interface QueueOptions {
  exclusive?: boolean;
  durable?: boolean;
  autoDelete?: boolean;
  arguments?: Record<string, unknown>;
}

export interface ExchangeOptions {
  durable?: boolean;
  internal?: boolean;
  autoDelete?: boolean;
  arguments?: Record<string, unknown>;
}

export interface QueueOk {
  queue: string;
  messageCount: number;
  consumerCount: number;
}

/** The part of amqplib's promise-API channel the tests use. */
export interface AmqpChannel {
  assertExchange(name: string, type: string, options?: ExchangeOptions): Promise<unknown>;
  checkExchange(name: string): Promise<unknown>;
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<unknown>;
  bindExchange(
    dest: string,
    source: string,
    pattern: string,
    args?: Record<string, unknown>,
  ): Promise<unknown>;
  unbindExchange(
    dest: string,
    source: string,
    pattern: string,
    args?: Record<string, unknown>,
  ): Promise<unknown>;
  assertQueue(name: string, options?: QueueOptions): Promise<QueueOk>;
  checkQueue(name: string): Promise<QueueOk>;
  deleteQueue(
    name: string,
    options?: { ifUnused?: boolean; ifEmpty?: boolean },
  ): Promise<{ messageCount: number }>;
  purgeQueue(name: string): Promise<{ messageCount: number }>;
  bindQueue(
    queue: string,
    source: string,
    pattern: string,
    args?: Record<string, unknown>,
  ): Promise<unknown>;
  unbindQueue(
    queue: string,
    source: string,
    pattern: string,
    args?: Record<string, unknown>,
  ): Promise<unknown>;
  publish(exchange: string, routingKey: string, content: Buffer, options?: PublishOptions): boolean;
  sendToQueue(queue: string, content: Buffer, options?: PublishOptions): boolean;
  get(queue: string, options?: { noAck?: boolean }): Promise<AmqpMessage | false>;
  consume(
    queue: string,
    onMessage: (msg: AmqpMessage | null) => void,
    options?: { noAck?: boolean; exclusive?: boolean; consumerTag?: string },
  ): Promise<{ consumerTag: string }>;
  cancel(consumerTag: string): Promise<unknown>;
  ack(msg: AmqpMessage): void;
  prefetch(count: number): Promise<unknown>;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
}

interface RawConnection {
  createChannel(): Promise<AmqpChannel>;
  close(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

/** The way an operation failed: the server's reply code and reply text. */
export interface Failure {
  code: number;
  text: string;
  /** true when the server closed the whole connection, false when only the channel. */
  connectionClosed: boolean;
}

/** An amqplib connection plus what is known about how it ended. */
export class Client {
  /** Set once the connection has closed (by either side). */
  closed = false;
  /** The error the connection closed with (server connection.close or socket error). */
  closeError: (Error & { code?: number }) | undefined;
  readonly #closedWaiters: (() => void)[] = [];

  constructor(readonly raw: RawConnection) {
    raw.on("error", (err) => {
      this.closeError ??= err as Error;
    });
    raw.on("close", (err) => {
      if (err) this.closeError ??= err as Error;
      this.closed = true;
      for (const wake of this.#closedWaiters.splice(0)) wake();
    });
  }

  /** Opens a channel whose 'error' events are recorded instead of thrown. */
  async channel(): Promise<AmqpChannel> {
    const ch = await this.raw.createChannel();
    ch.on("error", () => {});
    return ch;
  }

  /** Resolves when the connection has closed, or false after `ms`. */
  waitClosed(ms = 5000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.#closedWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Closes the connection; a no-op when it is already closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.raw.close();
    } catch {
      // already closing or closed by the server
    }
  }
}

/** Connects with amqplib. */
export async function connect(url: string): Promise<Client> {
  const raw = await amqp.connect(url) as RawConnection;
  return new Client(raw);
}

/** Runs `fn` with a fresh connection and always closes it. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Extracts the reply text from amqplib's `... with message "TEXT"` error messages. */
export function replyTextOf(message: string): string {
  const m = /with message "([\s\S]*)"$/.exec(message);
  return m ? m[1] : message;
}

function timeout<T>(ms: number, what: string): { promise: Promise<T>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms: ${what}`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Runs `op` on a fresh channel of `client` and reports how the server failed it, or null when it
 * succeeded (and neither the channel nor the connection was closed by the server). When only the
 * channel closed, checks that the connection still works (by opening and closing another channel).
 * Throws when the operation neither succeeds nor fails within `ms`.
 */
export async function attempt(
  client: Client,
  op: (ch: AmqpChannel) => Promise<unknown>,
  ms = 5000,
): Promise<Failure | null> {
  const ch = await client.channel();
  let channelError: (Error & { code?: number }) | undefined;
  let channelClosed = false;
  ch.on("error", (err) => {
    channelError ??= err as Error;
  });
  ch.on("close", () => {
    channelClosed = true;
  });
  let opError: unknown;
  const limit = timeout<unknown>(ms, "operation");
  try {
    await Promise.race([op(ch), limit.promise]);
  } catch (err) {
    opError = err;
  } finally {
    limit.cancel();
  }
  if (opError instanceof Error && opError.message.startsWith("timed out after")) throw opError;
  if (opError !== undefined && !channelError && !client.closed) {
    // The rejection may come before the close events; give them a moment.
    await client.waitClosed(200);
  }
  if (client.closed) {
    const err = client.closeError;
    return {
      code: err?.code ?? -1,
      text: err ? replyTextOf(err.message) : "connection closed without error",
      connectionClosed: true,
    };
  }
  if (channelError) {
    // The connection must survive a channel error.
    const probe = await client.channel();
    await probe.close();
    return {
      code: channelError.code ?? -1,
      text: replyTextOf(channelError.message),
      connectionClosed: client.closed,
    };
  }
  if (opError !== undefined) {
    const e = opError as Error & { code?: number };
    return {
      code: e.code ?? -1,
      text: replyTextOf(e.message ?? String(e)),
      connectionClosed: false,
    };
  }
  if (!channelClosed) await ch.close();
  return null;
}

/**
 * Publishes (fire-and-forget) then makes a round trip on the same channel, so any channel error the
 * publish caused has arrived once this resolves or rejects.
 */
export async function publishAndSync(
  ch: AmqpChannel,
  exchange: string,
  routingKey: string,
  body: string,
  options?: PublishOptions,
): Promise<void> {
  ch.publish(exchange, routingKey, Buffer.from(body), options);
  await ch.checkExchange("amq.direct");
}

/** `channel.get` with no-ack, returning the body as text, or null when the queue is empty. */
export async function getText(ch: AmqpChannel, queue: string): Promise<string | null> {
  const msg = await ch.get(queue, { noAck: true });
  return msg === false ? null : msg.content.toString();
}

/** Drains a queue with no-ack `get`s and returns the bodies in order. */
export async function drain(ch: AmqpChannel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const body = await getText(ch, queue);
    if (body === null) return out;
    out.push(body);
  }
}

/** A name unique to this run: `prefix` plus a random suffix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
