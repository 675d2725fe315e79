/**
 * A queue's ready messages, in order. Messages in memory are kept as objects; persisted messages
 * whose bodies are paged out to the message store are kept compactly, in runs of typed arrays
 * (about 30 bytes each instead of ~250 for the objects), and become objects again only when they
 * reach the head. That is what lets a durable queue hold millions of messages in little memory.
 *
 * Sequence numbers order the queue; a run holds consecutive ones, so it stores only its first.
 * Expiry times (TTL) are kept only by queues that have them: a run gets its expiry column when the
 * first message with one joins it.
 */
import { Deque } from "./deque.ts";
import { Message } from "./message.ts";
import type { QueuedMessage } from "./message.ts";
import type { StoredMessage } from "./persistence.ts";

/** What paged-out messages share: many messages are published alike, so these are interned. */
export interface MessageShape {
  exchange: string;
  routingKey: string;
  properties: Uint8Array;
}

/** Rebuilds the store reference of a paged-out message. */
export type Reviver = (
  id: number,
  segment: number,
  offset: number,
  length: number,
) => StoredMessage;

const RUN_SIZE = 1024;

class PagedRun {
  start = 0;
  end = 0;
  readonly ids = new Float64Array(RUN_SIZE);
  readonly segments = new Uint32Array(RUN_SIZE);
  readonly offsets = new Uint32Array(RUN_SIZE);
  readonly lengths = new Uint32Array(RUN_SIZE);
  readonly redelivered = new Uint8Array(RUN_SIZE);
  /** Expiry times (epoch ms, 0 for none); allocated for the first message that has one. */
  expires: Float64Array | undefined;
  readonly shapes: MessageShape[] = [];

  constructor(readonly firstSeq: number) {}

  get count(): number {
    return this.end - this.start;
  }

  get full(): boolean {
    return this.end === RUN_SIZE;
  }

  /** The sequence number of the run's head. */
  get seq(): number {
    return this.firstSeq + this.start;
  }
}

type Item = QueuedMessage | PagedRun;

const seqOf = (item: Item) => item instanceof PagedRun ? item.seq : item.seq;

const shapes = new Map<Uint8Array, Map<string, MessageShape>>();
const MAX_SHAPES = 10_000;
let shapeCount = 0;

/** The interned shape of messages with these exchange, routing key and properties. */
export function shapeOf(
  msg: { exchange: string; routingKey: string; properties: Uint8Array },
): MessageShape {
  let byRoute = shapes.get(msg.properties);
  if (!byRoute) {
    if (shapeCount >= MAX_SHAPES) {
      shapes.clear();
      shapeCount = 0;
    }
    shapes.set(msg.properties, byRoute = new Map());
  }
  const key = `${msg.exchange}\0${msg.routingKey}`;
  let shape = byRoute.get(key);
  if (!shape) {
    shape = { exchange: msg.exchange, routingKey: msg.routingKey, properties: msg.properties };
    byRoute.set(key, shape);
    shapeCount++;
  }
  return shape;
}

/** What a queue needs of its ready messages: {@link ReadyList}, or {@link PriorityReadyList}. */
export interface Ready {
  readonly length: number;
  readonly bytes: number;
  push(msg: Message, seq: number, redelivered: boolean, expires: number): void;
  pushPaged(
    shape: MessageShape,
    stored: { id: number; segment: number; offset: number },
    size: number,
    seq: number,
    redelivered: boolean,
    expires: number,
  ): void;
  /** The earliest expiry time among the heads (epoch ms); 0 when none expires. */
  headExpires(): number;
  /** Removes and returns a head message that expires at or before `now`. */
  shiftExpired(now: number): QueuedMessage | undefined;
  shift(): QueuedMessage | undefined;
  dropHead(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): boolean;
  insert(qm: QueuedMessage): void;
  clear(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): number;
}

export class ReadyList implements Ready {
  private readonly items = new Deque<Item>();
  private count = 0;
  /** Bytes of the ready messages' bodies (in memory or not). */
  bytes = 0;

  constructor(private readonly revive: () => Reviver | undefined) {}

  get length(): number {
    return this.count;
  }

