/**
 * What the broker model tells durable storage, without knowing how it is stored: entity changes
 * (durable exchanges, queues, bindings) and the life of persistent messages in durable queues.
 * src/store implements both; without a data dir nothing is attached and nothing is stored.
 */
import type { Binding, Exchange } from "./exchange.ts";
import type { Message } from "./message.ts";
import type { Queue } from "./queue.ts";

export interface EntityPersistence {
  exchangeDeclared(ex: Exchange, vhost: string): void;
  exchangeDeleted(ex: Exchange, vhost: string): void;
  /** Stores a durable queue; returns the id its messages are recorded under. */
  queueDeclared(q: Queue): number;
  queueDeleted(q: Queue): void;
  bindingAdded(b: Binding, vhost: string): void;
  bindingRemoved(b: Binding, vhost: string): void;
}

export interface MessagePersistence {
  /** A persistent message was routed to these durable queues: record it once for all. */
  persist(msg: Message, queues: Queue[]): void;
  /** The message left the queue for good (ack, reject, purge, no-ack delivery). */
  settled(queue: Queue, msg: Message): void;
  /** First delivery from this queue (recovery then marks it redelivered). */
  delivered(queue: Queue, msg: Message): void;
  /** The queue was deleted with these messages still in it. */
  released(queue: Queue, msgs: Message[]): void;
  /** {@link settled} for a paged-out message known only by its store coordinates. */
  settledPaged(queue: Queue, id: number, segment: number): void;
  /** {@link released} for a paged-out message known only by its segment. */
  releasedPaged(segment: number): void;
  /** Rebuilds the store reference of a paged-out message when it reaches the queue's head. */
  revive(id: number, segment: number, offset: number, length: number): StoredMessage;
}

/** Where a persisted message lives in the message store; the body may be read back from there. */
export interface StoredMessage {
  id: number;
  segment: number;
  /** Where the body starts in the segment, and its length. */
  offset: number;
  length: number;
  /** Durable queues still holding the message. */
  refs: number;
  readBody(): Uint8Array;
}
