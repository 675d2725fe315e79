/**
 * One AMQP channel: the method state machine for classes channel, exchange, queue, basic, confirm
 * and tx; content assembly (publish → header → body frames); consumers and their prefetch credit;
 * the unacked map keyed by delivery tag; publisher confirms and transactions.
 */
import {
  accessRefused,
  AmqpError,
  NO_METHOD,
  notAllowed,
  notFound,
  notImplemented,
  preconditionFailed,
  unexpectedFrame,
} from "../amqp/errors.ts";
import { frameError } from "../amqp/errors.ts";
import {
  writeBodyFrames,
  writeDelivery,
  writeHeaderFrame,
  writeMethodFrame,
} from "../amqp/frames.ts";
import * as spec from "../amqp/spec.ts";
import type { Method } from "../amqp/spec.ts";
import type { Consumer, Queue } from "../broker/queue.ts";
import { hasExpiration, internProperties, Message, parseExpiration } from "../broker/message.ts";
import { bodyBuffer, SLAB_MAX_BODY } from "../broker/body_slab.ts";
import type { QueuedMessage } from "../broker/message.ts";
import { generatedConsumerTag } from "../broker/names.ts";
import { ENQUEUE_PERSISTED, ENQUEUE_REJECTED } from "../broker/vhost.ts";
import type { VHost } from "../broker/vhost.ts";
import type { Connection } from "./connection.ts";
import {
  deliverReply,
  hasReplyTo,
  isReplyKey,
  isReplyQueue,
  REPLY_QUEUE,
  rewriteReplyTo,
  startReplyConsumer,
  stopReplyConsumer,
} from "./direct_reply_to.ts";
import type { ReplyConsumer } from "./direct_reply_to.ts";
import { MessageStats } from "../broker/stats.ts";
import { MAX_TIMER_MS } from "../config/values.ts";
import { resourceName, resourceRefused } from "../auth/permissions.ts";
import type { AccessKind, ResourceType } from "../auth/permissions.ts";

/** A message delivered on this channel and not yet acknowledged. */
interface Unacked {
  qm: QueuedMessage;
  queue: Queue;
  consumer: ChannelConsumer | undefined;
  /** When it was delivered (Date.now()), for the consumer timeout. */
  at: number;
}

/** A publish waiting for its content header and body. */
interface PendingPublish {
  exchange: string;
  routingKey: string;
  mandatory: boolean;
  properties: Uint8Array | undefined;
  bodySize: number;
  body: Uint8Array | undefined;
  received: number;
}

/** basic.ack / nack / reject as recorded inside a transaction. */
interface TxSettle {
  kind: "ack" | "reject";
  tag: number;
  multiple: boolean;
  requeue: boolean;
}

const USER_ID_FLAG = 1 << (15 - 11);

/** Whether the raw property flags include user-id (checked without decoding the properties). */
const hasUserId = (props: Uint8Array) =>
  props.length >= 2 && (((props[0] << 8) | props[1]) & USER_ID_FLAG) !== 0;
const EMPTY = new Uint8Array(0);

const readUint32 = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

/** Bodies start in a buffer this large (or the body's size) and grow as frames arrive. */
const INITIAL_BODY_BUFFER = 256 * 1024;

/** An error in content assembly names basic.publish, the method the content belongs to. */
function publishError(e: AmqpError): AmqpError {
  e.methodId = spec.BASIC_PUBLISH;
  return e;
}

/** 505 for a frame that arrived where a publish's header or body belonged. */
function contentExpected(p: PendingPublish): AmqpError {
  return publishError(unexpectedFrame(
    p.properties
      ? "expected content body, got non content body frame instead"
      : "expected content header for class 60, got non content header frame instead",
  ));
}

/** A consumer on this channel, as a queue sees it. */
export class ChannelConsumer implements Consumer {
  unacked = 0;

  constructor(
    readonly channel: Channel,
    readonly tag: string,
    readonly queue: Queue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly prefetch: number,
    readonly priority = 0,
  ) {}

  canDeliver(): boolean {
    const ch = this.channel;
    if (!ch.conn.writable) return false;
    if (this.noAck) return true;
    if (this.prefetch > 0 && this.unacked >= this.prefetch) return false;
    return ch.globalPrefetch === 0 || ch.consumerUnacked < ch.globalPrefetch;
  }

  deliver(qm: QueuedMessage, queue: Queue): void {
    this.channel.deliver(this, qm, queue);
  }

  cancelledByServer(_queue: Queue): void {
    this.channel.serverCancel(this);
  }
}