  /** Appends a message; a stored one whose body is paged out goes into a compact run. */
  push(msg: Message, seq: number, redelivered: boolean, expires: number): void {
    const stored = msg.stored;
    if (!stored || msg.resident || !this.revive()) {
      this.count++;
      this.bytes += msg.size;
      this.items.push({ msg, seq, redelivered, expires });
      return;
    }
    this.pushPaged(shapeOf(msg), stored, msg.size, seq, redelivered, expires);
  }

  /** Appends a paged-out stored message without an object for it (recovery). */
  pushPaged(
    shape: MessageShape,
    stored: { id: number; segment: number; offset: number },
    size: number,
    seq: number,
    redelivered: boolean,
    expires: number,
  ): void {
    this.count++;
    this.bytes += size;
    let run = this.items.peekLast();
    if (!(run instanceof PagedRun) || run.full || run.firstSeq + run.end !== seq) {
      run = new PagedRun(seq);
      this.items.push(run);
    }
    const i = run.end++;
    run.ids[i] = stored.id;
    run.segments[i] = stored.segment;
    run.offsets[i] = stored.offset;
    run.lengths[i] = size;
    run.redelivered[i] = redelivered ? 1 : 0;
    run.shapes[i] = shape;
    if (expires !== 0) (run.expires ??= new Float64Array(RUN_SIZE))[i] = expires;
  }

  /** When the head message expires (epoch ms); 0 when it does not, or the list is empty. */
  headExpires(): number {
    const head = this.items.peek();
    if (head === undefined) return 0;
    if (head instanceof PagedRun) return head.expires ? head.expires[head.start] : 0;
    return head.expires;
  }

  /** Removes and returns the head message if it expires at or before `now`. */
  shiftExpired(now: number): QueuedMessage | undefined {
    const at = this.headExpires();
    return at === 0 || at > now ? undefined : this.shift();
  }

  /** Removes and returns the head message (rebuilt as an object if it was paged out). */
  shift(): QueuedMessage | undefined {
    const head = this.items.peek();
    if (head === undefined) return undefined;
    let qm: QueuedMessage;
    if (head instanceof PagedRun) {
      const i = head.start++;
      const shape = head.shapes[i];
      const msg = new Message(
        shape.exchange,
        shape.routingKey,
        shape.properties,
        null,
        head.lengths[i],
      );
      msg.stored = this.revive()!(head.ids[i], head.segments[i], head.offsets[i], head.lengths[i]);
      head.shapes[i] = undefined as unknown as MessageShape;
      qm = {
        msg,
        seq: head.firstSeq + i,
        redelivered: head.redelivered[i] === 1,
        expires: head.expires ? head.expires[i] : 0,
      };
      if (head.count === 0) this.items.shift();
    } else {
      qm = this.items.shift() as QueuedMessage;
    }
    this.count--;
    this.bytes -= qm.msg.size;
    return qm;
  }

  /**
   * Removes the head message without making an object for it (overflow drop-head), reporting it
   * as {@link clear} does; false when the list is empty.
   */
  dropHead(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): boolean {
    const head = this.items.peek();
    if (head === undefined) return false;
    if (head instanceof PagedRun) {
      const i = head.start++;
      this.bytes -= head.lengths[i];
      head.shapes[i] = undefined as unknown as MessageShape;
      if (head.count === 0) this.items.shift();
      onPaged(head.ids[i], head.segments[i]);
    } else {
      const qm = this.items.shift() as QueuedMessage;
      this.bytes -= qm.msg.size;
      onMessage(qm.msg);
    }
    this.count--;
    return true;
  }

  /** Puts a message back at its place by sequence number (requeue). */
  insert(qm: QueuedMessage): void {
    this.count++;
    this.bytes += qm.msg.size;
    this.items.insertOrdered(qm, (a, b) => seqOf(a) < seqOf(b));
  }

  /**
   * Empties the list, reporting each message: objects as they are, paged ones by their store
   * coordinates (no object is made for them).
   */
  clear(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): number {
    const n = this.count;
    for (const item of this.items) {
      if (item instanceof PagedRun) {
        for (let i = item.start; i < item.end; i++) onPaged(item.ids[i], item.segments[i]);
      } else onMessage(item.msg);
    }
    this.items.clear();
    this.count = 0;
    this.bytes = 0;
    return n;
  }
}

const PRIORITY_FLAG = 1 << (15 - 4);

