/**
 * A classic queue: a deque of ready messages, its consumers, and round-robin dispatch that respects
 * each consumer's credit (prefetch). Unacked messages live in the channel that received them; the
 * queue only counts them and takes them back on requeue, in their original order.
 */
import { ReadyList } from "./ready_list.ts";
import type { MessageShape, Reviver } from "./ready_list.ts";

const ignore = () => {};
import type { Message, QueuedMessage } from "./message.ts";
import { plainValue } from "../amqp/table.ts";
import type { FieldTable, FieldValue } from "../amqp/table.ts";
import type { MessagePersistence } from "./persistence.ts";
import { MessageStats } from "./stats.ts";

/** Backlog past which a queue with consumers pauses its publishers (see {@link Queue.congested}). */
export const FLOW_MAX_READY = 20_000;
export const FLOW_MAX_READY_BYTES = 32 * 1024 * 1024;

/** Someone receiving from a queue; implemented by the server's channel-side consumer. */
export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** True while the consumer has credit (prefetch, flow, socket) for one more message. */
  canDeliver(): boolean;
  /** Hands over one message; the queue has already removed it from its ready list. */
  deliver(qm: QueuedMessage, queue: Queue): void;
  /** The queue went away (deleted): the consumer is gone, tell the client if it can be told. */
  cancelledByServer(queue: Queue): void;
}

export interface QueueOptions {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
  /** The connection that owns an exclusive queue. */
  owner: unknown;
}

export class Queue {
  /** Ready messages; paged-out persisted ones are kept compactly (see ReadyList). */
  private readonly ready = new ReadyList(() => this.persistence && this.reviver);
  readonly consumers: Consumer[] = [];
  readonly stats = new MessageStats();
  unackedCount = 0;
  /** Auto-delete applies only once the queue has had a consumer. */
  hadConsumer = false;
  deleted = false;
  private nextSeq = 1;
  private rrIndex = 0;
  private dispatching = false;

  /** Set on durable queues when a message store is attached: the id messages are stored under. */
  durableId = 0;
  persistence: MessagePersistence | undefined;

  /** Called when the queue wants to be deleted (auto-delete after the last consumer). */
  onAutoDelete: ((q: Queue) => void) | undefined;

  private readonly reviver: Reviver = (id, segment, offset, length) =>
    this.persistence!.revive(id, segment, offset, length);

  /** x-max-length and x-max-length-bytes, over ready messages; Infinity when not set. */
  readonly maxLength: number;
  readonly maxLengthBytes: number;
  /** A limit is set and x-overflow is drop-head (the default): enqueue drops the oldest. */
  private readonly dropsHead: boolean;
  /**
   * A limit is set and x-overflow is reject-publish (or reject-publish-dlx, for now the same): a
   * message that would take the queue past it is refused (see {@link wouldOverflow}).
   */
  readonly rejectsPublish: boolean;

  constructor(readonly name: string, readonly vhost: string, readonly options: QueueOptions) {
    const args = options.arguments;
    this.maxLength = limitArgument(args["x-max-length"]);
    this.maxLengthBytes = limitArgument(args["x-max-length-bytes"]);
    const limited = this.maxLength !== Infinity || this.maxLengthBytes !== Infinity;
    const overflow = args["x-overflow"] === undefined
      ? "drop-head"
      : plainValue(args["x-overflow"]);
    this.dropsHead = limited && overflow === "drop-head";
    this.rejectsPublish = limited && !this.dropsHead;
  }

  /** Bytes of ready messages' bodies. */
  get readyBytes(): number {
    return this.ready.bytes;
  }

  get durable(): boolean {
    return this.options.durable;
  }

  get exclusive(): boolean {
    return this.options.exclusive;
  }

  get autoDelete(): boolean {
    return this.options.autoDelete;
  }

  get messageCount(): number {
    return this.ready.length;
  }

