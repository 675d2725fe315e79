/**
 * A minimal AMQP 0-9-1 client written for load generation, in the spirit of PerfTest's tuned Java
 * client: publishes go out as pre-encoded frames in large batches (one socket write per batch),
 * and deliveries are counted by scanning frames in place in one reused read buffer, without
 * building message objects. It speaks just what a benchmark needs (PLAIN login, one channel,
 * qos, consume, publish, confirms, acks) and shares no code with the broker, so it measures any
 * broker the same way. A general-purpose npm client spends more CPU per message than a fast
 * broker does, and on a 2-core machine that client, not the broker, would set the rate.
 *
 * @module
 */

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;
const MAX_FRAME = 131072;

/** Class and method ids as one number (class << 16 | method). */
const id = (c: number, m: number) => (c << 16) | m;
export const M = {
  START: id(10, 10),
  TUNE: id(10, 30),
  OPEN_OK: id(10, 41),
  CLOSE: id(10, 50),
  CLOSE_OK: id(10, 51),
  BLOCKED: id(10, 60),
  UNBLOCKED: id(10, 61),
  CHANNEL_OPEN_OK: id(20, 11),
  CHANNEL_CLOSE: id(20, 40),
  QOS_OK: id(60, 11),
  CONSUME_OK: id(60, 21),
  DELIVER: id(60, 60),
  ACK: id(60, 80),
  NACK: id(60, 120),
  SELECT_OK: id(85, 11),
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds frame payloads and whole frames into a growable buffer. */
export class FrameWriter {
  buf = new Uint8Array(64 * 1024);
  view = new DataView(this.buf.buffer);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  octet(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }
  short(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }
  long(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }
  longlong(v: number): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt(v));
    this.pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  shortstr(s: string): this {
    const b = encoder.encode(s);
    return this.octet(b.length).bytes(b);
  }
  longstr(s: string | Uint8Array): this {
    const b = typeof s === "string" ? encoder.encode(s) : s;
    return this.long(b.length).bytes(b);
  }
  /** A field table of strings, booleans and nested tables (all a client handshake needs). */
  table(t: Record<string, string | boolean | Record<string, boolean>>): this {
    const inner = new FrameWriter();
    for (const [k, v] of Object.entries(t)) {
      inner.shortstr(k);
      if (typeof v === "string") inner.octet(0x53).longstr(v);
      else if (typeof v === "boolean") inner.octet(0x74).octet(v ? 1 : 0);
      else inner.octet(0x46).table(v);
    }
    return this.longstr(inner.take());
  }
  /** Wraps what follows `start` as one frame (the 7-byte header must be reserved by `begin`). */
  begin(): number {
    const start = this.pos;
    this.ensure(7);
    this.pos += 7;
    return start;
  }
  end(start: number, type: number, channel: number): this {
    this.buf[start] = type;
    this.view.setUint16(start + 1, channel);
    this.view.setUint32(start + 3, this.pos - start - 7);
    return this.octet(FRAME_END);
  }
  method(channel: number, methodId: number, args: (w: FrameWriter) => void = () => {}): this {
    const s = this.begin();
    this.long(methodId);
    args(this);
    return this.end(s, FRAME_METHOD, channel);
  }
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }
}

/** The frames of one basic.publish: method, content header, body frames, for a given body size. */
export interface PublishTemplate {
  frames: Uint8Array;
  /** Offsets in `frames` where the body's first bytes (timestamp, ids) are. */
  bodyOffset: number;
}

/** Encodes one publish as frames; the body is zeros for the caller to stamp per message. */
export function publishTemplate(
  channel: number,
  exchange: string,
  routingKey: string,
  size: number,
  persistent: boolean,
  frameMax: number,
): PublishTemplate {
  const w = new FrameWriter();
  w.method(channel, id(60, 40), (a) => a.short(0).shortstr(exchange).shortstr(routingKey).octet(0));
  const h = w.begin();
  w.short(60).short(0).longlong(size);
  if (persistent) w.short(0x1000).octet(2);
  else w.short(0);
  w.end(h, FRAME_HEADER, channel);
  let bodyOffset = -1;
  const chunk = frameMax - 8;
  for (let off = 0; off < size; off += chunk) {
    const n = Math.min(chunk, size - off);
    const b = w.begin();
    if (bodyOffset < 0) bodyOffset = w.pos;
    w.bytes(new Uint8Array(n));
    w.end(b, FRAME_BODY, channel);
  }
  return { frames: w.take(), bodyOffset };
}

/** Parsed connection URI parts. */
function parseUri(uri: string) {
  const u = new URL(uri);
  return {
    hostname: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 5672,
    user: decodeURIComponent(u.username || "guest"),
    password: decodeURIComponent(u.password || "guest"),
    vhost: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : "/",
  };
}

/** Called for each frame: type, channel, the read buffer and the payload's bounds. */
export type FrameHandler = (
  type: number,
  channel: number,
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
) => void;

/** One AMQP connection with channel 1 open. */
export class WireConnection {
  frameMax = MAX_FRAME;
  closed = false;
  /** Set when the broker closed the connection or channel: the reason. */
  error: string | undefined;
  /** Frames after the handshake that are not replies we wait for. */
  onFrame: FrameHandler | undefined;
  /** Called once when the connection ends (error or close). */
  onClose: (() => void) | undefined;
  /** True while the broker has sent connection.blocked. */
  blocked = false;

  private buf = new Uint8Array(1024 * 1024);
  private view = new DataView(this.buf.buffer);
  private waiting: { id: number; resolve: (args: Uint8Array) => void } | undefined;
  private readonly reading: Promise<void>;

  private constructor(readonly socket: Deno.TcpConn) {
    socket.setNoDelay(true);
    this.reading = this.readLoop();
  }