export class Channel {
  private closing = false;
  private pending: PendingPublish | undefined;
  private readonly assembly: PendingPublish = {
    exchange: "",
    routingKey: "",
    mandatory: false,
    properties: undefined,
    bodySize: 0,
    body: undefined,
    received: 0,
  };
  /** The exchange the last write permission check passed for, and the permissions' version. */
  private writeChecked: string | undefined;
  private writeCheckedVersion = -1;
  private nextDeliveryTag = 1;
  private readonly unacked = new Map<number, Unacked>();
  /** Unacked deliveries to consumers (not basic.get), counted against global prefetch. */
  consumerUnacked = 0;
  private readonly consumers = new Map<string, ChannelConsumer>();
  private prefetch = 0;
  globalPrefetch = 0;
  private lastQueue = "";
  /** Results of permission checks, valid while the permission table's version is unchanged. */
  private readonly permCache = new Map<string, boolean>();
  readonly stats = new MessageStats();
  /** Scratch for the queues one publish is routed to (see route()). */
  private readonly routed = new Set<Queue>();
  private permVersion = -1;

  private confirmMode = false;
  private publishSeq = 0;
  private confirmedUpTo = 0;
  /** Sequences of publishes a full queue refused (reject-publish), to be nacked, ascending. */
  private readonly rejectedSeqs: number[] = [];
  /**
   * Persisted publishes waiting for an fsync, grouped by the fsync that will cover them, oldest
   * first (fsyncs complete in order). No confirm may pass the first group's first sequence.
   */
  private readonly syncGroups: { promise: Promise<void>; first: number }[] = [];
  private tx: { publishes: Message[]; mandatory: boolean[]; settles: TxSettle[] } | undefined;
  /** The consumer of `amq.rabbitmq.reply-to` on this channel (direct reply-to), if any. */
  private replyConsumer: ReplyConsumer | undefined;
  /**
   * The consumer-timeout check: armed by a delivery when none is pending, for when the oldest
   * unacked delivery would expire. It is not cleared by acks (re-arming per message would cost a
   * timer each); when it fires it re-arms only while deliveries are still unacked.
   */
  private ackTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly id: number, readonly conn: Connection) {}

  get consumerCount(): number {
    return this.consumers.size;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  /** Prefetch applied to consumers started from now on (basic.qos global=false). */
  get prefetchCount(): number {
    return this.prefetch;
  }

  consumerList(): ChannelConsumer[] {
    return [...this.consumers.values()];
  }

  private get vhost(): VHost {
    return this.conn.vhost!;
  }

  /** 403 unless the user may do `kind` to the named resource (RabbitMQ's access-control rules). */
  private check(kind: AccessKind, type: ResourceType, name: string): void {
    const perms = this.conn.server.broker.permissions;
    if (perms.version !== this.permVersion) {
      this.permCache.clear();
      this.permVersion = perms.version;
    }
    const key = `${kind}\0${type}\0${name}`;
    let ok = this.permCache.get(key);
    if (ok === undefined) {
      const p = perms.get(this.conn.user!.name, this.vhost.name);
      ok = p !== undefined && p.allows(kind, resourceName(type, name));
      if (this.permCache.size >= 256) this.permCache.clear();
      this.permCache.set(key, ok);
    }
    if (!ok) throw resourceRefused(type, name, this.vhost.name, this.conn.user!.name);
  }

  private send(m: Method): void {
    this.conn.send(this.id, m);
  }

  // ---- frames

  onMethod(m: Method): void {
    if (this.closing) {
      // After we sent channel.close only close-ok (or the peer's own close) counts.
      if (m.id === spec.CHANNEL_CLOSE_OK) this.conn.channelClosed(this);
      else if (m.id === spec.CHANNEL_CLOSE) {
        this.send({ id: spec.CHANNEL_CLOSE_OK });
        this.conn.channelClosed(this);
      }
      return;
    }
    if (this.pending) throw contentExpected(this.pending);
    this.dispatch(m);
  }

  onContentHeader(buf: Uint8Array, start: number, end: number): void {
    if (this.closing) return;
    const p = this.pending;
    if (!p) throw unexpectedFrame("expected method frame, got non method frame instead");
    if (p.properties) throw contentExpected(p);
    if (end - start < 14) throw publishError(frameError("content header frame too short"));
    const classId = (buf[start] << 8) | buf[start + 1];
    if (classId !== spec.CLASS_BASIC) {
      throw publishError(unexpectedFrame(
        `expected content header for class 60, got one for class ${classId} instead`,
      ));
    }
    const size = readUint32(buf, start + 4) * 0x100000000 + readUint32(buf, start + 8);
    const max = this.conn.server.options.maxMessageSize;
    if (size > max) {
      throw preconditionFailed(`message size ${size} is larger than configured max size ${max}`);
    }
    p.properties = internProperties(buf, start + 12, end);
    p.bodySize = size;
    if (size === 0) return this.completePublish(p, EMPTY);
    // Grow towards the announced size as bytes arrive, rather than trusting the claim up front.
    p.body = size <= SLAB_MAX_BODY
      ? bodyBuffer(size)
      : new Uint8Array(Math.min(size, INITIAL_BODY_BUFFER));
  }

  onContentBody(buf: Uint8Array, start: number, end: number): void {
    if (this.closing) return;
    const p = this.pending;
    if (!p) throw unexpectedFrame("expected method frame, got non method frame instead");
    if (!p.body) throw contentExpected(p);
    const n = end - start;
    const total = p.received + n;
    if (total > p.bodySize) {
      throw publishError(
        frameError(`content body of ${total} bytes exceeds the announced ${p.bodySize}`),
      );
    }
    if (total > p.body.length) {
      const grown = new Uint8Array(Math.min(p.bodySize, Math.max(total, p.body.length * 2)));
      grown.set(p.body.subarray(0, p.received));
      p.body = grown;
    }
    p.body.set(buf.subarray(start, end), p.received);
    p.received = total;
    if (total === p.bodySize) this.completePublish(p, p.body);
  }

  // ---- method dispatch

  private dispatch(m: Method): void {
    switch (m.id) {
      case spec.CHANNEL_OPEN:
        return this.send({ id: spec.CHANNEL_OPEN_OK, channelId: "" });
      case spec.CHANNEL_CLOSE:
        this.shutdown();
        this.send({ id: spec.CHANNEL_CLOSE_OK });
        this.conn.channelClosed(this);
        return;
      case spec.CHANNEL_CLOSE_OK:
        return;
      case spec.CHANNEL_FLOW:
        // RabbitMQ has refused client-side flow control since 3.3; prefetch does that job.
        if (!m.active) throw notImplemented("active=false");
        return this.send({ id: spec.CHANNEL_FLOW_OK, active: true });
      case spec.CHANNEL_FLOW_OK:
        return;
      case spec.ACCESS_REQUEST:
        return this.send({ id: spec.ACCESS_REQUEST_OK, ticket: 1 });
      case spec.EXCHANGE_DECLARE:
        return this.exchangeDeclare(m);
      case spec.EXCHANGE_DELETE:
        this.vhost.checkDeletable(m.exchange);
        this.check("configure", "exchange", m.exchange);
        this.vhost.deleteExchange(m.exchange, m.ifUnused);
        if (!m.nowait) this.send({ id: spec.EXCHANGE_DELETE_OK });
        return;
      case spec.EXCHANGE_BIND:
        this.check("write", "exchange", m.destination);
        this.check("read", "exchange", m.source);
        this.vhost.bindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.send({ id: spec.EXCHANGE_BIND_OK });
        return;
      case spec.EXCHANGE_UNBIND:
        this.check("write", "exchange", m.destination);
        this.check("read", "exchange", m.source);
        this.vhost.unbindExchange(m.destination, m.source, m.routingKey, m.arguments);
        if (!m.nowait) this.send({ id: spec.EXCHANGE_UNBIND_OK });
        return;
      case spec.QUEUE_DECLARE:
        if (isReplyQueue(this.conn.server.broker, m.queue, m.passive)) {
          if (m.nowait) return;
          return this.send({
            id: spec.QUEUE_DECLARE_OK,
            queue: m.queue,
            messageCount: 0,
            consumerCount: 1,
          });
        }
        return this.queueDeclare(m);
      case spec.QUEUE_BIND: {
        const name = this.queueName(m.queue);
        const key = m.routingKey === "" && m.queue === "" ? name : m.routingKey;
        this.check("write", "queue", name);
        this.vhost.checkBindable(m.exchange);
        this.check("read", "exchange", m.exchange);
        this.vhost.bindQueue(name, m.exchange, key, m.arguments, this.conn);
        if (!m.nowait) this.send({ id: spec.QUEUE_BIND_OK });
        return;
      }
      case spec.QUEUE_UNBIND: {
        const name = this.queueName(m.queue);
        const key = m.routingKey === "" && m.queue === "" ? name : m.routingKey;
        this.check("write", "queue", name);
        this.vhost.checkBindable(m.exchange);
        this.check("read", "exchange", m.exchange);
        this.vhost.unbindQueue(name, m.exchange, key, m.arguments);
        return this.send({ id: spec.QUEUE_UNBIND_OK });
      }
      case spec.QUEUE_PURGE: {
        this.check("read", "queue", this.queueName(m.queue));
        const count = this.queueNamed(m.queue).purge();
        if (!m.nowait) this.send({ id: spec.QUEUE_PURGE_OK, messageCount: count });
        return;
      }
      case spec.QUEUE_DELETE: {
        const name = this.queueName(m.queue);
        this.check("configure", "queue", name);
        const count = this.vhost.deleteQueue(name, this.conn, m.ifUnused, m.ifEmpty);
        if (!m.nowait) this.send({ id: spec.QUEUE_DELETE_OK, messageCount: count });
        return;
      }
      case spec.BASIC_QOS:
        return this.basicQos(m);
      case spec.BASIC_CONSUME:
        if (m.queue === REPLY_QUEUE) return this.replyConsume(m);
        return this.basicConsume(m);
      case spec.BASIC_CANCEL:
        if (this.replyConsumer?.tag === m.consumerTag) return this.replyCancel(m);
        return this.basicCancel(m);
      case spec.BASIC_PUBLISH:
        return this.basicPublish(m);
      case spec.BASIC_GET:
        return this.basicGet(m);
      case spec.BASIC_ACK:
        return this.settle({
          kind: "ack",
          tag: m.deliveryTag,
          multiple: m.multiple,
          requeue: false,
        });
      case spec.BASIC_NACK:
        return this.settle({
          kind: "reject",
          tag: m.deliveryTag,
          multiple: m.multiple,
          requeue: m.requeue,
        });
      case spec.BASIC_REJECT:
        return this.settle({
          kind: "reject",
          tag: m.deliveryTag,
          multiple: false,
          requeue: m.requeue,
        });
      case spec.BASIC_RECOVER:
      case spec.BASIC_RECOVER_ASYNC:
        if (!m.requeue) throw notImplemented("requeue=false");
        this.requeueAll();
        if (m.id === spec.BASIC_RECOVER) this.send({ id: spec.BASIC_RECOVER_OK });
        return;
      case spec.CONFIRM_SELECT:
        if (this.tx) throw preconditionFailed("cannot switch from tx to confirm mode");
        this.confirmMode = true;
        if (!m.nowait) this.send({ id: spec.CONFIRM_SELECT_OK });
        return;
      case spec.TX_SELECT:
        if (this.confirmMode) throw preconditionFailed("cannot switch from confirm to tx mode");
        this.tx ??= { publishes: [], mandatory: [], settles: [] };
        return this.send({ id: spec.TX_SELECT_OK });
      case spec.TX_COMMIT:
        return this.txCommit();
      case spec.TX_ROLLBACK: {
        if (!this.tx) throw preconditionFailed("channel is not transactional");
        this.tx = { publishes: [], mandatory: [], settles: [] };
        return this.send({ id: spec.TX_ROLLBACK_OK });
      }
      default:
        throw new AmqpError(
          spec.COMMAND_INVALID,
          `unexpected method ${spec.METHOD_NAMES[m.id]} on channel ${this.id}`,
          true,
        );
    }
  }

  // ---- exchange and queue class

  private exchangeDeclare(m: spec.ExchangeDeclare): void {
    if (!m.passive) {
      this.vhost.checkBindable(m.exchange); // the default exchange: refused before any check
      this.check("configure", "exchange", m.exchange);
      // With an alternate exchange: read on this one, write on the alternate (RabbitMQ's table).
      const ae = m.arguments["alternate-exchange"];
      if (typeof ae === "string") {
        this.check("read", "exchange", m.exchange);
        this.check("write", "exchange", ae);
      }
    }
    this.vhost.declareExchange({
      name: m.exchange,
      type: m.type,
      passive: m.passive,
      durable: m.durable,
      autoDelete: m.autoDelete,
      internal: m.internal,
      arguments: m.arguments,
    });
    if (!m.nowait) this.send({ id: spec.EXCHANGE_DECLARE_OK });
  }

  private queueDeclare(m: spec.QueueDeclare): void {
    // Server-named queues are named first, so the configure check sees the real name.
    const name = m.queue === "" && !m.passive ? this.vhost.newQueueName() : m.queue;
    if (!m.passive) {
      this.vhost.checkQueueName(name, m.queue === "");
      this.check("configure", "queue", name);
      // With a dead-letter exchange: read on the queue, write on the DLX (RabbitMQ's table).
      const dlx = m.arguments["x-dead-letter-exchange"];
      if (typeof dlx === "string") {
        this.check("read", "queue", name);
        this.check("write", "exchange", dlx);
      }
    }
    const q = this.vhost.declareQueue({
      name,
      serverNamed: m.queue === "",
      passive: m.passive,
      durable: m.durable,
      exclusive: m.exclusive,
      autoDelete: m.autoDelete,
      arguments: m.arguments,
    }, this.conn);
    this.lastQueue = q.name;
    if (!m.nowait) {
      this.send({
        id: spec.QUEUE_DECLARE_OK,
        queue: q.name,
        messageCount: q.messageCount,
        consumerCount: q.consumerCount,
      });
    }
  }

  /** An empty queue name means the queue last declared on this channel. */
  private queueName(name: string): string {
    if (name !== "") return name;
    if (this.lastQueue === "") throw notFound("no previously declared queue");
    return this.lastQueue;
  }

  private queueNamed(name: string): Queue {
    return this.vhost.queue(this.queueName(name), this.conn);
  }

  // ---- consumers

  private basicQos(m: spec.BasicQos): void {
    if (m.prefetchSize !== 0) throw notImplemented(`prefetch_size!=0 (${m.prefetchSize})`);
    if (m.global) this.globalPrefetch = m.prefetchCount;
    else this.prefetch = m.prefetchCount;
    this.send({ id: spec.BASIC_QOS_OK });
    this.resumeDeliveries();
  }

  private basicConsume(m: spec.BasicConsume): void {
    this.check("read", "queue", this.queueName(m.queue));
    const q = this.queueNamed(m.queue);
    const tag = m.consumerTag === "" ? generatedConsumerTag() : m.consumerTag;
    if (this.consumers.has(tag)) throw notAllowed(`attempt to reuse consumer tag '${tag}'`);
    if (q.hasExclusiveConsumer() || (m.exclusive && q.consumerCount > 0)) {
      throw accessRefused(`queue '${q.name}' in vhost '${q.vhost}' in exclusive use`);
    }
    const priority = q.consumerPriority(m.arguments);
    const c = new ChannelConsumer(this, tag, q, m.noAck, m.exclusive, this.prefetch, priority);
    this.consumers.set(tag, c);
    if (!m.nowait) this.send({ id: spec.BASIC_CONSUME_OK, consumerTag: tag });
    q.addConsumer(c);
  }

  private basicCancel(m: spec.BasicCancel): void {
    const c = this.consumers.get(m.consumerTag);
    if (!m.nowait) this.send({ id: spec.BASIC_CANCEL_OK, consumerTag: m.consumerTag });
    if (c) {
      this.consumers.delete(c.tag);
      c.queue.removeConsumer(c);
    }
  }

  /** The consumer's queue was deleted: drop it and tell the client if it understands. */
  serverCancel(c: ChannelConsumer): void {
    if (this.consumers.get(c.tag) !== c) return;
    this.consumers.delete(c.tag);
    if (this.conn.consumerCancelNotify && !this.closing) {
      this.send({ id: spec.BASIC_CANCEL, consumerTag: c.tag, nowait: true });
    }
  }

  /** Writes basic.deliver with the content; called by the queue's dispatch. */
  deliver(c: ChannelConsumer, qm: QueuedMessage, queue: Queue): void {
    const tag = this.nextDeliveryTag++;
    if (c.noAck) this.stats.deliverNoAck++;
    else this.stats.deliver++;
    if (qm.redelivered) this.stats.redeliver++;
    if (!c.noAck) {
      const at = Date.now();
      this.unacked.set(tag, { qm, queue, consumer: c, at });
      if (this.ackTimer === undefined) this.armAckTimer(at);
      c.unacked++;
      this.consumerUnacked++;
    }
    const msg = qm.msg;
    const body = msg.body;
    writeDelivery(
      this.conn.out,
      this.id,
      c.tag,
      tag,
      qm.redelivered,
      msg.exchange,
      msg.routingKey,
      msg.properties,
      body,
      this.conn.frameMax,
    );
    this.conn.scheduleFlush();
  }

  private writeContent(msg: Message): void {
    const out = this.conn.out;
    const body = msg.body;
    writeHeaderFrame(out, this.id, spec.CLASS_BASIC, body.length, msg.properties);
    writeBodyFrames(out, this.id, body, this.conn.frameMax);
    this.conn.scheduleFlush();
  }

  /** Credit came back (ack, qos, drained socket): let our consumers' queues dispatch. */
  resumeDeliveries(): void {
    for (const c of this.consumers.values()) {
      if (c.queue.messageCount > 0 && c.canDeliver()) c.queue.dispatch();
    }
  }

  private basicGet(m: spec.BasicGet): void {
    this.check("read", "queue", this.queueName(m.queue));
    const q = this.queueNamed(m.queue);
    const qm = q.get(m.noAck);
    if (!qm) return this.send({ id: spec.BASIC_GET_EMPTY, clusterId: "" });
    const tag = this.nextDeliveryTag++;
    if (m.noAck) this.stats.getNoAck++;
    else this.stats.get++;
    if (qm.redelivered) this.stats.redeliver++;
    if (!m.noAck) {
      // basic.get deliveries count for the consumer timeout too, as in RabbitMQ.
      const at = Date.now();
      this.unacked.set(tag, { qm, queue: q, consumer: undefined, at });
      if (this.ackTimer === undefined) this.armAckTimer(at);
    }
    writeMethodFrame(this.conn.out, this.id, {
      id: spec.BASIC_GET_OK,
      deliveryTag: tag,
      redelivered: qm.redelivered,
      exchange: qm.msg.exchange,
      routingKey: qm.msg.routingKey,
      messageCount: q.messageCount,
    });
    this.writeContent(qm.msg);
  }

  // ---- acknowledgements

  private settle(s: TxSettle): void {
    const entries = this.takeUnacked(s.tag, s.multiple, this.tx !== undefined);
    if (this.tx) {
      this.tx.settles.push(s);
      return;
    }
    this.applySettle(entries, s.kind === "ack" ? "ack" : s.requeue ? "requeue" : "drop");
  }

  /**
   * The unacked entries an ack/nack/reject names (in tag order), removed from the map unless
   * `peek`. Unknown tags are a 406, as in RabbitMQ; `multiple` with tag 0 means all.
   */
  private takeUnacked(tag: number, multiple: boolean, peek: boolean): Unacked[] {
    const taken: Unacked[] = [];
    if (multiple) {
      if (tag !== 0 && !this.unacked.has(tag)) {
        throw preconditionFailed(`unknown delivery tag ${tag}`);
      }
      for (const [t, u] of this.unacked) {
        if (tag !== 0 && t > tag) break;
        taken.push(u);
        if (!peek) this.unacked.delete(t);
      }
      return taken;
    }
    const u = this.unacked.get(tag);
    if (!u) throw preconditionFailed(`unknown delivery tag ${tag}`);
    if (!peek) this.unacked.delete(tag);
    return [u];
  }

  private applySettle(entries: Unacked[], how: "ack" | "requeue" | "drop"): void {
    const byQueue = new Map<Queue, QueuedMessage[]>();
    for (const u of entries) {
      if (u.consumer) {
        u.consumer.unacked--;
        this.consumerUnacked--;
      }
      if (how === "ack") this.stats.ack++;
      if (how === "requeue") {
        let list = byQueue.get(u.queue);
        if (!list) byQueue.set(u.queue, list = []);
        list.push(u.qm);
      } else if (how === "drop") {
        u.queue.reject(u.qm);
      } else {
        u.queue.settle(u.qm);
      }
    }
    for (const [q, qms] of byQueue) q.requeue(qms);
    this.resumeDeliveries();
  }

  // ---- consumer timeout (consumer_timeout)

  /** Schedules the check for when a delivery made at `at` would time out. */
  private armAckTimer(at: number): void {
    const delay = at + this.conn.server.options.consumerTimeoutMs - Date.now();
    this.ackTimer = setTimeout(
      () => this.checkAckTimeout(),
      Math.min(Math.max(delay, 0), MAX_TIMER_MS),
    );
    Deno.unrefTimer(this.ackTimer);
  }

  /**
   * Closes the channel, as RabbitMQ does, when its oldest unacked delivery is older than the
   * timeout. Tags only grow, so the map's first entry is the oldest: one look, not a scan.
   */
  private checkAckTimeout(): void {
    this.ackTimer = undefined;
    if (this.closing) return;
    const oldest = this.unacked.values().next().value;
    if (oldest === undefined) return;
    const timeout = this.conn.server.options.consumerTimeoutMs;
    if (Date.now() - oldest.at < timeout) return this.armAckTimer(oldest.at);
    const e = preconditionFailed(
      `delivery acknowledgement on channel ${this.id} timed out. Timeout value used: ${timeout} ms. ` +
        "This timeout value can be configured, see consumers doc guide to learn more",
    );
    e.methodId = NO_METHOD;
    this.closeWithError(e);
  }

  private requeueAll(): void {
    const entries = [...this.unacked.values()];
    this.unacked.clear();
    this.applySettle(entries, "requeue");
  }

  // ---- direct reply-to (see ./direct_reply_to.ts)

  /** basic.consume of `amq.rabbitmq.reply-to`: no queue, no permission check (as RabbitMQ). */
  private replyConsume(m: spec.BasicConsume): void {
    const tag = m.consumerTag === "" ? generatedConsumerTag() : m.consumerTag;
    if (this.consumers.has(tag)) throw notAllowed(`attempt to reuse consumer tag '${tag}'`);
    this.replyConsumer = startReplyConsumer(
      this.conn.server.broker,
      this,
      this.replyConsumer,
      m.noAck,
      tag,
      [this.conn.id, this.id],
    );
    if (!m.nowait) this.send({ id: spec.BASIC_CONSUME_OK, consumerTag: tag });
  }

  private replyCancel(m: spec.BasicCancel): void {
    stopReplyConsumer(this.conn.server.broker, this.replyConsumer!);
    this.replyConsumer = undefined;
    if (!m.nowait) this.send({ id: spec.BASIC_CANCEL_OK, consumerTag: m.consumerTag });
  }

  /** Writes a direct reply to this channel's reply consumer (no-ack: nothing to track). */
  deliverReply(consumerTag: string, msg: Message): void {
    this.stats.deliverNoAck++;
    writeMethodFrame(this.conn.out, this.id, {
      id: spec.BASIC_DELIVER,
      consumerTag,
      deliveryTag: this.nextDeliveryTag++,
      redelivered: false,
      exchange: msg.exchange,
      routingKey: msg.routingKey,
    });
    this.writeContent(msg);
  }

  // ---- publishing

  private basicPublish(m: spec.BasicPublish): void {
    if (m.immediate) throw notImplemented("immediate=true");
    // Publishers mostly publish to one exchange: its permission check is remembered until the
    // exchange or the permissions change.
    const version = this.conn.server.broker.permissions.version;
    if (m.exchange !== this.writeChecked || version !== this.writeCheckedVersion) {
      this.check("write", "exchange", m.exchange);
      this.writeChecked = m.exchange;
      this.writeCheckedVersion = version;
    }
    const ex = this.vhost.exchange(m.exchange);
    if (ex.internal) {
      throw accessRefused(
        `cannot publish to internal exchange '${ex.name}' in vhost '${this.vhost.name}'`,
      );
    }
    // One assembly record per channel, reused: a channel assembles one publish at a time.
    const p = this.assembly;
    p.exchange = m.exchange;
    p.routingKey = m.routingKey;
    p.mandatory = m.mandatory;
    p.properties = undefined;
    p.bodySize = 0;
    p.body = undefined;
    p.received = 0;
    this.pending = p;
  }

  private completePublish(p: PendingPublish, body: Uint8Array): void {
    this.pending = undefined;
    const props = hasReplyTo(p.properties!)
      ? rewriteReplyTo(p.properties!, this.replyConsumer)
      : p.properties!;
    const msg = new Message(p.exchange, p.routingKey, props, body);
    if (hasUserId(msg.properties)) {
      const userId = msg.props.userId;
      if (userId !== undefined && userId !== this.conn.user?.name) {
        throw preconditionFailed(
          `user_id property set to '${userId}' but authenticated user was '${this.conn.user?.name}'`,
        );
      }
    }
    if (hasExpiration(msg.properties)) {
      const expiration = msg.props.expiration;
      const ttl = expiration === undefined ? 0 : parseExpiration(expiration);
      if (typeof ttl !== "number") {
        throw preconditionFailed(`invalid expiration '${expiration}': ${ttl.error}`);
      }
    }
    if (this.tx) {
      this.tx.publishes.push(msg);
      this.tx.mandatory.push(p.mandatory);
      return;
    }
    const routed = this.route(msg, p.mandatory);
    if (this.confirmMode) {
      this.publishSeq++;
      if (routed & ENQUEUE_REJECTED) this.rejectedSeqs.push(this.publishSeq);
      if (routed & ENQUEUE_PERSISTED) this.awaitSync(this.publishSeq);
      this.conn.pendingConfirms.add(this);
      this.conn.scheduleFlush();
    }
  }

  /** Holds back the confirm of `seq` (and later ones) until the fsync that covers it. */
  private awaitSync(seq: number): void {
    const promise = this.conn.server.messages!.sync();
    const last = this.syncGroups[this.syncGroups.length - 1];
    if (last?.promise === promise) return;
    const group = { promise, first: seq };
    this.syncGroups.push(group);
    promise.then(() => {
      this.syncGroups.splice(this.syncGroups.indexOf(group), 1);
      this.conn.pendingConfirms.add(this);
      this.conn.scheduleFlush();
    });
  }

  /**
   * Routes a message to its queues; returns {@link VHost.enqueueRouted}'s flags (written to the message
   * store, refused by a full queue). An unroutable message is returned when mandatory.
   */
  private route(msg: Message, mandatory: boolean): number {
    // The exchange may have been deleted since basic.publish was read; that is a 404 too.
    const ex = this.vhost.exchange(msg.exchange);
    // One set per channel, emptied per publish: routing is not re-entered from here.
    const queues = this.routed;
    queues.clear();
    // A direct reply-to reply goes straight to its channel's consumer, through no queue.
    const replied = msg.exchange === "" && isReplyKey(msg.routingKey) &&
      deliverReply(this.conn.server.broker, msg);
    if (!replied) this.vhost.route(ex, msg, queues);
    this.stats.publish++;
    this.conn.stats.publish++;
    this.vhost.stats.publish++;
    ex.stats.publish++;
    if (replied) {
      ex.stats.publishOut++;
      return 0;
    }
    if (queues.size === 0) {
      this.stats.returnUnroutable += mandatory ? 1 : 0;
      this.stats.dropUnroutable += mandatory ? 0 : 1;
      if (mandatory) {
        writeMethodFrame(this.conn.out, this.id, {
          id: spec.BASIC_RETURN,
          replyCode: spec.NO_ROUTE,
          replyText: "NO_ROUTE",
          exchange: msg.exchange,
          routingKey: msg.routingKey,
        });
        this.writeContent(msg);
      }
      return 0;
    }
    ex.stats.publishOut++;
    for (const q of queues) this.conn.fedQueues.add(q);
    return this.vhost.enqueueRouted(msg, queues);
  }

  /**
   * Confirms every publish that may be confirmed since the last call: all of them, except those
   * still waiting for an fsync (and those after them). Acks go as one basic.ack with
   * multiple=true; a publish a full queue refused gets its own basic.nack, in sequence order (the
   * acks before it are sent first, so multiple=true never covers it).
   */
  writeConfirms(): void {
    if (this.closing) return;
    const upTo = this.syncGroups.length > 0 ? this.syncGroups[0].first - 1 : this.publishSeq;
    if (upTo <= this.confirmedUpTo) return;
    const rejected = this.rejectedSeqs;
    while (rejected.length > 0 && rejected[0] <= upTo) {
      const seq = rejected.shift()!;
      this.ackUpTo(seq - 1);
      writeMethodFrame(this.conn.out, this.id, {
        id: spec.BASIC_NACK,
        deliveryTag: seq,
        multiple: false,
        requeue: false,
      });
      this.confirmedUpTo = seq;
    }
    this.ackUpTo(upTo);
  }

  /** One basic.ack for every publish after the last confirmed one, up to `seq`. */
  private ackUpTo(seq: number): void {
    if (seq <= this.confirmedUpTo) return;
    const multiple = seq - this.confirmedUpTo > 1;
    this.stats.confirm += seq - this.confirmedUpTo;
    this.confirmedUpTo = seq;
    writeMethodFrame(this.conn.out, this.id, { id: spec.BASIC_ACK, deliveryTag: seq, multiple });
  }

  private txCommit(): void {
    const tx = this.tx;
    if (!tx) throw preconditionFailed("channel is not transactional");
    this.tx = { publishes: [], mandatory: [], settles: [] };
    let persisted = false;
    tx.publishes.forEach((msg, i) => {
      if (this.route(msg, tx.mandatory[i]) & ENQUEUE_PERSISTED) persisted = true;
    });
    for (const s of tx.settles) {
      // Tags were checked when the ack arrived; one acked twice in a transaction is skipped.
      let entries: Unacked[];
      try {
        entries = this.takeUnacked(s.tag, s.multiple, false);
      } catch {
        continue;
      }
      this.applySettle(entries, s.kind === "ack" ? "ack" : s.requeue ? "requeue" : "drop");
    }
    if (!persisted) return this.send({ id: spec.TX_COMMIT_OK });
    // commit-ok promises the persistent messages are on disk: wait for the fsync.
    this.conn.server.messages!.sync().then(() => {
      if (!this.closing && this.conn.channels.get(this.id) === this) {
        this.send({ id: spec.TX_COMMIT_OK });
      }
    });
  }

  // ---- closing

  /** A soft error: send channel.close and ignore further frames until close-ok. */
  closeWithError(e: AmqpError): void {
    if (this.closing) return;
    this.shutdown();
    this.closing = true;
    this.send({
      id: spec.CHANNEL_CLOSE,
      replyCode: e.code,
      replyText: e.text.slice(0, 255),
      classId: e.classId,
      methodId: e.methodIndex,
    });
  }

  /** Releases the channel's consumers and requeues its unacked messages. Idempotent. */
  shutdown(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.pending = undefined;
    this.tx = undefined;
    if (this.replyConsumer) stopReplyConsumer(this.conn.server.broker, this.replyConsumer);
    this.replyConsumer = undefined;
    for (const c of this.consumers.values()) c.queue.removeConsumer(c);
    this.consumers.clear();
    this.requeueAll();
  }
}