  /**
   * A backlog that consumers are not keeping up with: publishers into it are paused (flow
   * control) until it shrinks. A queue nobody consumes from may grow: that is a queue being filled.
   */
  get congested(): boolean {
    return this.consumers.length > 0 &&
      (this.ready.length > FLOW_MAX_READY || this.readyBytes > FLOW_MAX_READY_BYTES);
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /** Adds a routed message at the tail and delivers what consumers can take. */
  enqueue(msg: Message): void {
    this.stats.publish++;
    this.ready.push(msg, this.nextSeq++, false);
    if (this.consumers.length > 0) this.dispatch();
    if (this.dropsHead) this.dropOverflow();
  }

  /**
   * Whether one more message would take the ready messages past a length limit (RabbitMQ counts
   * ready messages only). Checked before enqueue when {@link rejectsPublish}.
   */
  wouldOverflow(msg: Message): boolean {
    return this.ready.length + 1 > this.maxLength ||
      this.ready.bytes + msg.size > this.maxLengthBytes;
  }

  /** drop-head: drops the oldest ready messages until the queue is within its limits. */
  private dropOverflow(): void {
    const ready = this.ready;
    if (ready.length <= this.maxLength && ready.bytes <= this.maxLengthBytes) return;
    const p = this.persistence;
    const onMessage = p ? (msg: Message) => msg.stored && p.settled(this, msg) : ignore;
    const onPaged = p ? (id: number, segment: number) => p.settledPaged(this, id, segment) : ignore;
    while (
      (ready.length > this.maxLength || ready.bytes > this.maxLengthBytes) &&
      ready.dropHead(onMessage, onPaged)
    );
  }

  /** Puts a recovered message at the tail (start-up only: nothing is recorded). */
  restore(msg: Message, redelivered: boolean): void {
    this.ready.push(msg, this.nextSeq++, redelivered);
  }

  /** Puts a recovered, paged-out message at the tail without making an object for it. */
  restorePaged(
    shape: MessageShape,
    stored: { id: number; segment: number; offset: number },
    size: number,
    redelivered: boolean,
  ): void {
    if (!this.persistence) throw new Error("restorePaged needs a message store");
    this.ready.pushPaged(shape, stored, size, this.nextSeq++, redelivered);
  }

  /** Takes the head message for basic.get; the caller tracks it as unacked unless no-ack. */
  get(noAck: boolean): QueuedMessage | undefined {
    const qm = this.ready.shift();
    if (qm) {
      if (noAck) this.stats.getNoAck++;
      else this.stats.get++;
      this.handedOut(qm, noAck);
    }
    return qm;
  }

  /** Bookkeeping for a message leaving the ready list for a consumer or basic.get. */
  private handedOut(qm: QueuedMessage, noAck: boolean): void {
    if (!noAck) this.unackedCount++;
    if (qm.redelivered) this.stats.redeliver++;
    if (this.persistence && qm.msg.stored) {
      if (noAck) this.persistence.settled(this, qm.msg);
      else if (!qm.redelivered) this.persistence.delivered(this, qm.msg);
    }
  }

  /** An unacked message was settled (ack, or reject/nack without requeue). */
  settle(qm: QueuedMessage): void {
    this.unackedCount--;
    this.stats.ack++;
    if (this.persistence && qm.msg.stored) this.persistence.settled(this, qm.msg);
  }

  /**
   * Puts unacked messages back where they were (by sequence), marked redelivered. Callers pass
   * them in any order; they are inserted highest sequence first so each lands at the front.
   */
  requeue(qms: QueuedMessage[]): void {
    if (this.deleted) {
      this.persistence?.released(this, qms.map((qm) => qm.msg).filter((m) => m.stored));
      return;
    }
    qms.sort((a, b) => b.seq - a.seq);
    for (const qm of qms) {
      this.unackedCount--;
      qm.redelivered = true;
      this.ready.insert(qm);
    }
    // Requeued messages count against the limits too: RabbitMQ drops from the head after a requeue.
    if (this.dropsHead) this.dropOverflow();
    this.dispatch();
  }

  purge(): number {
    const p = this.persistence;
    if (!p) return this.ready.clear(ignore, ignore);
    return this.ready.clear(
      (msg) => msg.stored && p.settled(this, msg),
      (id, segment) => p.settledPaged(this, id, segment),
    );
  }

  addConsumer(c: Consumer): void {
    this.consumers.push(c);
    this.hadConsumer = true;
    this.dispatch();
  }

  hasExclusiveConsumer(): boolean {
    return this.consumers.some((c) => c.exclusive);
  }

  /** Removes a consumer; an auto-delete queue that lost its last one asks to be deleted. */
  removeConsumer(c: Consumer): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rrIndex > i) this.rrIndex--;
    if (this.consumers.length === 0 && this.options.autoDelete && this.onAutoDelete) {
      this.onAutoDelete(this);
    }
  }

  /** Round-robin delivery of ready messages to consumers that have credit. */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.ready.length > 0 && consumers.length > 0) {
        let chosen: Consumer | undefined;
        for (let tried = 0; tried < consumers.length; tried++) {
          if (this.rrIndex >= consumers.length) this.rrIndex = 0;
          const c = consumers[this.rrIndex++];
          if (c.canDeliver()) {
            chosen = c;
            break;
          }
        }
        if (!chosen) break;
        const qm = this.ready.shift()!;
        this.handedOut(qm, chosen.noAck);
        if (chosen.noAck) this.stats.deliverNoAck++;
        else this.stats.deliver++;
        chosen.deliver(qm, this);
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** Marks the queue deleted and tells its consumers; returns the ready count it dropped. */
  markDeleted(): number {
    this.deleted = true;
    const p = this.persistence;
    const stored: Message[] = [];
    const n = this.ready.clear(
      (msg) => msg.stored && stored.push(msg),
      (_id, segment) => p?.releasedPaged(segment),
    );
    if (p && stored.length > 0) p.released(this, stored);
    const consumers = this.consumers.splice(0);
    for (const c of consumers) c.cancelledByServer(this);
    return n;
  }
}

/** A length-limit argument's value (validated at declare); Infinity when absent. */
function limitArgument(v: FieldValue | undefined): number {
  return v === undefined ? Infinity : Number(plainValue(v));
}