/** A message's priority property (0 when absent), read from its raw property bytes. */
function priorityOf(props: Uint8Array, decode: () => number | undefined): number {
  if (props.length < 2 || (((props[0] << 8) | props[1]) & PRIORITY_FLAG) === 0) return 0;
  return decode() ?? 0;
}

/**
 * The ready messages of a priority queue (x-max-priority): one {@link ReadyList} per priority
 * that has been used, so paged runs work within each. The highest priority is served first, FIFO
 * within a priority; a message without a priority counts as 0, one above the maximum as the
 * maximum. Each level numbers its messages itself, so a level's paged runs stay consecutive; a
 * requeued message goes back to its place within its own level.
 */
export class PriorityReadyList implements Ready {
  /** Levels by priority (sparse: made on first use). */
  private readonly levels: (ReadyList | undefined)[] = [];
  /** The levels made so far, highest priority first. */
  private readonly order: ReadyList[] = [];
  /** Each level's next sequence number. */
  private readonly nextSeq = new Map<ReadyList, number>();
  private count = 0;
  bytes = 0;

  constructor(readonly maxPriority: number, private readonly revive: () => Reviver | undefined) {}

  get length(): number {
    return this.count;
  }

  private level(priority: number): ReadyList {
    const p = Math.min(priority, this.maxPriority);
    let level = this.levels[p];
    if (!level) {
      level = new ReadyList(this.revive);
      this.levels[p] = level;
      this.nextSeq.set(level, 1);
      this.order.length = 0;
      for (let i = this.maxPriority; i >= 0; i--) {
        const l = this.levels[i];
        if (l) this.order.push(l);
      }
    }
    return level;
  }

  private seqIn(level: ReadyList): number {
    const seq = this.nextSeq.get(level)!;
    this.nextSeq.set(level, seq + 1);
    return seq;
  }

  /** The highest-priority level that holds messages. */
  private top(): ReadyList | undefined {
    for (const level of this.order) if (level.length > 0) return level;
    return undefined;
  }

  push(msg: Message, _seq: number, redelivered: boolean, expires: number): void {
    const level = this.level(priorityOf(msg.properties, () => msg.props.priority));
    level.push(msg, this.seqIn(level), redelivered, expires);
    this.count++;
    this.bytes += msg.size;
  }

  pushPaged(
    shape: MessageShape,
    stored: { id: number; segment: number; offset: number },
    size: number,
    _seq: number,
    redelivered: boolean,
    expires: number,
  ): void {
    const priority = priorityOf(
      shape.properties,
      () => new Message(shape.exchange, shape.routingKey, shape.properties, null).props.priority,
    );
    const level = this.level(priority);
    level.pushPaged(shape, stored, size, this.seqIn(level), redelivered, expires);
    this.count++;
    this.bytes += size;
  }

  headExpires(): number {
    let min = 0;
    for (const level of this.order) {
      const at = level.headExpires();
      if (at !== 0 && (min === 0 || at < min)) min = at;
    }
    return min;
  }

  shiftExpired(now: number): QueuedMessage | undefined {
    for (const level of this.order) {
      const qm = level.shiftExpired(now);
      if (qm) return this.took(qm);
    }
    return undefined;
  }

  private took(qm: QueuedMessage): QueuedMessage {
    this.count--;
    this.bytes -= qm.msg.size;
    return qm;
  }

  shift(): QueuedMessage | undefined {
    const qm = this.top()?.shift();
    return qm && this.took(qm);
  }

  /** Drops the head of the highest priority, as RabbitMQ's priority queue does (drop-head). */
  dropHead(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): boolean {
    const level = this.top();
    if (!level) return false;
    const bytes = level.bytes;
    level.dropHead(onMessage, onPaged);
    this.count--;
    this.bytes -= bytes - level.bytes;
    return true;
  }

  insert(qm: QueuedMessage): void {
    this.level(priorityOf(qm.msg.properties, () => qm.msg.props.priority)).insert(qm);
    this.count++;
    this.bytes += qm.msg.size;
  }

  clear(
    onMessage: (msg: Message) => void,
    onPaged: (id: number, segment: number) => void,
  ): number {
    for (const level of this.order) level.clear(onMessage, onPaged);
    const n = this.count;
    this.count = 0;
    this.bytes = 0;
    return n;
  }
}
