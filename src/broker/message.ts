/**
 * One published message. A single Message is shared by every queue it is routed to: queues hold
 * references, and the body is never copied per queue.
 */
import { decodeBasicProperties } from "../amqp/spec.ts";
import type { BasicProperties } from "../amqp/spec.ts";
import { Reader } from "../amqp/reader.ts";
import type { FieldTable } from "../amqp/table.ts";
import type { StoredMessage } from "./persistence.ts";

const scratch = new Reader();

export class Message {
  private decoded: BasicProperties | undefined;
  /** Set once the message is in the message store (persistent, routed to a durable queue). */
  stored: StoredMessage | undefined;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    /** The content header's property flags and list, byte for byte as published. */
    readonly properties: Uint8Array,
    /** Null while paged out to the message store. */
    private bodyBytes: Uint8Array | null,
    /** The body's length, known even while it is paged out. */
    readonly size = bodyBytes?.length ?? 0,
  ) {}

  /** The body: in memory, or read back from the message store when paged out. */
  get body(): Uint8Array {
    return this.bodyBytes ?? this.stored!.readBody();
  }

  get resident(): boolean {
    return this.bodyBytes !== null;
  }

  /** Drops the body from memory; only for a stored message, whose body is on disk. */
  pageOut(): void {
    if (this.stored) this.bodyBytes = null;
  }

  /** delivery_mode 2, read from the raw property bytes (nothing decoded). */
  get persistent(): boolean {
    return rawDeliveryMode(this.properties) === 2;
  }

  /** Decoded properties, parsed on first use (routing and delivery never need them). */
  get props(): BasicProperties {
    if (!this.decoded) {
      scratch.reset(this.properties, 0, this.properties.length);
      this.decoded = decodeBasicProperties(scratch);
    }
    return this.decoded;
  }

  get headers(): FieldTable | undefined {
    return this.props.headers;
  }
}

const MAX_INTERNED_BLOCK = 48;
const BLOCK_SLOTS = 4096;
const propertyBlocks: (Uint8Array | undefined)[] = new Array(BLOCK_SLOTS).fill(undefined);

/**
 * A copy of a content header's property bytes. Small blocks are shared between messages that
 * carry the same ones (a publisher usually sends the same properties each time), so a million
 * queued messages do not hold a million copies of `delivery_mode=2`, and a repeat costs a hash
 * and a comparison instead of an allocation. A hash of the bytes picks the slot.
 */
export function internProperties(buf: Uint8Array, start: number, end: number): Uint8Array {
  const len = end - start;
  if (len > MAX_INTERNED_BLOCK) return buf.slice(start, end);
  let h = 0x811c9dc5 ^ len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  const slot = (h ^ (h >>> 15)) & (BLOCK_SLOTS - 1);
  const cached = propertyBlocks[slot];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached[i] === buf[start + i]) i++;
    if (i === len) return cached;
  }
  const block = buf.slice(start, end);
  propertyBlocks[slot] = block;
  return block;
}

/**
 * A message's place in one queue: per-queue sequence (for requeue order), redelivered flag, and
 * when it expires there (epoch ms; 0 when it does not: no x-message-ttl and no expiration).
 */
export interface QueuedMessage {
  msg: Message;
  seq: number;
  redelivered: boolean;
  expires: number;
}

const EXPIRATION_FLAG = 1 << (15 - 7);
const CONTENT_TYPE_FLAG = 1 << 15;
const CONTENT_ENCODING_FLAG = 1 << 14;
const HEADERS_FLAG = 1 << 13;
const DELIVERY_MODE_FLAG = 1 << 12;

/**
 * delivery_mode from a content header's raw properties (0 when absent or cut short): only the
 * three properties before it (content-type, content-encoding, headers) are stepped over by their
 * length prefixes, so a persistence check per message decodes nothing.
 */
export function rawDeliveryMode(props: Uint8Array): number {
  if (props.length < 2) return 0;
  const flags = (props[0] << 8) | props[1];
  if ((flags & DELIVERY_MODE_FLAG) === 0) return 0;
  let p = 2;
  if (flags & CONTENT_TYPE_FLAG) p += 1 + (props[p] ?? 0);
  if (flags & CONTENT_ENCODING_FLAG) p += 1 + (props[p] ?? 0);
  if (flags & HEADERS_FLAG) {
    if (p + 4 > props.length) return 0;
    p += 4 + ((props[p] << 24) | (props[p + 1] << 16) | (props[p + 2] << 8) | props[p + 3]) >>> 0;
  }
  return p < props.length ? props[p] : 0;
}

/** Whether the raw property flags include expiration (checked without decoding the properties). */
export const hasExpiration = (props: Uint8Array) =>
  props.length >= 2 && (((props[0] << 8) | props[1]) & EXPIRATION_FLAG) !== 0;

/**
 * A per-message TTL from the expiration property, in ms, or why it is invalid in RabbitMQ's words
 * (`no_integer`, `{leftover_string,"a"}`, `{value_negative,-1}`): a string then. RabbitMQ parses
 * it as Erlang's string:to_integer does: an optional sign, then digits.
 */
export function parseExpiration(s: string): number | { error: string } {
  const m = /^([+-]?[0-9]+)([^]*)$/.exec(s);
  if (!m) return { error: "no_integer" };
  if (m[2] !== "") return { error: `{leftover_string,"${m[2]}"}` };
  const n = Number(m[1]);
  if (n < 0) return { error: `{value_negative,${m[1]}}` };
  if (!Number.isSafeInteger(n)) return { error: `{value_too_large,${m[1]}}` };
  return n === 0 ? 0 : n; // "-0" is 0
}

/** A message's per-message TTL in ms; -1 when it has none (or an invalid one). */
export function messageTtl(msg: Message): number {
  if (!hasExpiration(msg.properties)) return -1;
  const e = msg.props.expiration;
  if (e === undefined) return -1;
  const ttl = parseExpiration(e);
  return typeof ttl === "number" ? ttl : -1;
}
