/**
 * One client connection: the protocol header, the connection-class handshake (start, tune, open),
 * heartbeats, the channel table, frame dispatch, and the output buffer that every frame for this
 * client is written into and flushed once per batch.
 */
import {
  AmqpError,
  frameError,
  internalError,
  NO_METHOD,
  unexpectedFrame,
} from "../amqp/errors.ts";
import { channelError, commandInvalid, notAllowed } from "../amqp/errors.ts";
import { parseFrames, PROTOCOL_HEADER, writeHeartbeat, writeMethodFrame } from "../amqp/frames.ts";
import { DecodeError, Reader } from "../amqp/reader.ts";
import * as spec from "../amqp/spec.ts";
import type { Method } from "../amqp/spec.ts";
import type { FieldTable } from "../amqp/table.ts";
import { Writer } from "../amqp/writer.ts";
import { isLoopbackAddress } from "../auth/users.ts";
import type { User } from "../auth/users.ts";
import { MECHANISMS, parseSaslResponse } from "../auth/sasl.ts";
import type { VHost } from "../broker/vhost.ts";
import { checkConnectionLimit } from "../broker/vhost_limits.ts";
import type { Queue } from "../broker/queue.ts";
import { log } from "../log.ts";
import { Channel } from "./channel.ts";
import { MessageStats } from "../broker/stats.ts";
import type { BrokerServer } from "./server.ts";
import type { ClientSocket } from "./tls.ts";

const enum State {
  ProtocolHeader,
  StartOk,
  TuneOk,
  Open,
  Running,
  /** We sent connection.close and wait for close-ok. */
  Closing,
  Closed,
}

/**
 * The read buffer starts small (an idle connection costs little memory) and doubles, up to
 * MAX_READ_BUFFER, whenever a read fills all the room it had: a busy publisher soon reads in
 * large batches, which is what makes parsing cheap per message.
 */
