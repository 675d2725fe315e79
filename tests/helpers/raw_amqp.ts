/**
 * A tiny raw AMQP 0-9-1 client for tests that must send bytes no real client would: wrong protocol
 * headers, oversized or truncated frames, frames on the wrong channel, garbage. It speaks the
 * handshake itself (PLAIN guest/guest), builds frames with the broker's own codec, and parses what
 * comes back. Every read has a timeout, so a broker that goes quiet fails a test instead of hanging
 * it.
 *
 *   const c = await RawAmqp.connect(port);          // handshake done, connection open
 *   await c.send(frame(FRAME_HEARTBEAT, 1, new Uint8Array(0)));
 *   const close = await c.expectClose();   // { code: 505, text: "UNEXPECTED_FRAME - …", … }
 *   assert.equal(close.code, 505);
 *   await c.dispose();
 */
import { parseFrames } from "../../src/amqp/frames.ts";
import { Reader } from "../../src/amqp/reader.ts";
import * as spec from "../../src/amqp/spec.ts";
import type { Method } from "../../src/amqp/spec.ts";
import type { FieldTable } from "../../src/amqp/table.ts";
import { Writer } from "../../src/amqp/writer.ts";

/** The header a 0-9-1 client opens with (and the one a server answers a wrong header with). */
export const AMQP_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export const DEFAULT_TIMEOUT_MS = 5_000;

/** One frame as received: the payload is a copy, safe to keep. */
export interface Frame {
  type: number;
  channel: number;
  payload: Uint8Array;
}

/** A connection.close or channel.close sent by the server. */
export interface CloseInfo {
  /** "connection" for connection.close (channel 0), "channel" for channel.close. */
  kind: "connection" | "channel";
  channel: number;
  code: number;
  text: string;
  classId: number;
  methodId: number;
}

export interface HandshakeOptions {
  /** Heartbeat to ask for in tune-ok (default 0: none). */
  heartbeat?: number;
  /** frame_max for tune-ok (default: what the server offered). */
  frameMax?: number;
  /** channel_max for tune-ok (default: what the server offered). */
  channelMax?: number;
  vhost?: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
}

// ---- frame builders

/** A well-formed frame around `payload`. */
export function frame(type: number, channel: number, payload: Uint8Array): Uint8Array {
  return rawFrame(type, channel, payload.length, payload, spec.FRAME_END);
}

/**
 * A frame with every field under the caller's control: the size field need not match the payload,
 * and the end octet need not be 0xCE (pass `undefined` to leave it out altogether).
 */
export function rawFrame(
  type: number,
  channel: number,
  sizeField: number,
  payload: Uint8Array,
  endOctet: number | undefined,
): Uint8Array {
  const out = new Uint8Array(7 + payload.length + (endOctet === undefined ? 0 : 1));
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint16(1, channel);
  view.setUint32(3, sizeField >>> 0);
  out.set(payload, 7);
  if (endOctet !== undefined) out[7 + payload.length] = endOctet;
  return out;
}

/** The payload of a method frame: class id, method id and arguments. */
export function methodPayload(method: Method): Uint8Array {
  const w = new Writer(256);
  spec.encodeMethod(w, method);
  return w.bytes().slice();
}

/** A whole method frame. */
export function methodFrame(channel: number, method: Method): Uint8Array {
  return frame(spec.FRAME_METHOD, channel, methodPayload(method));
}

/** A content header frame for class basic with the given body size and no properties. */
export function headerFrame(channel: number, bodySize: number, classId = spec.CLASS_BASIC) {
  const w = new Writer(32);
  w.short(classId);
  w.short(0);
  w.longlong(bodySize);
  w.short(0); // property flags: none
  return frame(spec.FRAME_HEADER, channel, w.bytes().slice());
}

export function bodyFrame(channel: number, body: Uint8Array): Uint8Array {
  return frame(spec.FRAME_BODY, channel, body);
}

