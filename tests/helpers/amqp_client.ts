/**
 * The shared harness of the interop tests with the npm clients amqplib and @cloudamqp/amqp-client.
 *
 * A test file gets a Deno.test wrapper that starts a broker (see ./broker.ts) and hands out
 * connections, channels and uniquely named queues, all cleaned up when the test ends:
 *
 *   const { brokerTest, unique } = interopSuite("basic");
 *   brokerTest("consume: ...", async (t) => {
 *     const q = await t.queue("ctag"); // declared now, deleted at the end
 *     const ch = await t.channel(); // on a new connection, closed at the end
 *     ...
 *   });
 *
 * Operations that the server should fail can be run on a fresh channel with `attempt`:
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
import amqp from "amqplib";
import { AMQPClient } from "@cloudamqp/amqp-client";
import { Buffer } from "node:buffer";
import { startBroker } from "./broker.ts";
import { Tap } from "./tap.ts";

// ---------------------------------------------------------------------------------------------
// Typings for the parts of amqplib the tests use

/** The basic properties of a message, as amqplib names them. */
export interface BasicProperties {
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
}

/** A message from `channel.get`, a consumer callback or a 'return' event. */
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
  properties: BasicProperties;
}

export interface PublishOptions extends BasicProperties {
  mandatory?: boolean;
  /** Sets deliveryMode 2. */
  persistent?: boolean;
}

export interface ConsumeOptions {
  noAck?: boolean;
  exclusive?: boolean;
  consumerTag?: string;
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

/** What `ack`, `nack` and `reject` read of a message (tests also pass made-up delivery tags). */
export interface Delivery {
  fields: { deliveryTag: number };
}

/** The error amqplib rejects with, or emits, when the server closes a channel or connection. */
export interface AmqpError extends Error {
  code?: number;
  classId?: number;
  methodId?: number;
}

/** An event listener; its parameter is typed by the caller for the event it listens to. */
export type Listener = (arg: never) => void;

/** Anything that emits events: channels and connections of both clients' shapes. */
export interface Emitter {
  on(event: string, listener: Listener): void;
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
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: PublishOptions,
    confirmed?: (err: unknown) => void,
  ): boolean;
  sendToQueue(
    queue: string,
    content: Buffer,
    options?: PublishOptions,
    confirmed?: (err: unknown) => void,
  ): boolean;
  /** amqplib-internal: publishes with the given method fields and basic properties verbatim. */
  sendMessage(
    fields: Record<string, unknown>,
    properties: Record<string, unknown>,
    content: Buffer,
  ): void;
  get(queue: string, options?: { noAck?: boolean }): Promise<AmqpMessage | false>;
  consume(
    queue: string,
    onMessage: (msg: AmqpMessage | null) => void,
    options?: ConsumeOptions,
  ): Promise<{ consumerTag: string }>;
  cancel(consumerTag: string): Promise<unknown>;
  ack(msg: Delivery, allUpTo?: boolean): void;
  nack(msg: Delivery, allUpTo?: boolean, requeue?: boolean): void;
  reject(msg: Delivery, requeue?: boolean): void;
  recover(): Promise<unknown>;
  prefetch(count: number, global?: boolean): Promise<unknown>;
  /** On a confirm channel: resolves once everything published so far is confirmed. */
  waitForConfirms(): Promise<void>;
  close(): Promise<void>;
  on(event: string, listener: Listener): void;
  once(event: string, listener: Listener): void;
}