  /** Connects, logs in, opens channel 1. */
  static async open(uri: string, name: string): Promise<WireConnection> {
    const p = parseUri(uri);
    const socket = await Deno.connect({ hostname: p.hostname, port: p.port });
    const c = new WireConnection(socket);
    const start = c.expect(M.START);
    await c.write(new Uint8Array([65, 77, 81, 80, 0, 0, 9, 1]));
    await start;
    const w = new FrameWriter();
    const tune = c.expect(M.TUNE);
    await c.write(
      w.method(0, id(10, 11), (a) =>
        a.table({
          product: "bench wire client",
          connection_name: name,
          capabilities: {
            publisher_confirms: true,
            "basic.nack": true,
            "connection.blocked": true,
          },
        }).shortstr("PLAIN").longstr(`\0${p.user}\0${p.password}`).shortstr("en_US")).take(),
    );
    const t = await tune;
    const tv = new DataView(t.buffer, t.byteOffset);
    const serverMax = tv.getUint32(2);
    c.frameMax = serverMax === 0 ? MAX_FRAME : Math.min(serverMax, MAX_FRAME);
    w.method(0, id(10, 31), (a) => a.short(tv.getUint16(0)).long(c.frameMax).short(0));
    const opened = c.expect(M.OPEN_OK);
    await c.write(w.method(0, id(10, 40), (a) => a.shortstr(p.vhost).shortstr("").octet(0)).take());
    await opened;
    const chOk = c.expect(M.CHANNEL_OPEN_OK);
    await c.write(w.method(1, id(20, 10), (a) => a.shortstr("")).take());
    await chOk;
    return c;
  }

  /** Sends a method on channel 1 and waits for the reply `replyId`. */
  async call(methodId: number, args: (w: FrameWriter) => void, replyId: number): Promise<void> {
    const reply = this.expect(replyId);
    await this.write(new FrameWriter().method(1, methodId, args).take());
    await reply;
  }

  qos(prefetch: number): Promise<void> {
    return this.call(id(60, 10), (a) => a.long(0).short(prefetch).octet(0), M.QOS_OK);
  }

  confirmSelect(): Promise<void> {
    return this.call(id(85, 10), (a) => a.octet(0), M.SELECT_OK);
  }

  consume(queue: string, noAck: boolean): Promise<void> {
    return this.call(
      id(60, 20),
      (a) => a.short(0).shortstr(queue).shortstr("").octet(noAck ? 2 : 0).long(0),
      M.CONSUME_OK,
    );
  }

  /** basic.ack on channel 1 (not awaited: it joins the socket's queue). */
  ack(tag: number, multiple: boolean): Promise<void> {
    return this.write(
      new FrameWriter().method(1, id(60, 80), (a) => a.longlong(tag).octet(multiple ? 1 : 0))
        .take(),
    );
  }

  /** Writes all of `data`; resolves when the socket has taken it (TCP backpressure). */
  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.socket.write(data.subarray(off));
  }

  /** Closes politely (connection.close, wait briefly for close-ok), then the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      const ok = this.expect(M.CLOSE_OK);
      await this.write(
        new FrameWriter().method(0, id(10, 50), (a) => a.short(200).shortstr("bye").long(0)).take(),
      );
      await Promise.race([ok, new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // the broker went first
    }
    this.shutdown();
    await this.reading;
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
    this.onClose?.();
  }

  private expect(methodId: number): Promise<Uint8Array> {
    return new Promise((resolve) => this.waiting = { id: methodId, resolve });
  }

  private async readLoop(): Promise<void> {
    let start = 0;
    let end = 0;
    try {
      while (!this.closed) {
        if (end === this.buf.length) {
          this.buf.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        const n = await this.socket.read(this.buf.subarray(end));
        if (n === null) break;
        end += n;
        start = this.parse(start, end);
        if (start === end) start = end = 0;
      }
    } catch (e) {
      if (!this.closed) this.error ??= `read: ${(e as Error).message}`;
    }
    this.shutdown();
  }

  private parse(start: number, end: number): number {
    const buf = this.buf;
    const view = this.view;
    while (end - start >= 8) {
      const size = view.getUint32(start + 3);
      if (size > this.buf.length - 8) throw new Error(`frame of ${size} bytes`);
      if (end - start < size + 8) break;
      const type = buf[start];
      const channel = view.getUint16(start + 1);
      const p = start + 7;
      if (type === FRAME_METHOD) this.method(channel, buf, view, p, p + size);
      else if (this.onFrame) this.onFrame(type, channel, buf, view, p, p + size);
      start += size + 8;
    }
    return start;
  }

  private method(channel: number, buf: Uint8Array, view: DataView, s: number, e: number): void {
    const mid = view.getUint32(s);
    const w = this.waiting;
    if (w && w.id === mid) {
      this.waiting = undefined;
      w.resolve(buf.slice(s + 4, e));
      return;
    }
    switch (mid) {
      case M.CLOSE:
      case M.CHANNEL_CLOSE: {
        const code = view.getUint16(s + 4);
        const text = decoder.decode(buf.subarray(s + 7, s + 7 + buf[s + 6]));
        this.error ??= `${mid === M.CLOSE ? "connection" : "channel"} closed: ${code} ${text}`;
        if (mid === M.CLOSE) {
          this.write(new FrameWriter().method(0, id(10, 51)).take()).catch(() => {});
        }
        this.shutdown();
        return;
      }
      case M.BLOCKED:
        this.blocked = true;
        return;
      case M.UNBLOCKED:
        this.blocked = false;
        return;
      default:
        this.onFrame?.(FRAME_METHOD, channel, buf, view, s, e);
    }
  }
}

export { FRAME_BODY, FRAME_HEADER, FRAME_METHOD };