export const heartbeatFrame = (channel = 0) =>
  frame(spec.FRAME_HEARTBEAT, channel, new Uint8Array(0));

/** basic.publish with default fields. */
export function publishMethod(exchange: string, routingKey: string, mandatory = false): Method {
  return {
    id: spec.BASIC_PUBLISH,
    ticket: 0,
    exchange,
    routingKey,
    mandatory,
    immediate: false,
  };
}

/** queue.declare with default flags. */
export function queueDeclareMethod(
  queue: string,
  opts: { exclusive?: boolean; autoDelete?: boolean; args?: FieldTable } = {},
): Method {
  return {
    id: spec.QUEUE_DECLARE,
    ticket: 0,
    queue,
    passive: false,
    durable: false,
    exclusive: opts.exclusive ?? false,
    autoDelete: opts.autoDelete ?? false,
    nowait: false,
    arguments: opts.args ?? {},
  };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Decodes a method frame payload; undefined for an id the spec does not know. */
export function decodeMethodPayload(payload: Uint8Array): Method | undefined {
  const r = new Reader(payload);
  return spec.decodeMethod(r.long(), r);
}

// ---- the client

class TimeoutError extends Error {}

export class RawAmqp {
  private buf = new Uint8Array(64 * 1024);
  private len = 0;
  private eof = false;
  private wake: (() => void) | undefined;
  private readonly pump: Promise<void>;
  private closed = false;
  /** What the server offered in connection.tune (after a handshake). */
  tune: spec.ConnectionTune | undefined;
  /** What we answered in tune-ok. */
  frameMax = 131072;

  private constructor(readonly conn: Deno.TcpConn) {
    this.pump = this.readLoop();
  }

  /** Opens a TCP connection and nothing else. */
  static async open(port: number, hostname = "127.0.0.1"): Promise<RawAmqp> {
    const conn = await Deno.connect({ port, hostname });
    conn.setNoDelay(true);
    return new RawAmqp(conn);
  }

  /** Opens a TCP connection and completes the handshake up to connection.open-ok. */
  static async connect(port: number, opts: HandshakeOptions = {}): Promise<RawAmqp> {
    const c = await RawAmqp.open(port);
    try {
      await c.handshake(opts);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /** Protocol header, start-ok (PLAIN), tune-ok, open; waits for open-ok. */
  async handshake(opts: HandshakeOptions = {}): Promise<void> {
    const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await this.send(AMQP_HEADER);
    await this.expectMethod(0, spec.CONNECTION_START, timeout);
    const user = opts.username ?? "guest";
    const pass = opts.password ?? "guest";
    await this.sendMethod(0, {
      id: spec.CONNECTION_START_OK,
      clientProperties: {
        product: "raw_amqp test client",
        capabilities: { consumer_cancel_notify: true, authentication_failure_close: true },
      },
      mechanism: "PLAIN",
      response: new TextEncoder().encode(`\0${user}\0${pass}`),
      locale: "en_US",
    });
    const tune = await this.expectMethod(0, spec.CONNECTION_TUNE, timeout);
    this.tune = tune;
    this.frameMax = opts.frameMax ?? tune.frameMax;
    await this.sendMethod(0, {
      id: spec.CONNECTION_TUNE_OK,
      channelMax: opts.channelMax ?? tune.channelMax,
      frameMax: this.frameMax,
      heartbeat: opts.heartbeat ?? 0,
    });
    await this.sendMethod(0, {
      id: spec.CONNECTION_OPEN,
      virtualHost: opts.vhost ?? "/",
      capabilities: "",
      insist: false,
    });
    await this.expectMethod(0, spec.CONNECTION_OPEN_OK, timeout);
  }

  /** channel.open, waiting for open-ok. */
  async openChannel(channel: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.sendMethod(channel, { id: spec.CHANNEL_OPEN, outOfBand: "" });
    await this.expectMethod(channel, spec.CHANNEL_OPEN_OK, timeoutMs);
  }

  // ---- writing

  /** Writes bytes; false when the socket is already gone (the server may close first). */
  async send(bytes: Uint8Array): Promise<boolean> {
    try {
      let off = 0;
      while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      return true;
    } catch {
      return false;
    }
  }

  sendMethod(channel: number, method: Method): Promise<boolean> {
    return this.send(methodFrame(channel, method));
  }

  // ---- reading

  private async readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(chunk);
        if (n === null) break;
        if (this.len + n > this.buf.length) {
          const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
          next.set(this.buf.subarray(0, this.len));
          this.buf = next;
        }
        this.buf.set(chunk.subarray(0, n), this.len);
        this.len += n;
        this.notify();
      }
    } catch {
      // reset by peer, or closed by us: both end the stream
    }
    this.eof = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits until `ready()` holds, the stream ends, or the deadline passes. */
  private async waitFor(ready: () => boolean, deadline: number): Promise<void> {
    while (!ready() && !this.eof) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError("timed out waiting for the server");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  private consume(n: number): Uint8Array {
    const out = this.buf.slice(0, n);
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    return out;
  }

  /** Everything the server sends until it closes the socket; throws if it stays open too long. */
  async readUntilClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Uint8Array> {
    await this.waitFor(() => false, Date.now() + timeoutMs);
    return this.consume(this.len);
  }

  /** The next frame, or null once the stream has ended; throws on timeout. */
  async readFrame(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    let found: Frame | undefined;
    const tryParse = () => {
      if (found) return true;
      if (this.len < 8) return false;
      const view = new DataView(this.buf.buffer, 0, this.len);
      const next = parseFrames(
        this.buf,
        view,
        0,
        this.len,
        0x7fffffff,
        (type, channel, b, s, e) => {
          found ??= { type, channel, payload: b.slice(s, e) };
        },
        () => found !== undefined,
      );
      if (found) this.consume(next);
      return found !== undefined;
    };
    await this.waitFor(tryParse, deadline);
    return found ?? null;
  }

  /**
   * The next method frame (skipping heartbeats, and content frames unless asked for), or null at
   * the end of the stream.
   */
  async readMethod(
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<{ channel: number; method: Method } | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const f = await this.readFrame(Math.max(0, deadline - Date.now()));
      if (!f) return null;
      if (f.type !== spec.FRAME_METHOD) continue;
      const method = decodeMethodPayload(f.payload);
      if (!method) throw new Error(`server sent an unknown method ${describePayload(f.payload)}`);
      return { channel: f.channel, method };
    }
  }

  /** Reads the next method and checks it is `id` on `channel`. */
  async expectMethod<I extends Method["id"]>(
    channel: number,
    id: I,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Extract<Method, { id: I }>> {
    const got = await this.readMethod(timeoutMs);
    if (!got) throw new Error(`connection closed while waiting for ${spec.METHOD_NAMES[id]}`);
    if (got.channel !== channel || got.method.id !== id) {
      throw new Error(
        `expected ${spec.METHOD_NAMES[id]} on channel ${channel}, got ` +
          `${spec.METHOD_NAMES[got.method.id]} on channel ${got.channel}: ` +
          JSON.stringify(got.method, jsonBytes),
      );
    }
    return got.method as Extract<Method, { id: I }>;
  }

  /**
   * Waits for the server's connection.close or channel.close (skipping other frames), answers it
   * with close-ok (unless `reply` is false), and returns what it said.
   */
  async expectClose(timeoutMs = DEFAULT_TIMEOUT_MS, reply = true): Promise<CloseInfo> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const got = await this.readMethod(Math.max(0, deadline - Date.now()));
      if (!got) throw new Error("socket closed without connection.close or channel.close");
      const m = got.method;
      if (m.id === spec.CONNECTION_CLOSE || m.id === spec.CHANNEL_CLOSE) {
        const isConn = m.id === spec.CONNECTION_CLOSE;
        if (reply) {
          await this.sendMethod(got.channel, {
            id: isConn ? spec.CONNECTION_CLOSE_OK : spec.CHANNEL_CLOSE_OK,
          });
        }
        return {
          kind: isConn ? "connection" : "channel",
          channel: got.channel,
          code: m.replyCode,
          text: m.replyText,
          classId: m.classId,
          methodId: m.methodId,
        };
      }
    }
  }

  /** Whether the server closed the socket within the time (data it sends meanwhile is dropped). */
  async waitClosed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<boolean> {
    try {
      await this.waitFor(() => {
        this.len = 0;
        return false;
      }, Date.now() + timeoutMs);
    } catch (err) {
      if (err instanceof TimeoutError) return false;
      throw err;
    }
    return true;
  }

  /** Whether the server has closed its side. */
  get ended(): boolean {
    return this.eof;
  }

  /** A clean close: connection.close, then close-ok (or the socket ending), then the socket. */
  async closeGracefully(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (!this.eof) {
      await this.sendMethod(0, {
        id: spec.CONNECTION_CLOSE,
        replyCode: 200,
        replyText: "bye",
        classId: 0,
        methodId: 0,
      });
      try {
        const deadline = Date.now() + timeoutMs;
        while (true) {
          const got = await this.readMethod(Math.max(0, deadline - Date.now()));
          if (!got || got.method.id === spec.CONNECTION_CLOSE_OK) break;
        }
      } catch { /* closing anyway */ }
    }
    this.close();
    await this.pump;
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Closes the socket and waits for the read loop to finish (no leaked ops in tests). */
  async dispose(): Promise<void> {
    this.close();
    await this.pump;
  }
}

function describePayload(p: Uint8Array): string {
  if (p.length < 4) return `(payload of ${p.length} bytes)`;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return `class ${v.getUint16(0)} method ${v.getUint16(2)}`;
}

function jsonBytes(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? `<${v.length} bytes>` : v;
}

/**
 * Publishes `body` to `queue` through the default exchange on an open channel, then takes it back
 * with basic.get (no-ack) and returns the body it got. Throws if the queue was empty or anything
 * else came back.
 */
export async function publishAndGet(
  c: RawAmqp,
  channel: number,
  queue: string,
  body: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<string> {
  const bytes = new TextEncoder().encode(body);
  await c.send(concat(
    methodFrame(channel, publishMethod("", queue)),
    headerFrame(channel, bytes.length),
    bodyFrame(channel, bytes),
    methodFrame(channel, { id: spec.BASIC_GET, ticket: 0, queue, noAck: true }),
  ));
  await c.expectMethod(channel, spec.BASIC_GET_OK, timeoutMs);
  const header = await c.readFrame(timeoutMs);
  if (header?.type !== spec.FRAME_HEADER) throw new Error("expected a content header");
  if (bytes.length === 0) return "";
  const got = await c.readFrame(timeoutMs);
  if (got?.type !== spec.FRAME_BODY) throw new Error("expected a content body");
  return new TextDecoder().decode(got.payload);
}

/** Declares an exclusive server-named queue on an open channel and returns its name. */
export async function declareTempQueue(
  c: RawAmqp,
  channel: number,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<string> {
  await c.sendMethod(channel, queueDeclareMethod("", { exclusive: true }));
  return (await c.expectMethod(channel, spec.QUEUE_DECLARE_OK, timeoutMs)).queue;
}

/**
 * A full round trip on a fresh raw connection: declare an exclusive server-named queue, publish
 * one message to it, basic.get it back, close cleanly. Throws if anything is off.
 */
export async function rawRoundTrip(port: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const c = await RawAmqp.connect(port, { timeoutMs });
  try {
    await c.openChannel(1, timeoutMs);
    const queue = await declareTempQueue(c, 1, timeoutMs);
    const got = await publishAndGet(c, 1, queue, "still alive", timeoutMs);
    if (got !== "still alive") throw new Error(`round trip returned ${JSON.stringify(got)}`);
    await c.closeGracefully(timeoutMs);
  } finally {
    await c.dispose();
  }
}
