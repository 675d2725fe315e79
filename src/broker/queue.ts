/**
 * A classic queue: a deque of ready messages, its consumers, and round-robin dispatch that respects
 * each consumer's credit (prefetch). Unacked messages live in the channel that received them; the
 * queue only counts them and takes them back on requeue, in their original order.
 */
import { PriorityReadyList, ReadyList } from "./ready_list.ts";
import type { MessageShape, Ready, Reviver } from "./ready_list.ts";

const ignore = () => {};
import { hasExpiration, Message, messageTtl } from "./message.ts";
import type { QueuedMessage } from "./message.ts";
import type { DeathReason } from "./dead_letter.ts";
import { plainValue } from "../amqp/table.ts";
import type { FieldTable } from "../amqp/table.ts";
import type { MessagePersistence } from "./persistence.ts";
import { MessageStats } from "./stats.ts";
import { consumerPriority } from "./arguments.ts";
import { inVhost } from "../amqp/errors.ts";
import type { Policy } from "./policy.ts";

/** Backlog past which a queue with consumers pauses its publishers (see {@link Queue.congested}). */
export const FLOW_MAX_READY = 20_000;
export const FLOW_MAX_READY_BYTES = 32 * 1024 * 1024;

/** setTimeout's longest delay; a later expiry is waited for in steps. */
const MAX_TIMER_DELAY = 0x7fffffff;

/** Someone receiving from a queue; implemented by the server's channel-side consumer. */
export interface Consumer {
  readonly tag: string;
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /**
   * The consumer's priority (basic.consume argument x-priority; 0 when absent): messages go to the
   * highest-priority consumers with credit, round-robin among equals.
   */
  readonly priority?: number;
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
  private readonly ready: Ready;
  /** Consumers in subscription order. */
  readonly consumers: Consumer[] = [];
  /**
   * While some consumer has a non-zero priority: the consumers by priority, highest first; the one
   * last delivered to moves to the end of its priority's group (round-robin among equals).
   */
  private ranked: Consumer[] | undefined;
  /** x-single-active-consumer: only the first consumer (in subscription order) receives. */
  readonly singleActiveConsumer: boolean;
  /**
   * x-expires in ms (0 when not set): the queue is deleted after being unused this long. This and
   * the other settings below are effective ones: arguments and policy (see {@link applyPolicy}).
   */
  expires = 0;
  /** When the current x-expires lease ends (epoch ms); its one timer is {@link leaseTimer}. */
  private leaseEnd = 0;
  private leaseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Called when the x-expires lease ran out: the vhost deletes the queue. */
  onExpired: ((q: Queue) => void) | undefined;
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

  /**
   * Set by the vhost: publishes the dead-lettered copy of a message that left the queue for
   * `reason`. Used only while the queue has a dead-letter exchange (see {@link deadLetterSink}).
   */
  onDeadLetter: ((q: Queue, msg: Message, reason: DeathReason) => void) | undefined;

  /** The policy that applies to the queue (the vhost keeps this current), if any. */
  policy: Policy | undefined;
  /** x-message-ttl in ms; -1 when not set. */
  messageTtl = -1;
  deadLetterExchange: string | undefined;
  deadLetterRoutingKey: string | undefined;
  /**
   * Some ready message may expire (the queue has a TTL, or a message with an expiration came):
   * only then are expiry times checked at the head and the expiry timer kept.
   */
  private expiring = false;
  /** One timer per queue, for the head's expiry time ({@link expiryAt}; 0 when none is set). */
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private expiryAt = 0;

  /** Called when the queue wants to be deleted (auto-delete after the last consumer). */
  onAutoDelete: ((q: Queue) => void) | undefined;

  private readonly reviver: Reviver = (id, segment, offset, length) =>
    this.persistence!.revive(id, segment, offset, length);

  /** x-max-length and x-max-length-bytes, over ready messages; Infinity when not set. */
  maxLength = Infinity;
  maxLengthBytes = Infinity;
  /** A limit is set and x-overflow is drop-head (the default): enqueue drops the oldest. */
  private dropsHead = false;
  /**
   * A limit is set and x-overflow is reject-publish or reject-publish-dlx: a message that would
   * take the queue past it is refused (see {@link wouldOverflow}).
   */
  rejectsPublish = false;
  /** reject-publish-dlx: a refused message is dead-lettered too (reason maxlen). */
  deadLettersRefused = false;

