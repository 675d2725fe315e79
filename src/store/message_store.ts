/**
 * Persistent messages of durable queues, on top of the {@link MessageLog}: assigns message ids,
 * records publishes, deliveries and settlements, pages bodies out of memory once they are on disk
 * and memory holds more than a threshold, and rebuilds queues on start.
 */
import { MessageLog } from "./message_log.ts";
import type { BodyLocation } from "./message_log.ts";
import type { MessagePersistence, StoredMessage } from "../broker/persistence.ts";
import type { Message } from "../broker/message.ts";
import { shapeOf } from "../broker/ready_list.ts";
import type { Queue } from "../broker/queue.ts";
import { log } from "../log.ts";

/**
 * Bodies of stored messages are kept in memory up to this many bytes; past it, a newly stored
 * message's body lives only on disk (read back when delivered), and its queues keep it compactly.
 */
export const DEFAULT_RESIDENT_LIMIT = 64 * 1024 * 1024;

/** Kept per stored message, so its fields are flat (no nested location object). */
class StoredRef implements StoredMessage {
  readonly segment: number;
  readonly offset: number;
  readonly length: number;

  constructor(
    readonly id: number,
    public refs: number,
    loc: BodyLocation,
    private readonly log: MessageLog,
  ) {
    this.segment = loc.segment;
    this.offset = loc.offset;
    this.length = loc.length;
  }

  readBody(): Uint8Array {
    return this.log.readBody(this);
  }
}

export class MessageStore implements MessagePersistence {
  readonly log: MessageLog;
  private nextId = 1;
  /** Bytes of stored messages' bodies still in memory. */
  private residentBytes = 0;

  constructor(dir: string, readonly residentLimit = DEFAULT_RESIDENT_LIMIT) {
    this.log = new MessageLog(dir);
  }

  /**
   * Reads the log and puts every live message back into its durable queue (by id), in publish
   * order, with redelivered set for those delivered before. Logs what was recovered.
   */
  recover(queuesById: Map<number, Queue>): void {
    const started = performance.now();
    const perVhost = new Map<string, number>();
    let count = 0;
    // Recovered bodies stay on disk, so queues keep these compactly: no objects per message.
    const report = this.log.scan((id) => queuesById.has(id), (m) => {
      count++;
      const shape = shapeOf(m);
      const stored = { id: m.id, segment: m.segment, offset: m.bodyOffset };
      for (const qid of m.queues) {
        const q = queuesById.get(qid)!;
        q.restorePaged(shape, stored, m.bodyLength, m.delivered.includes(qid));
        perVhost.set(q.vhost, (perVhost.get(q.vhost) ?? 0) + 1);
      }
    });
    this.nextId = report.maxMessageId + 1;
    const ms = Math.round(performance.now() - started);
    for (const [vhost, count] of perVhost) {
      log.info("recovered messages", { vhost, messages: count });
    }
    log.info("message store recovered", {
      messages: count,
      segments: report.segments,
      records: report.records,
      corrupt_records: report.corrupt,
      truncated_bytes: report.truncatedBytes,
      ms,
    });
  }

  persist(msg: Message, queues: Queue[]): void {
    const id = this.nextId++;
    const loc = this.log.appendPublish(
      id,
      queues.map((q) => q.durableId),
      msg.exchange,
      msg.routingKey,
      msg.properties,
      msg.body,
    );
    msg.stored = new StoredRef(id, queues.length, loc, this.log);
    // Past the limit the body stays on disk only (it is readable before the fsync too).
    if (this.residentBytes + msg.size > this.residentLimit) msg.pageOut();
    else this.residentBytes += msg.size;
  }

  settledPaged(queue: Queue, id: number, segment: number): void {
    this.log.appendSettle(queue.durableId, id, segment);
  }

  releasedPaged(segment: number): void {
    this.log.release(segment);
  }

  revive(id: number, segment: number, offset: number, length: number): StoredMessage {
    return new StoredRef(id, 1, { segment, offset, length }, this.log);
  }

  settled(queue: Queue, msg: Message): void {
    const s = msg.stored as StoredRef;
    this.log.appendSettle(queue.durableId, s.id, s.segment);
    this.dropRef(msg);
  }

  delivered(queue: Queue, msg: Message): void {
    this.log.appendDelivered(queue.durableId, msg.stored!.id);
  }

  released(_queue: Queue, msgs: Message[]): void {
    for (const msg of msgs) {
      this.log.release(msg.stored!.segment);
      this.dropRef(msg);
    }
  }

  private dropRef(msg: Message): void {
    const s = msg.stored as StoredRef;
    if (--s.refs === 0 && msg.resident) this.residentBytes -= msg.size;
  }

  /** Resolves once everything recorded so far is on disk. */
  sync(): Promise<void> {
    return this.log.sync();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