/** The part of amqplib's promise-API connection the tests use. */
export interface AmqpConnection {
  /** What was negotiated in connection.tune. */
  connection: { frameMax: number; heartbeat: number };
  createChannel(): Promise<AmqpChannel>;
  createConfirmChannel(): Promise<AmqpChannel>;
  close(): Promise<void>;
  on(event: string, listener: Listener): void;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Rejects after `ms` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The reply text the server sent in a channel.close/connection.close, from amqplib's
 * `... with message "TEXT"` error messages; undefined for other errors.
 */
export function replyText(err: unknown): string | undefined {
  return /with message "(.*)"$/s.exec((err as Error).message)?.[1];
}

/** Listens for 'error' events so that EventEmitter does not throw on an unhandled one. */
export function guard<T extends Emitter>(x: T): T {
  x.on("error", () => {});
  return x;
}

/** A name unique to this run: `prefix` plus a random suffix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

// ---------------------------------------------------------------------------------------------
// Connections that know how they ended, and operations that should fail

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

  constructor(readonly raw: AmqpConnection) {
    raw.on("error", (err: Error) => {
      this.closeError ??= err;
    });
    raw.on("close", (err: Error | undefined) => {
      if (err) this.closeError ??= err;
      this.closed = true;
      for (const wake of this.#closedWaiters.splice(0)) wake();
    });
  }

  /** Opens a channel whose 'error' events are recorded instead of thrown. */
  async channel(): Promise<AmqpChannel> {
    return guard(await this.raw.createChannel());
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
  const raw = await amqp.connect(url) as AmqpConnection;
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
  ch.on("error", (err: AmqpError) => {
    channelError ??= err;
  });
  ch.on("close", () => {
    channelClosed = true;
  });
  let opError: unknown;
  try {
    await within(op(ch), ms, "operation");
  } catch (err) {
    opError = err;
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
      text: err ? replyText(err) ?? err.message : "connection closed without error",
      connectionClosed: true,
    };
  }
  if (channelError) {
    // The connection must survive a channel error.
    const probe = await client.channel();
    await probe.close();
    return {
      code: channelError.code ?? -1,
      text: replyText(channelError) ?? channelError.message,
      connectionClosed: client.closed,
    };
  }
  if (opError !== undefined) {
    const e = opError as Error & { code?: number };
    return {
      code: e.code ?? -1,
      text: replyText(e) ?? e.message ?? String(e),
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

// ---------------------------------------------------------------------------------------------
// The test harness

/** What a broker test gets: the broker's URL and resources that are released when it ends. */
export interface BrokerTestContext {
  url: string;
  /** A new amqplib connection to `url + query`, closed at the end; errors are swallowed. */
  connect(query?: string, url?: string): Promise<AmqpConnection>;
  /** A new channel on a new connection, with an error listener attached. */
  channel(): Promise<AmqpChannel>;
  /** A new connection as a Client (see `attempt`), closed at the end. */
  client(): Promise<Client>;
  /** A @cloudamqp/amqp-client connection, closed at the end. */
  cloud(url?: string): Promise<AMQPClient>;
  /** A recording proxy in front of the broker, closed at the end. */
  tap(): Tap;
  /** Declares a fresh non-durable queue with a unique name; deleted at the end. */
  queue(tag: string, options?: QueueOptions): Promise<string>;
  /** A unique queue name, not declared; deleted at the end if the test declared it. */
  queueName(tag: string): string;
  /** A unique exchange name, not declared; deleted at the end if the test declared it. */
  exchangeName(tag: string): string;
}

export interface InteropSuite {
  /** One Deno.test with its own broker (see ./broker.ts) and a context that cleans up after it. */
  brokerTest(
    name: string,
    fn: (ctx: BrokerTestContext, t: Deno.TestContext) => Promise<void>,
  ): void;
  /** A name unique to this run, `${prefix}-${tag}-` and a random suffix. */
  unique(tag: string): string;
}

/** The harness of one test file; `prefix` starts the names of everything its tests declare. */
export function interopSuite(prefix: string): InteropSuite {
  const unique = (tag: string) => uniqueName(`${prefix}-${tag}`);
  function brokerTest(
    name: string,
    fn: (ctx: BrokerTestContext, t: Deno.TestContext) => Promise<void>,
  ): void {
    Deno.test({
      name,
      // amqplib keeps sockets and timers that outlive individual operations.
      sanitizeOps: false,
      sanitizeResources: false,
      async fn(t) {
        const broker = await startBroker();
        const conns: AmqpConnection[] = [];
        const clouds: AMQPClient[] = [];
        const taps: Tap[] = [];
        const queues: string[] = [];
        const exchanges: string[] = [];
        const ctx: BrokerTestContext = {
          url: broker.url,
          async connect(query = "", url = broker.url) {
            const conn: AmqpConnection = await within(amqp.connect(url + query), 5000, "connect");
            conns.push(guard(conn));
            return conn;
          },
          async channel() {
            const conn = await ctx.connect();
            return guard(await conn.createChannel());
          },
          async client() {
            return new Client(await ctx.connect());
          },
          async cloud(url = broker.url) {
            const client = new AMQPClient(url);
            await within(client.connect(), 5000, "cloudamqp connect");
            clouds.push(client);
            return client;
          },
          tap() {
            const tap = new Tap({ hostname: new URL(broker.url).hostname, port: broker.port });
            taps.push(tap);
            return tap;
          },
          async queue(tag, options = {}) {
            const name = ctx.queueName(tag);
            const ch = await ctx.channel();
            await ch.assertQueue(name, { durable: false, ...options });
            return name;
          },
          queueName(tag) {
            const name = unique(tag);
            queues.push(name);
            return name;
          },
          exchangeName(tag) {
            const name = unique(tag);
            exchanges.push(name);
            return name;
          },
        };
        try {
          await fn(ctx, t);
        } finally {
          try {
            for (const c of conns) await c.close().catch(() => {});
            for (const c of clouds) if (!c.closed) await c.close().catch(() => {});
            for (const tap of taps) await tap.close();
            await deleteAll(broker.url, queues, exchanges);
          } finally {
            await broker.close();
          }
        }
      },
    });
  }
  return { brokerTest, unique };
}

/**
 * Best-effort deletion of what a test declared (matters on a shared RabbitMQ), once its
 * connections are closed (so that their exclusive queues are gone).
 */
async function deleteAll(url: string, queues: string[], exchanges: string[]): Promise<void> {
  if (queues.length === 0 && exchanges.length === 0) return;
  let c: Client | undefined;
  try {
    c = await connect(url);
    for (const q of queues) {
      if (c.closed) c = await connect(url);
      await attempt(c, (ch) => ch.deleteQueue(q));
    }
    for (const x of exchanges) {
      if (c.closed) c = await connect(url);
      await attempt(c, (ch) => ch.deleteExchange(x));
    }
  } catch {
    // cleanup must not hide the test's own outcome
  } finally {
    await c?.close();
  }
}