  /**
   * `policy` is the policy that applies at declare: the only time its max-priority counts (an
   * x-max-priority argument wins over it).
   */
  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly options: QueueOptions,
    policy?: Policy,
  ) {
    const args = options.arguments;
    const revive = () => this.persistence && this.reviver;
    const maxPriority = args["x-max-priority"] === undefined
      ? Number(policy?.definition["max-priority"] ?? 0)
      : Number(plainValue(args["x-max-priority"]));
    this.ready = maxPriority > 0
      ? new PriorityReadyList(maxPriority, revive)
      : new ReadyList(revive);
    this.singleActiveConsumer = args["x-single-active-consumer"] === true;
    this.settings(policy);
  }

  /**
   * Computes the effective settings from the queue's arguments and a policy, with RabbitMQ's
   * precedence: for message-ttl, expires, max-length and max-length-bytes the lower of the two
   * wins; for overflow, dead-letter-exchange and dead-letter-routing-key the argument wins.
   */
  private settings(policy: Policy | undefined): void {
    this.policy = policy;
    const args = this.options.arguments;
    const def = policy?.definition ?? {};
    const lower = (arg: string, key: string, none: number) => {
      const a = args[arg] === undefined ? undefined : Number(plainValue(args[arg]));
      const p = typeof def[key] === "number" ? def[key] as number : undefined;
      if (a === undefined) return p ?? none;
      return p === undefined ? a : Math.min(a, p);
    };
    const argFirst = (arg: string, key: string) => {
      const a = args[arg] === undefined ? undefined : plainValue(args[arg]);
      if (typeof a === "string") return a;
      return typeof def[key] === "string" ? def[key] as string : undefined;
    };
    this.expires = lower("x-expires", "expires", 0);
    this.maxLength = lower("x-max-length", "max-length", Infinity);
    this.maxLengthBytes = lower("x-max-length-bytes", "max-length-bytes", Infinity);
    const limited = this.maxLength !== Infinity || this.maxLengthBytes !== Infinity;
    const overflow = argFirst("x-overflow", "overflow") ?? "drop-head";
    this.dropsHead = limited && overflow === "drop-head";
    this.rejectsPublish = limited && !this.dropsHead;
    this.deadLettersRefused = this.rejectsPublish && overflow === "reject-publish-dlx";
    this.messageTtl = lower("x-message-ttl", "message-ttl", -1);
    if (this.messageTtl >= 0) this.expiring = true;
    this.deadLetterExchange = argFirst("x-dead-letter-exchange", "dead-letter-exchange");
    this.deadLetterRoutingKey = argFirst("x-dead-letter-routing-key", "dead-letter-routing-key");
  }

  /**
   * A policy was set or cleared: recomputes the effective settings ({@link settings}) and applies
   * them at once, as RabbitMQ does: a lower length limit drops (or dead-letters) from the head, a
   * new expires starts a fresh lease. A new message TTL counts for messages that arrive from now
   * on; max-priority never changes after declare.
   */
  applyPolicy(policy: Policy | undefined): void {
    if (this.deleted) return;
    const expires = this.expires;
    this.settings(policy);
    if (this.expires !== expires) {
      if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
      this.leaseTimer = undefined;
      this.leaseEnd = 0;
      this.renewLease();
    }
    if (this.dropsHead) this.dropOverflow();
  }

  /** The dead-letter publisher while the queue has a dead-letter exchange; else undefined. */
  private get deadLetterSink(): Queue["onDeadLetter"] {
    return this.deadLetterExchange === undefined ? undefined : this.onDeadLetter;
  }

  /**
   * When a message entering now expires here: after the smaller of x-message-ttl and its own
   * expiration; 0 when neither applies.
   */
  private expiryOf(msg: Message, now: number): number {
    let ttl = this.messageTtl;
    const own = messageTtl(msg);
    if (own >= 0 && (ttl < 0 || own < ttl)) ttl = own;
    return ttl < 0 ? 0 : now + ttl;
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
    let now = 0;
    let expires = 0;
    if (this.expiring || hasExpiration(msg.properties)) {
      now = Date.now();
      expires = this.expiryOf(msg, now);
      if (expires !== 0) this.expiring = true;
    }
    const wasEmpty = this.ready.length === 0;
    this.ready.push(msg, this.nextSeq++, false, expires);
    // A message that finds a consumer waiting is delivered even with a TTL of 0 (as RabbitMQ).
    if (this.consumers.length > 0) this.deliverReady(wasEmpty && now !== 0 ? now - 1 : now);
    if (this.dropsHead) this.dropOverflow();
    if (this.expiring) {
      this.expireHead(now);
      this.scheduleExpiry();
    }
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
    if (this.deadLetterSink) {
      while (ready.length > this.maxLength || ready.bytes > this.maxLengthBytes) {
        this.deadLetter(ready.shift()!.msg, "maxlen");
      }
      return;
    }
    const p = this.persistence;
    const onMessage = p ? (msg: Message) => msg.stored && p.settled(this, msg) : ignore;
    const onPaged = p ? (id: number, segment: number) => p.settledPaged(this, id, segment) : ignore;
    while (
      (ready.length > this.maxLength || ready.bytes > this.maxLengthBytes) &&
      ready.dropHead(onMessage, onPaged)
    );
  }

  /**
   * A message leaves the ready list for good without being delivered (expired, dropped by a
   * length limit): dead-lettered if the queue has a dead-letter exchange, then settled.
   */
  private deadLetter(msg: Message, reason: DeathReason): void {
    this.deadLetterSink?.(this, msg, reason);
    if (this.persistence && msg.stored) this.persistence.settled(this, msg);
  }

  /** Drops (dead-letters) the expired messages at the head: expiry is checked only there. */
  private expireHead(now: number): void {
    const ready = this.ready;
    for (;;) {
      const qm = ready.shiftExpired(now);
      if (!qm) return;
      this.deadLetter(qm.msg, "expired");
    }
  }

  /** Keeps the queue's one expiry timer set for the head's expiry time. */
  private scheduleExpiry(): void {
    const at = this.deleted ? 0 : this.ready.headExpires();
    if (at === this.expiryAt) return;
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = at;
    if (at === 0) return;
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_DELAY);
    const timer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expiryAt = 0;
      this.expireHead(Date.now());
      if (this.consumers.length > 0) this.dispatch();
      this.scheduleExpiry();
    }, delay);
    Deno.unrefTimer(timer);
    this.expiryTimer = timer;
  }

  /** When a recovered message expires: its TTL counts again from the restart. */
  private restoredExpiry(ttlOf: () => number): number {
    if (!this.expiring && this.messageTtl < 0) return 0;
    const now = Date.now();
    let ttl = this.messageTtl;
    const own = ttlOf();
    if (own >= 0 && (ttl < 0 || own < ttl)) ttl = own;
    return ttl < 0 ? 0 : now + ttl;
  }

  /** Puts a recovered message at the tail (start-up only: nothing is recorded). */
  restore(msg: Message, redelivered: boolean): void {
    if (hasExpiration(msg.properties)) this.expiring = true;
    const expires = this.restoredExpiry(() => messageTtl(msg));
    this.ready.push(msg, this.nextSeq++, redelivered, expires);
    if (expires !== 0) this.scheduleExpiry();
  }

  /** Puts a recovered, paged-out message at the tail without making an object for it. */
  restorePaged(
    shape: MessageShape,
    stored: { id: number; segment: number; offset: number },
    size: number,
    redelivered: boolean,
  ): void {
    if (!this.persistence) throw new Error("restorePaged needs a message store");
    if (hasExpiration(shape.properties)) this.expiring = true;
    const expires = this.restoredExpiry(() =>
      messageTtl(new Message(shape.exchange, shape.routingKey, shape.properties, null))
    );
    this.ready.pushPaged(shape, stored, size, this.nextSeq++, redelivered, expires);
    if (expires !== 0) this.scheduleExpiry();
  }

  /** Takes the head message for basic.get; the caller tracks it as unacked unless no-ack. */
  get(noAck: boolean): QueuedMessage | undefined {
    if (this.expires !== 0) this.renewLease();
    if (this.expiring) this.expireHead(Date.now());
    const qm = this.ready.shift();
    if (qm) {
      if (noAck) this.stats.getNoAck++;
      else this.stats.get++;
      this.handedOut(qm, noAck);
    }
    if (this.expiring) this.scheduleExpiry();
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
   * An unacked message was rejected without requeue (reject, nack): dead-lettered if the queue
   * has a dead-letter exchange (before it is settled, so its body is still there), then settled.
   */
  reject(qm: QueuedMessage): void {
    if (!this.deleted) this.deadLetterSink?.(this, qm.msg, "rejected");
    this.settle(qm);
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
    if (this.expiring) {
      this.expireHead(Date.now());
      this.scheduleExpiry();
    }
  }

  purge(): number {
    const p = this.persistence;
    const n = p
      ? this.ready.clear(
        (msg) => msg.stored && p.settled(this, msg),
        (id, segment) => p.settledPaged(this, id, segment),
      )
      : this.ready.clear(ignore, ignore);
    if (this.expiring) this.scheduleExpiry();
    return n;
  }

  addConsumer(c: Consumer): void {
    this.consumers.push(c);
    this.hadConsumer = true;
    this.leaseEnd = 0; // in use while it has consumers (see renewLease)
    if (this.ranked || (c.priority ?? 0) !== 0) this.rank();
    this.dispatch();
  }

  /** Rebuilds {@link ranked}: by priority, subscription order among equals; none if all are 0. */
  private rank(): void {
    const consumers = this.consumers;
    this.ranked = consumers.some((c) => (c.priority ?? 0) !== 0)
      ? [...consumers].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))
      : undefined;
  }

  /**
   * The consumer with credit of the highest priority that has one, round-robin among equals; the
   * chosen one moves to the end of its group.
   */
  private pickRanked(ranked: Consumer[]): Consumer | undefined {
    for (let start = 0; start < ranked.length;) {
      const priority = ranked[start].priority ?? 0;
      let end = start + 1;
      while (end < ranked.length && (ranked[end].priority ?? 0) === priority) end++;
      for (let i = start; i < end; i++) {
        const c = ranked[i];
        if (!c.canDeliver()) continue;
        ranked.copyWithin(i, i + 1, end);
        ranked[end - 1] = c;
        return c;
      }
      start = end;
    }
    return undefined;
  }

  /** The priority a consumer of this queue asks for in basic.consume's arguments (406 if bad). */
  consumerPriority(args: FieldTable): number {
    return consumerPriority(args, inVhost("queue", this.name, this.vhost));
  }

  /**
   * x-expires: the queue was used (declared, consumed from, basic.get), so its lease starts over.
   * While it has consumers it is in use and no lease runs.
   */
  renewLease(): void {
    if (this.expires === 0 || this.deleted) return;
    if (this.consumers.length > 0) {
      this.leaseEnd = 0;
      return;
    }
    this.leaseEnd = Date.now() + this.expires;
    if (this.leaseTimer === undefined) this.armLease(this.expires);
  }

  /** Sets the one lease timer; when it fires early (renewed meanwhile) it waits for the rest. */
  private armLease(delay: number): void {
    const timer = setTimeout(() => {
      this.leaseTimer = undefined;
      if (this.leaseEnd === 0 || this.deleted) return;
      const left = this.leaseEnd - Date.now();
      if (left > 0) return this.armLease(left);
      this.onExpired?.(this);
    }, Math.min(delay, MAX_TIMER_DELAY));
    Deno.unrefTimer(timer);
    this.leaseTimer = timer;
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
    if (this.ranked) this.rank();
    if (this.consumers.length === 0) {
      if (this.options.autoDelete && this.onAutoDelete) return this.onAutoDelete(this);
      if (this.expires !== 0) this.renewLease();
    } else if (this.singleActiveConsumer && i === 0) {
      // The next consumer takes over, once a closing channel has requeued what the active one
      // held (it removes its consumers first), so that it gets those first.
      queueMicrotask(() => this.dispatch());
    }
  }

  /** Round-robin delivery of ready messages to consumers that have credit. */
  dispatch(): void {
    if (!this.expiring) return this.deliverReady(0);
    this.deliverReady(Date.now());
    this.scheduleExpiry();
  }

  /**
   * {@link dispatch}; `now` (when not 0) is the time expired heads are dropped at before each
   * delivery.
   */
  private deliverReady(now: number): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      while (this.ready.length > 0 && consumers.length > 0) {
        if (now !== 0) {
          this.expireHead(now);
          if (this.ready.length === 0) break;
        }
        let chosen: Consumer | undefined;
        if (this.singleActiveConsumer) {
          if (consumers[0].canDeliver()) chosen = consumers[0];
        } else if (this.ranked) {
          chosen = this.pickRanked(this.ranked);
        } else {
          for (let tried = 0; tried < consumers.length; tried++) {
            if (this.rrIndex >= consumers.length) this.rrIndex = 0;
            const c = consumers[this.rrIndex++];
            if (c.canDeliver()) {
              chosen = c;
              break;
            }
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
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.leaseTimer !== undefined) clearTimeout(this.leaseTimer);
    this.leaseTimer = undefined;
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
