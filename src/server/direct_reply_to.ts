/**
 * Direct reply-to, as RabbitMQ implements it: a channel consumes the pseudo-queue
 * `amq.rabbitmq.reply-to` (no-ack only), publishes requests with reply_to = `amq.rabbitmq.reply-to`,
 * and the server rewrites that to `amq.rabbitmq.reply-to.<channel>.<key>`. A reply published to the
 * default exchange with that routing key goes straight to the consumer on that channel, through no
 * queue. The key is 16 random bytes, so a reply address cannot be guessed.
 *
 * Publishes without a reply_to property pay one flag test ({@link hasReplyTo}) and nothing more.
 */
import { AmqpError, preconditionFailed } from "../amqp/errors.ts";
import * as spec from "../amqp/spec.ts";
import type { Message } from "../broker/message.ts";

/** The pseudo-queue a channel consumes to receive direct replies. */
export const REPLY_QUEUE = "amq.rabbitmq.reply-to";
const REPLY_PREFIX = "amq.rabbitmq.reply-to.";
const REPLY_QUEUE_BYTES = new TextEncoder().encode(REPLY_QUEUE);

/** The channel side of a reply consumer: where replies are written. */
export interface ReplyTarget {
  deliverReply(consumerTag: string, msg: Message): void;
}

/** A channel's reply consumer: its tag and the suffix that addresses it. */
export interface ReplyConsumer {
  readonly tag: string;
  /** `<channel>.<key>`; replies are published with routing key {@link REPLY_PREFIX} + suffix. */
  readonly suffix: string;
  readonly target: ReplyTarget;
}

/** Live reply consumers by suffix, one table per broker (the owner object). */
const registries = new WeakMap<object, Map<string, ReplyConsumer>>();

function registry(owner: object): Map<string, ReplyConsumer> {
  let r = registries.get(owner);
  if (!r) registries.set(owner, r = new Map());
  return r;
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/**
 * Starts the reply consumer of a channel (basic.consume of {@link REPLY_QUEUE}), with RabbitMQ's
 * 406s for an acknowledging consumer and for a second one on the same channel.
 *
 * @example
 * ```ts
 * this.replyConsumer = startReplyConsumer(broker, this, this.replyConsumer, m.noAck, tag, id);
 * ```
 */
export function startReplyConsumer(
  owner: object,
  target: ReplyTarget,
  current: ReplyConsumer | undefined,
  noAck: boolean,
  tag: string,
  channelKey: number[],
): ReplyConsumer {
  if (!noAck) throw preconditionFailed("reply consumer cannot acknowledge");
  if (current) throw preconditionFailed("reply consumer already set");
  const reg = registry(owner);
  let suffix: string;
  do {
    const id = new Uint8Array(channelKey.length * 4);
    const view = new DataView(id.buffer);
    channelKey.forEach((n, i) => view.setUint32(i * 4, n));
    suffix = `${base64(id)}.${base64(crypto.getRandomValues(new Uint8Array(16)))}`;
  } while (reg.has(suffix));
  const rc: ReplyConsumer = { tag, suffix, target };
  reg.set(suffix, rc);
  return rc;
}

/** Ends a reply consumer (basic.cancel, channel closed): replies to its address go nowhere. */
export function stopReplyConsumer(owner: object, rc: ReplyConsumer): void {
  const reg = registries.get(owner);
  if (reg?.get(rc.suffix) === rc) reg.delete(rc.suffix);
}

/** Whether a routing key addresses a reply consumer (the default exchange routes it directly). */
export const isReplyKey = (routingKey: string) => routingKey.startsWith(REPLY_PREFIX);

/**
 * Delivers a reply published to the default exchange with a reply routing key to the channel
 * it addresses; false when no live reply consumer has that address (the reply is unroutable).
 */
export function deliverReply(owner: object, msg: Message): boolean {
  const rc = registries.get(owner)?.get(msg.routingKey.slice(REPLY_PREFIX.length));
  if (!rc) return false;
  rc.target.deliverReply(rc.tag, msg);
  return true;
}

/**
 * Whether queue.declare of `name` is answered by the pseudo-queue (declare-ok with one consumer and
 * no messages, as RabbitMQ answers): {@link REPLY_QUEUE} itself, or a passive declare of a live
 * reply address.
 */
export function isReplyQueue(owner: object, name: string, passive: boolean): boolean {
  if (name === REPLY_QUEUE) return true;
  return passive && isReplyKey(name) &&
    registries.get(owner)?.has(name.slice(REPLY_PREFIX.length)) === true;
}

const REPLY_TO_FLAG = 512;

/** Whether the raw property flags include reply_to (checked without decoding the properties). */
export const hasReplyTo = (props: Uint8Array) =>
  props.length >= 2 && (((props[0] << 8) | props[1]) & REPLY_TO_FLAG) !== 0;

/**
 * The content properties of a publish, with reply_to = {@link REPLY_QUEUE} replaced by the address
 * of the channel's reply consumer; the same bytes when reply_to is anything else. Without a reply
 * consumer on the channel that is RabbitMQ's 406. Only the reply_to field is rewritten: the other
 * properties stay byte for byte as published.
 */
export function rewriteReplyTo(props: Uint8Array, rc: ReplyConsumer | undefined): Uint8Array {
  const at = replyToOffset(props);
  if (at < 0 || props[at] !== REPLY_QUEUE_BYTES.length) return props;
  for (let i = 0; i < REPLY_QUEUE_BYTES.length; i++) {
    if (props[at + 1 + i] !== REPLY_QUEUE_BYTES[i]) return props;
  }
  if (!rc) {
    const e: AmqpError = preconditionFailed("fast reply consumer does not exist");
    e.methodId = spec.BASIC_PUBLISH;
    throw e;
  }
  const value = new TextEncoder().encode(REPLY_PREFIX + rc.suffix);
  const rest = at + 1 + REPLY_QUEUE_BYTES.length;
  const out = new Uint8Array(at + 1 + value.length + props.length - rest);
  out.set(props.subarray(0, at));
  out[at] = value.length;
  out.set(value, at + 1);
  out.set(props.subarray(rest), at + 1 + value.length);
  return out;
}

/**
 * Where the reply_to shortstr (its length byte) starts in a property block that has one, found by
 * skipping the properties before it; -1 when the block is too short to hold it.
 */
function replyToOffset(p: Uint8Array): number {
  if (!hasReplyTo(p)) return -1;
  const flags = (p[0] << 8) | p[1];
  let i = 2;
  if (flags & 32768) i += 1 + p[i]; // content-type
  if (flags & 16384) i += 1 + p[i]; // content-encoding
  if (flags & 8192) i += 4 + ((p[i] << 24) >>> 0) + (p[i + 1] << 16) + (p[i + 2] << 8) + p[i + 3];
  if (flags & 4096) i += 1; // delivery-mode
  if (flags & 2048) i += 1; // priority
  if (flags & 1024) i += 1 + p[i]; // correlation-id
  return i < p.length && i + 1 + p[i] <= p.length ? i : -1;
}