const MIN_READ_BUFFER = 2 * 1024;
/** Output buffers start this small too and double as frames need room. */
const MIN_OUTPUT_BUFFER = 1024;
const MAX_READ_BUFFER = 1024 * 1024;
/** Deliveries pause while this many bytes wait to be written to the socket. */
const OUTPUT_HIGH_WATER = 1024 * 1024;
const CLOSE_OK_TIMEOUT_MS = 3_000;
/** How often a flow-blocked connection looks whether its queues have drained. */
const FLOW_POLL_MS = 5;
/** The frame size limit used when both sides say "no limit" (frame_max 0). */
const UNLIMITED_FRAME = 0x7fffffff;

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly name: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt = Date.now();
  private state = State.ProtocolHeader;

  private readBuf = new Uint8Array(MIN_READ_BUFFER);
  private readView = new DataView(this.readBuf.buffer);
  private readStart = 0;
  private readEnd = 0;
  private readonly reader = new Reader();
  /** Set by a framing error: input is dropped from then on (see process()). */
  private framingLost = false;

  /** Frames for this client accumulate here; flush() writes them in one go. */
  out = new Writer(MIN_OUTPUT_BUFFER);
  /** The second output buffer, made on the first flush that needs it (many clients never do). */
  private spare: Writer | undefined;
  private writing = false;
  private flushScheduled = false;

  frameMax: number;
  channelMax: number;
  heartbeat = 0;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private timer: ReturnType<typeof setTimeout> | undefined;

  user: User | undefined;
  vhost: VHost | undefined;
  clientProperties: FieldTable = {};
  /** Client announced consumer_cancel_notify: it understands a server-sent basic.cancel. */
  consumerCancelNotify = false;
  /** Client announced connection.blocked: it is told when a resource alarm blocks it. */
  connectionBlocked = false;
  authFailureClose = false;
  /** Who ended the connection and why, for the "connection closed" log line. */
  private ending: { by: "client" | "broker"; code?: number; reason: string } | undefined;
  readonly channels = new Map<number, Channel>();
  /** Publishes received on this connection (deliveries are counted per channel). */
  readonly stats = new MessageStats();
  /** Bytes read from and written to the socket. */
  recvOct = 0;
  sendOct = 0;
  /** Queues this connection published into during the current read batch. */
  readonly fedQueues = new Set<Queue>();
  /** True while reading is paused because queues this connection feeds are backlogged. */
  flowBlocked = false;
  /**
   * True while reading is paused because this connection published during a resource alarm
   * (RabbitMQ's "blocked" state); see {@link holdForAlarm}.
   */
  alarmBlocked = false;
  /** Set by a basic.publish during an alarm: frames after it wait until the alarm clears. */
  private holdReading = false;
  /** Ends a wait for the alarm to clear early (the connection closes). */
  private alarmWake: (() => void) | undefined;
  /** Channels with publisher confirms to write before the next flush. */
  readonly pendingConfirms = new Set<Channel>();

  constructor(
    private readonly socket: ClientSocket,
    readonly server: BrokerServer,
    /** Accepted on an AMQPS listener (the management API's `ssl`). */
    readonly tls = false,
  ) {
    // Small replies (confirms, get-ok) must not wait for the peer's delayed ACK (Nagle): 40 ms
    // stalls per round trip were measured without this. Writes are coalesced per batch anyway.
    (socket as Deno.TcpConn).setNoDelay?.(true);
    const addr = socket.remoteAddr as Deno.NetAddr;
    this.remoteAddress = addr.hostname;
    this.remotePort = addr.port;
    const local = socket.localAddr as Deno.NetAddr;
    this.name = `${addr.hostname}:${addr.port} -> ${local.hostname}:${local.port}`;
    this.frameMax = server.options.frameMax || UNLIMITED_FRAME;
    this.channelMax = server.options.channelMax;
  }

  get isOpen(): boolean {
    return this.state === State.Running;
  }

  /** Reads and handles frames until the socket closes. Never throws. */
  async run(): Promise<void> {
    this.timer = setTimeout(() => {
      if (this.state < State.Running) {
        log.warn("closing connection: handshake timeout", { connection: this.name });
        this.ending = { by: "broker", reason: "handshake timeout" };
        this.terminate();
      }
    }, this.server.options.handshakeTimeoutMs);
    try {
      while (this.state !== State.Closed) {
        if (this.readEnd === this.readBuf.length) this.makeRoom();
        const room = this.readBuf.length - this.readEnd;
        if (room === 0) {
          // Cannot happen while makeRoom fits any frame under frame_max; never spin on it.
          log.error("closing connection: no room to read", { connection: this.name });
          break;
        }
        const n = await this.socket.read(this.readBuf.subarray(this.readEnd));
        if (n === null) break;
        if (this.framingLost) {
          // After a framing error the input cannot be parsed: drop it until the socket closes.
          this.readStart = this.readEnd = 0;
          continue;
        }
        this.readEnd += n;
        if (n === room && this.readBuf.length < MAX_READ_BUFFER) this.growReadBuffer();
        this.recvOct += n;
        this.server.socketIo++;
        this.lastReceived = Date.now();
        this.process();
        if (this.out.pos > 0) this.flush();
        if (this.fedQueues.size > 0) await this.flowControl();
        while (this.holdReading) {
          await this.holdForAlarm();
          // The frames that arrived after the publish are still in the buffer.
          this.process();
          if (this.out.pos > 0) this.flush();
          if (this.fedQueues.size > 0) await this.flowControl();
        }
      }
    } catch (err) {
      if (this.state !== State.Closed && !(err instanceof Deno.errors.BadResource)) {
        log.debug("connection read failed", { connection: this.name, error: String(err) });
      }
    } finally {
      this.terminate();
    }
  }

  /**
   * Flow control: while a queue this connection just published into is backlogged (its
   * consumers are not keeping up), stop reading this socket, so memory does not grow without
   * bound and consumers get the CPU. The client notices only as TCP backpressure.
   */
  private async flowControl(): Promise<void> {
    let blocked: Queue[] | undefined;
    for (const q of this.fedQueues) if (q.congested) (blocked ??= []).push(q);
    this.fedQueues.clear();
    if (!blocked) return;
    this.flowBlocked = true;
    while (this.state !== State.Closed && blocked.some((q) => q.congested && !q.deleted)) {
      await new Promise((r) => setTimeout(r, FLOW_POLL_MS));
      this.lastReceived = Date.now(); // a paused reader has not missed the client's heartbeats
    }
    this.flowBlocked = false;
  }

  /**
   * Resource alarms: a connection that publishes while an alarm is on is no longer read from
   * until every alarm has cleared, as RabbitMQ does. It gets connection.blocked (and later
   * connection.unblocked) when it announced that capability. Deliveries to it go on; its
   * heartbeats are not expected meanwhile.
   */
  private async holdForAlarm(): Promise<void> {
    const alarms = this.server.alarms;
    if (alarms.blocked && this.state === State.Running) {
      this.alarmBlocked = true;
      if (this.connectionBlocked) {
        this.send(0, { id: spec.CONNECTION_BLOCKED, reason: alarms.reason });
      }
      log.debug("connection blocked by resource alarm", {
        connection: this.name,
        reason: alarms.reason,
      });
      while (alarms.blocked && this.state === State.Running) {
        await Promise.race([
          alarms.whenClear(),
          new Promise<void>((resolve) => this.alarmWake = resolve),
        ]);
      }
      this.alarmWake = undefined;
      this.alarmBlocked = false;
      this.lastReceived = Date.now();
      if (this.connectionBlocked && this.state === State.Running) {
        this.send(0, { id: spec.CONNECTION_UNBLOCKED });
      }
    }
    this.holdReading = false;
  }

  /** Doubles the read buffer, keeping what is unread. */
  private growReadBuffer(): void {
    const buf = new Uint8Array(Math.min(MAX_READ_BUFFER, this.readBuf.length * 2));
    buf.set(this.readBuf.subarray(this.readStart, this.readEnd), 0);
    this.readEnd -= this.readStart;
    this.readStart = 0;
    this.readBuf = buf;
    this.readView = new DataView(buf.buffer);
  }

  /**
   * Moves the unread tail to the front, growing the buffer when a frame needs more room: up to
   * MAX_READ_BUFFER, or to the size of the frame being read when that is larger (frame_max can
   * allow more; parseFrames has already refused a frame over frame_max by its size field).
   */
  private makeRoom(): void {
    const pending = this.readEnd - this.readStart;
    let buf = this.readBuf;
    if (this.readStart === 0) {
      const frame = pending >= 7 ? this.readView.getUint32(this.readStart + 3) + 8 : 0;
      const size = Math.max(Math.min(MAX_READ_BUFFER, buf.length * 2), frame);
      if (size > buf.length) {
        buf = new Uint8Array(size);
        this.readView = new DataView(buf.buffer);
      }
    }
    buf.set(this.readBuf.subarray(this.readStart, this.readEnd), 0);
    this.readBuf = buf;
    this.readStart = 0;
    this.readEnd = pending;
  }

  private process(): void {
    try {
      if (this.state === State.ProtocolHeader) {
        if (this.readEnd - this.readStart < 8) {
          if (!matchesHeaderPrefix(this.readBuf, this.readStart, this.readEnd)) {
            this.rejectProtocolHeader();
          }
          return;
        }
        if (!matchesHeaderPrefix(this.readBuf, this.readStart, this.readStart + 8)) {
          return this.rejectProtocolHeader();
        }
        this.readStart += 8;
        this.state = State.StartOk;
        this.sendStart();
      }
      this.readStart = parseFrames(
        this.readBuf,
        this.readView,
        this.readStart,
        this.readEnd,
        this.frameMax,
        this.onFrame,
        () => this.state === State.Closed || this.holdReading,
      );
      if (this.readStart === this.readEnd) this.readStart = this.readEnd = 0;
    } catch (err) {
      // Frame handlers catch their own errors: what lands here broke the framing itself (a frame
      // over frame_max, a bad frame end), so nothing after it can be read as frames.
      this.framingLost = true;
      this.readStart = this.readEnd = 0;
      this.handleError(err, 0);
    }
  }

  private rejectProtocolHeader(): void {
    log.warn("closing connection: unsupported protocol header", { connection: this.name });
    this.ending = { by: "broker", reason: "unsupported protocol header" };
    this.out.raw(PROTOCOL_HEADER);
    this.flush().finally(() => this.terminate());
    this.state = State.Closed;
  }

  private readonly onFrame = (
    type: number,
    channelId: number,
    buf: Uint8Array,
    start: number,
    end: number,
  ): void => {
    if (this.state === State.Closing) {
      // Only connection.close / close-ok matter once we have sent connection.close.
      if (type === spec.FRAME_METHOD && channelId === 0) this.handleClosingMethod(buf, start, end);
      return;
    }
    try {
      switch (type) {
        case spec.FRAME_METHOD: {
          if (end - start < 4) throw frameError(`method frame of ${end - start} bytes`);
          const r = this.reader;
          r.reset(buf, start, end);
          const id = r.long();
          try {
            const method = decode(id, r);
            if (channelId === 0) this.onConnectionMethod(method);
            else {
              this.channelFor(channelId, method).onMethod(method);
              if (id === spec.BASIC_PUBLISH && this.server.alarms.blocked) this.holdReading = true;
            }
          } catch (err) {
            // Errors name the method that caused them unless they already name one.
            const e = err instanceof DecodeError
              ? frameError(`cannot decode ${spec.METHOD_NAMES[id]}: ${err.message}`)
              : err;
            if (e instanceof AmqpError && e.methodId === 0) e.methodId = id;
            throw e;
          }
          return;
        }
        case spec.FRAME_HEADER:
        case spec.FRAME_BODY: {
          if (channelId === 0 || this.state !== State.Running) {
            throw unexpectedFrame(`content frame (type ${type}) on channel ${channelId}`);
          }
          const ch = this.channels.get(channelId);
          if (!ch) throw channelError(`expected 'channel.open' on channel ${channelId}`);
          if (type === spec.FRAME_HEADER) ch.onContentHeader(buf, start, end);
          else ch.onContentBody(buf, start, end);
          return;
        }
        case spec.FRAME_HEARTBEAT:
          if (channelId !== 0) throw unexpectedFrame(`heartbeat frame on channel ${channelId}`);
          if (end !== start) throw frameError(`heartbeat frame with a ${end - start}-byte payload`);
          return;
        default:
          throw frameError(`unknown frame type ${type}`);
      }
    } catch (err) {
      this.handleError(err, channelId);
    }
  };

  private channelFor(id: number, method: Method): Channel {
    if (this.state !== State.Running) {
      throw channelError(
        `unexpected method ${spec.METHOD_NAMES[method.id]} before connection.open-ok`,
      );
    }
    if (method.id >>> 16 === spec.CLASS_CONNECTION) throw commandInvalid("unimplemented method");
    const existing = this.channels.get(id);
    if (method.id === spec.CHANNEL_OPEN) {
      if (existing) throw channelError(`second 'channel.open' seen on channel ${id}`);
      if (id > this.channelMax) {
        throw notAllowed(`channel id ${id} exceeds the negotiated channel_max ${this.channelMax}`);
      }
      const ch = new Channel(id, this);
      this.channels.set(id, ch);
      return ch;
    }
    if (!existing) throw channelError(`expected 'channel.open' on channel ${id}`);
    return existing;
  }

  /** Routes an error to a channel close (soft) or a connection close (hard). */
  private handleError(err: unknown, channelId: number): void {
    let e: AmqpError;
    if (err instanceof AmqpError) e = err;
    else if (err instanceof DecodeError) {
      e = new AmqpError(spec.FRAME_ERROR, `cannot decode frame: ${err.message}`);
    } else {
      log.error("internal error", {
        connection: this.name,
        error: String((err as Error)?.stack ?? err),
      });
      e = internalError(String((err as Error)?.message ?? err));
    }
    const ch = channelId === 0 ? undefined : this.channels.get(channelId);
    if (!e.hard && ch) {
      ch.closeWithError(e);
    } else {
      this.closeWithError(e);
    }
  }

  // ---- connection class

  private sendStart(): void {
    const o = this.server.options;
    this.send(0, {
      id: spec.CONNECTION_START,
      versionMajor: spec.VERSION_MAJOR,
      versionMinor: spec.VERSION_MINOR,
      serverProperties: {
        product: o.product,
        version: o.version,
        platform: `Deno ${Deno.version.deno}`,
        copyright: "broker contributors",
        information: "AMQP 0-9-1 broker compatible with RabbitMQ",
        cluster_name: o.clusterName,
        capabilities: {
          publisher_confirms: true,
          exchange_exchange_bindings: true,
          "basic.nack": true,
          consumer_cancel_notify: true,
          "connection.blocked": true,
          consumer_priorities: false,
          authentication_failure_close: true,
          per_consumer_qos: true,
          direct_reply_to: true,
        },
      },
      mechanisms: MECHANISMS,
      locales: "en_US",
    });
  }

  private onConnectionMethod(m: Method): void {
    switch (m.id) {
      case spec.CONNECTION_START_OK:
        return this.onStartOk(m);
      case spec.CONNECTION_TUNE_OK:
        return this.onTuneOk(m);
      case spec.CONNECTION_OPEN:
        return this.onOpen(m);
      case spec.CONNECTION_CLOSE:
        this.ending ??= { by: "client", code: m.replyCode, reason: m.replyText };
        this.send(0, { id: spec.CONNECTION_CLOSE_OK });
        this.state = State.Closed;
        this.flush().finally(() => this.terminate());
        return;
      case spec.CONNECTION_CLOSE_OK:
        return this.terminate();
      case spec.CONNECTION_BLOCKED:
      case spec.CONNECTION_UNBLOCKED:
        return;
      case spec.CONNECTION_UPDATE_SECRET:
        this.send(0, { id: spec.CONNECTION_UPDATE_SECRET_OK });
        return;
      default:
        if (this.state === State.Running) {
          throw channelError("unexpected method in connection state running");
        }
        throw commandInvalid(`unexpected method ${spec.METHOD_NAMES[m.id]} on channel 0`);
    }
  }

  private expectState(state: State, m: Method): void {
    if (this.state !== state) {
      throw commandInvalid(`unexpected method ${spec.METHOD_NAMES[m.id]} in this connection state`);
    }
  }

  private onStartOk(m: spec.ConnectionStartOk): void {
    this.expectState(State.StartOk, m);
    this.clientProperties = m.clientProperties;
    const caps = m.clientProperties.capabilities;
    if (caps && typeof caps === "object" && !Array.isArray(caps)) {
      const c = caps as FieldTable;
      this.consumerCancelNotify = c.consumer_cancel_notify === true;
      this.connectionBlocked = c["connection.blocked"] === true;
      this.authFailureClose = c.authentication_failure_close === true;
    }
    const response = typeof m.response === "string"
      ? new TextEncoder().encode(m.response)
      : m.response;
    const creds = parseSaslResponse(m.mechanism, response);
    const user = creds && this.server.broker.users.authenticate(creds.username, creds.password);
    const loopbackDenied = user && this.server.options.loopbackUsers.includes(user.name) &&
      !isLoopbackAddress(this.remoteAddress);
    if (!user || loopbackDenied) {
      log.warn("login refused", {
        connection: this.name,
        peer: `${this.remoteAddress}:${this.remotePort}`,
        user: creds?.username,
        mechanism: m.mechanism,
        reason: !creds
          ? "bad mechanism or response"
          : loopbackDenied
          ? "loopback-only user"
          : "invalid credentials",
      });
      throw new AmqpError(
        spec.ACCESS_REFUSED,
        `Login was refused using authentication mechanism ${m.mechanism}. For details see the broker logfile.`,
        true,
        NO_METHOD,
      );
    }
    this.user = user;
    this.state = State.TuneOk;
    this.send(0, {
      id: spec.CONNECTION_TUNE,
      channelMax: this.server.options.channelMax,
      frameMax: this.server.options.frameMax,
      heartbeat: this.server.options.heartbeat,
    });
  }

  private onTuneOk(m: spec.ConnectionTuneOk): void {
    this.expectState(State.TuneOk, m);
    const o = this.server.options;
    if (m.frameMax !== 0 && m.frameMax < spec.FRAME_MIN_SIZE / 2) {
      throw new AmqpError(
        spec.NOT_ALLOWED,
        `frame_max=${m.frameMax} < ${spec.FRAME_MIN_SIZE / 2} min size`,
      );
    }
    const serverMax = o.frameMax || UNLIMITED_FRAME; // frame_max = 0: no limit
    if (m.frameMax > serverMax) {
      throw new AmqpError(spec.NOT_ALLOWED, `frame_max=${m.frameMax} > ${o.frameMax} max size`);
    }
    if (m.channelMax > o.channelMax && o.channelMax !== 0) {
      throw new AmqpError(spec.NOT_ALLOWED, `channel_max=${m.channelMax} > ${o.channelMax} max`);
    }
    this.frameMax = m.frameMax === 0 ? serverMax : m.frameMax;
    this.channelMax = m.channelMax === 0 ? (o.channelMax || 65535) : m.channelMax;
    this.heartbeat = m.heartbeat;
    this.state = State.Open;
    this.startHeartbeat();
  }

  private onOpen(m: spec.ConnectionOpen): void {
    this.expectState(State.Open, m);
    const vhost = this.server.broker.vhosts.get(m.virtualHost);
    if (!vhost) {
      throw new AmqpError(spec.NOT_ALLOWED, `vhost ${m.virtualHost} not found`);
    }
    checkConnectionLimit(vhost, this.user!.name, this.server.connections);
    if (!this.server.broker.permissions.get(this.user!.name, vhost.name)) {
      log.warn("vhost access refused", {
        connection: this.name,
        user: this.user!.name,
        vhost: vhost.name,
      });
      throw new AmqpError(
        spec.NOT_ALLOWED,
        `access to vhost '${vhost.name}' refused for user '${this.user!.name}'`,
      );
    }
    this.vhost = vhost;
    this.state = State.Running;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.startHeartbeat();
    this.send(0, { id: spec.CONNECTION_OPEN_OK, knownHosts: "" });
    const client = this.clientProperties;
    log.info("connection opened", {
      connection: this.name,
      user: this.user?.name,
      vhost: vhost.name,
      peer: `${this.remoteAddress}:${this.remotePort}`,
      client_product: typeof client.product === "string" ? client.product : undefined,
      connection_name: typeof client.connection_name === "string"
        ? client.connection_name
        : undefined,
    });
  }

  private startHeartbeat(): void {
    if (this.heartbeat === 0 || this.state !== State.Running) return;
    const intervalMs = this.heartbeat * 1000;
    this.timer = setInterval(() => {
      const now = Date.now();
      if (this.alarmBlocked) this.lastReceived = now; // a blocked reader misses no heartbeats
      if (now - this.lastReceived > intervalMs * 2) {
        log.warn("closing connection: missed heartbeats from client", {
          connection: this.name,
          timeout: `${this.heartbeat}s`,
        });
        this.ending = {
          by: "broker",
          reason: `missed heartbeats from client, timeout: ${this.heartbeat}s`,
        };
        return this.terminate();
      }
      if (now - this.lastSent >= intervalMs / 2 - 50) {
        writeHeartbeat(this.out);
        this.flush();
      }
    }, intervalMs / 2);
  }

  private handleClosingMethod(buf: Uint8Array, start: number, end: number): void {
    const r = this.reader;
    r.reset(buf, start, end);
    try {
      const id = r.long();
      if (id === spec.CONNECTION_CLOSE_OK) this.terminate();
      else if (id === spec.CONNECTION_CLOSE) {
        this.send(0, { id: spec.CONNECTION_CLOSE_OK });
        this.flush().finally(() => this.terminate());
      }
    } catch {
      this.terminate();
    }
  }

  /** Sends connection.close with the error and waits (briefly) for close-ok. */
  closeWithError(e: AmqpError): void {
    if (this.state === State.Closing || this.state === State.Closed) return;
    log.warn("closing connection", {
      connection: this.name,
      code: e.code,
      reason: e.text,
      method: e.methodName,
    });
    this.ending ??= { by: "broker", code: e.code, reason: e.text };
    if (this.state === State.StartOk && e.code === spec.ACCESS_REFUSED && !this.authFailureClose) {
      // Clients that did not announce authentication_failure_close expect the socket to drop.
      return this.terminate();
    }
    this.send(0, closeMethod(e));
    this.shutdownChannels();
    this.state = State.Closing;
    this.alarmWake?.();
    this.flush();
    setTimeout(() => this.terminate(), CLOSE_OK_TIMEOUT_MS);
  }

  /** Server-initiated close (shutdown, admin action): 320 CONNECTION_FORCED by default. */
  forceClose(text = "broker forced connection closure", code = spec.CONNECTION_FORCED): void {
    this.ending ??= { by: "broker", code, reason: text };
    if (this.state < State.Running) return this.terminate();
    this.closeWithError(new AmqpError(code, text, true));
  }

  // ---- output

  send(channel: number, method: Method): void {
    writeMethodFrame(this.out, channel, method);
    this.scheduleFlush();
  }

  /** Whether deliveries may add more to the output buffer (backpressure on a slow socket). */
  get writable(): boolean {
    return this.out.pos < OUTPUT_HIGH_WATER;
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes everything buffered; frames written meanwhile go into the other buffer. */
  async flush(): Promise<void> {
    if (this.writing) return;
    for (const ch of this.pendingConfirms) ch.writeConfirms();
    this.pendingConfirms.clear();
    if (this.out.pos === 0) return;
    this.writing = true;
    let resumed = false;
    try {
      while (this.out.pos > 0) {
        const batch = this.out;
        this.out = this.spare ??= new Writer(MIN_OUTPUT_BUFFER);
        this.spare = batch;
        const wasBlocked = batch.pos >= OUTPUT_HIGH_WATER;
        const data = batch.bytes();
        let off = 0;
        while (off < data.length) off += await this.socket.write(data.subarray(off));
        this.sendOct += data.length;
        this.server.socketIo++;
        this.lastSent = Date.now();
        batch.clear();
        if (batch.buf.length > 4 * 1024 * 1024) this.spare = new Writer(MIN_OUTPUT_BUFFER);
        if (wasBlocked && !resumed) resumed = true;
        for (const ch of this.pendingConfirms) ch.writeConfirms();
        this.pendingConfirms.clear();
      }
    } catch {
      this.writing = false;
      this.terminate();
      return;
    }
    this.writing = false;
    // An idle connection keeps one small buffer, not two (busy ones keep their grown pair).
    if (this.spare !== undefined && this.spare.buf.length <= MIN_OUTPUT_BUFFER) {
      this.spare = undefined;
    }
    if (resumed) { for (const ch of this.channels.values()) ch.resumeDeliveries(); }
  }

  // ---- teardown

  channelClosed(ch: Channel): void {
    if (this.channels.delete(ch.id)) this.server.totals.channelClosed(ch.stats);
    this.pendingConfirms.delete(ch);
  }

  private shutdownChannels(): void {
    for (const ch of this.channels.values()) {
      ch.shutdown();
      this.server.totals.channelClosed(ch.stats);
    }
    this.channels.clear();
    this.pendingConfirms.clear();
    this.vhost?.connectionClosed(this);
  }

  /** Closes the socket and releases everything the connection held. Idempotent. */
  terminate(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      clearInterval(this.timer);
      this.timer = undefined;
    }
    const wasClosed = this.state === State.Closed && this.socketClosed;
    if (wasClosed) return;
    this.state = State.Closed;
    this.logEnded();
    this.alarmWake?.();
    this.shutdownChannels();
    if (!this.socketClosed) {
      this.socketClosed = true;
      if (this.writing || this.out.pos > 0) {
        // Let pending frames (e.g. close, close-ok) go out first.
        this.flush().finally(() => this.closeSocket());
      } else this.closeSocket();
    }
    this.server.connectionClosed(this);
  }

  private socketClosed = false;

  /**
   * One line per connection that ends: who closed it and why. A socket that closed without a
   * word (a port probe) is logged at debug level only; one dropped mid-protocol is a warning.
   */
  private logEnded(): void {
    const e = this.ending ?? { by: "client", reason: "client unexpectedly closed TCP connection" };
    const write = this.ending ? log.info : this.recvOct === 0 ? log.debug : log.warn;
    write("connection closed", {
      connection: this.name,
      user: this.user?.name,
      vhost: this.vhost?.name,
      peer: `${this.remoteAddress}:${this.remotePort}`,
      by: e.by,
      code: e.code,
      reason: e.reason,
    });
  }

  private closeSocket(): void {
    try {
      this.socket.close();
    } catch { /* already closed */ }
  }
}

function closeMethod(e: AmqpError): Method {
  return {
    id: spec.CONNECTION_CLOSE,
    replyCode: e.code,
    replyText: e.text.slice(0, 255),
    classId: e.classId,
    methodId: e.methodIndex,
  };
}

/** Decodes a method's arguments, which must fill the frame exactly. */
function decode(id: number, r: Reader): Method {
  const m = spec.decodeMethod(id, r);
  if (m && r.pos !== r.end) throw new DecodeError(`${r.end - r.pos} byte(s) after the arguments`);
  if (!m) {
    throw new AmqpError(
      spec.COMMAND_INVALID,
      `unknown method class ${id >>> 16} method ${id & 0xffff}`,
      true,
    );
  }
  return m;
}

function matchesHeaderPrefix(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== PROTOCOL_HEADER[i - start]) return false;
  return true;
}
