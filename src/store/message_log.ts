/**
 * The message log: an append-only sequence of segment files holding persistent messages and the
 * events that settle them, with a CRC-32 per record and group commit.
 *
 * Record: payload length (u32) · CRC-32 of type and payload (u32) · type (u8) · payload.
 * - PUBLISH: message id (u64) · queue count (u16) · queue ids (u32 each) · exchange (shortstr) ·
 *   routing key (shortstr) · properties (u32 length + bytes) · body (u32 length + bytes).
 *   One record per message, whatever the number of durable queues it reached.
 * - SETTLE: queue id (u32) · message id (u64) · segment of the PUBLISH record (u32): the message
 *   left that queue (ack, reject, purge, expiry).
 * - DELIVERED: queue id (u32) · message id (u64): first delivery, so recovery can set redelivered.
 *
 * Group commit: appends go to a memory buffer; one write + one fsync covers everything appended
 * since the previous one, and {@link MessageLog.sync} resolves once that fsync is done.
 *
 * Reclaiming space: each segment counts its live (queue, message) references. A segment is deleted
 * when it has none left and no live segment older than it still holds a message that one of its
 * SETTLE records settles (else recovery would bring that message back).
 */
import { crc32 } from "./crc32.ts";
import { log } from "../log.ts";
import { internProperties } from "../broker/message.ts";
import { copyAscii } from "../amqp/writer.ts";

export const RECORD_PUBLISH = 1;
export const RECORD_SETTLE = 2;
export const RECORD_DELIVERED = 3;

const HEADER = 9;
interface SegmentData {
  buf: Uint8Array;
  data: Uint8Array;
  view: DataView;
}

/** Reads a whole segment file into `prev`'s buffer when it is large enough. */
function readSegment(path: string, prev: SegmentData | undefined): SegmentData {
  const file = Deno.openSync(path, { read: true });
  try {
    const size = file.statSync().size;
    let buf = prev?.buf;
    if (!buf || buf.length < size) {
      buf = new Uint8Array(Math.max(size, SEGMENT_TARGET_SIZE + 1024 * 1024));
    }
    let off = 0;
    while (off < size) {
      const n = file.readSync(buf.subarray(off, size));
      if (n === null) break;
      off += n;
    }
    const data = buf.subarray(0, off);
    return { buf, data, view: new DataView(buf.buffer, 0, off) };
  } finally {
    file.close();
  }
}

/** Shared empty list for messages never delivered (most of them). */
const NONE: number[] = [];
const SEGMENT_TARGET_SIZE = 16 * 1024 * 1024;
const MAX_RECORD = 512 * 1024 * 1024;

/** Where a persisted message's body lies on disk. */
export interface BodyLocation {
  segment: number;
  offset: number;
  length: number;
}

/** A live message as {@link MessageLog.scan} reports it (one object, reused for every message). */
export interface LiveMessage {
  id: number;
  /** Kept queues still holding it. */
  queues: number[];
  /** Of those, the ones that had delivered it (recovery marks it redelivered there). */
  delivered: number[];
  exchange: string;
  routingKey: string;
  properties: Uint8Array;
  segment: number;
  bodyOffset: number;
  bodyLength: number;
}

const EMPTY = new Uint8Array(0);

/** A live message found by recovery, as {@link MessageLog.recover} collects them. */
export class RecoveredMessage {
  /** Queues that had delivered it (recovery marks it redelivered there). */
  delivered: number[] = NONE;

  constructor(
    readonly id: number,
    /** Durable queues still holding it. */
    public queues: number[],
    readonly exchange: string,
    readonly routingKey: string,
    readonly properties: Uint8Array,
    readonly segment: number,
    readonly bodyOffset: number,
    readonly bodyLength: number,
  ) {}

  get body(): BodyLocation {
    return { segment: this.segment, offset: this.bodyOffset, length: this.bodyLength };
  }
}

export interface RecoveryReport {
  segments: number;
  records: number;
  corrupt: number;
  truncatedBytes: number;
  maxMessageId: number;
}

interface Segment {
  no: number;
  path: string;
  size: number;
  live: number;
  /** Older segments holding messages that SETTLE records in this segment settled. */
  settles: Set<number>;
  reader: Deno.FsFile | undefined;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Shares equal strings between recovered messages: a million messages published alike then hold
 * one copy of their exchange and routing key, not a million.
 */
class Interner {
  private readonly texts = new Map<string, string>();

  text(data: Uint8Array, start: number, end: number): string {
    const s = dec.decode(data.subarray(start, end));
    const known = this.texts.get(s);
    if (known !== undefined) return known;
    if (this.texts.size < 10_000) this.texts.set(s, s);
    return s;
  }
}

export class MessageLog {
  private readonly interned = new Interner();
  private readonly segments = new Map<number, Segment>();
  /** Segments found empty, deleted at the end of the current task. */
  private readonly reclaimable = new Set<Segment>();
  private current!: Segment;
  private file!: Deno.FsFile;
  /** Files of finished segments still to be fsync'd and closed by the next group commit. */
  private retiring: Deno.FsFile[] = [];
  private buf = new Uint8Array(256 * 1024);
  private view = new DataView(this.buf.buffer);
  private pos = 0;
  private syncing: Promise<void> | undefined;
  /** The promise every append since the last commit started shares; resolved by the next one. */
  private pending: { promise: Promise<void>; resolve: () => void } | undefined;
  private flushScheduled = false;
  private closed = false;
  /** Segment files being deleted (see deleteSegment). */
  private readonly removals = new Set<Promise<void>>();

  constructor(readonly dir: string) {
    Deno.mkdirSync(dir, { recursive: true });
  }

  private segmentPath(no: number): string {
    return `${this.dir}/${String(no).padStart(10, "0")}.log`;
  }

  /**
   * Recovery: reads the segments in order and calls `onLive` for every message still held by a
   * queue that `keep` accepts, in publish order (the record passed is reused between calls: copy
   * what you keep). Truncates a torn tail, skips corrupt records (counting them), rebuilds the
   * segments' bookkeeping, and opens the log for appending. Must be called once, first.
   *
   * Two passes, so memory does not grow with the number of messages: the first collects only
   * settlements and deliveries (and checks every record), the second streams the publishes.
   */
  scan(keep: (queueId: number) => boolean, onLive: (m: LiveMessage) => void): RecoveryReport {
    const files = [...Deno.readDirSync(this.dir)]
      .map((e) => e.name)
      .filter((n) => /^\d{10}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 10)))
      .sort((a, b) => a - b);
    const present = new Set(files);
    const report: RecoveryReport = {
      segments: files.length,
      records: 0,
      corrupt: 0,
      truncatedBytes: 0,
      maxMessageId: 0,
    };
    /** Per queue, the message ids settled (only those whose publish segment still exists). */
    const settled = new Map<number, Set<number>>();
    const delivered = new Map<number, Set<number>>();
    const corrupt = new Map<number, Set<number>>();
    const add = (m: Map<number, Set<number>>, k: number, v: number) => {
      let set = m.get(k);
      if (!set) m.set(k, set = new Set());
      set.add(v);
    };
    let scratch: SegmentData | undefined;
    // Pass 1: check every record, truncate a torn tail, collect settlements and deliveries.
    for (let i = 0; i < files.length; i++) {
      const no = files[i];
      const path = this.segmentPath(no);
      // One buffer for every segment: a fresh 16 MiB array per segment would stay in memory
      // until a GC, which costs gigabytes of RSS on a large store.
      scratch = readSegment(path, scratch);
      const { data, view } = scratch;
      const settles = new Set<number>();
      let pos = 0;
      while (pos < data.length) {
        if (data.length - pos < HEADER) break;
        const len = view.getUint32(pos);
        // No record is empty: a zero length is unwritten space (zeros after a crash), the end.
        if (len === 0 || len > MAX_RECORD || pos + HEADER + len > data.length) break;
        const type = data[pos + 8];
        if (
          crc32(data, pos + 8, pos + HEADER + len) !== view.getUint32(pos + 4) ||
          type < RECORD_PUBLISH || type > RECORD_DELIVERED
        ) {
          report.corrupt++;
          add(corrupt, no, pos);
          log.warn("message store: skipping a corrupt record", { segment: path, offset: pos });
          pos += HEADER + len;
          continue;
        }
        report.records++;
        const p = pos + HEADER;
        if (type === RECORD_PUBLISH) {
          const id = view.getUint32(p) * 0x100000000 + view.getUint32(p + 4);
          if (id > report.maxMessageId) report.maxMessageId = id;
        } else {
          const queue = view.getUint32(p);
          const id = view.getUint32(p + 4) * 0x100000000 + view.getUint32(p + 8);
          if (type === RECORD_DELIVERED) add(delivered, queue, id);
          else {
            const publishedIn = view.getUint32(p + 12);
            if (present.has(publishedIn)) {
              add(settled, queue, id);
              if (publishedIn !== no) settles.add(publishedIn);
            }
          }
        }
        pos += HEADER + len;
      }
      if (pos < data.length) {
        if (i === files.length - 1) {
          report.truncatedBytes += data.length - pos;
          log.warn("message store: truncating a torn tail", {
            segment: path,
            offset: pos,
            bytes: data.length - pos,
          });
          Deno.truncateSync(path, pos);
        } else {
          report.corrupt++;
          log.warn("message store: unreadable rest of segment skipped", {
            segment: path,
            offset: pos,
            bytes: data.length - pos,
          });
        }
      }
      this.segments.set(no, { no, path, size: pos, live: 0, settles, reader: undefined });
    }
    // Pass 2: stream the publishes that some kept queue still holds.
    const live: LiveMessage = {
      id: 0,
      queues: [],
      delivered: [],
      exchange: "",
      routingKey: "",
      properties: EMPTY,
      segment: 0,
      bodyOffset: 0,
      bodyLength: 0,
    };
    for (const no of files) {
      const seg = this.segments.get(no)!;
      scratch = readSegment(seg.path, scratch);
      const { data, view } = scratch;
      const bad = corrupt.get(no);
      for (let pos = 0; pos < seg.size; pos += HEADER + view.getUint32(pos)) {
        if (data[pos + 8] !== RECORD_PUBLISH || bad?.has(pos)) continue;
        let p = pos + HEADER;
        const id = view.getUint32(p) * 0x100000000 + view.getUint32(p + 4);
        p += 8;
        const n = view.getUint16(p);
        p += 2;
        live.queues.length = 0;
        live.delivered.length = 0;
        for (let q = 0; q < n; q++, p += 4) {
          const queue = view.getUint32(p);
          if (settled.get(queue)?.delete(id) || !keep(queue)) continue;
          live.queues.push(queue);
          if (delivered.get(queue)?.has(id)) live.delivered.push(queue);
        }
        if (live.queues.length === 0) continue;
        const exLen = data[p++];
        live.exchange = this.interned.text(data, p, p + exLen);
        p += exLen;
        const rkLen = data[p++];
        live.routingKey = this.interned.text(data, p, p + rkLen);
        p += rkLen;
        const propsLen = view.getUint32(p);
        p += 4;
        live.properties = internProperties(data, p, p + propsLen);
        p += propsLen;
        live.bodyLength = view.getUint32(p);
        live.bodyOffset = p + 4;
        live.id = id;
        live.segment = no;
        seg.live += live.queues.length;
        onLive(live);
      }
    }
    const last = files.length > 0 ? files[files.length - 1] : 0;
    this.openForAppend(last === 0 ? 1 : last);
    for (const s of [...this.segments.values()]) this.maybeReclaim(s);
    return report;
  }

  /** {@link scan}, collecting the live messages (for tests and small stores). */
  recover(
    keep: (queueId: number) => boolean,
  ): { messages: RecoveredMessage[]; report: RecoveryReport } {
    const messages: RecoveredMessage[] = [];
    const report = this.scan(keep, (m) => {
      const r = new RecoveredMessage(
        m.id,
        [...m.queues],
        m.exchange,
        m.routingKey,
        m.properties,
        m.segment,
        m.bodyOffset,
        m.bodyLength,
      );
      if (m.delivered.length > 0) r.delivered = [...m.delivered];
      messages.push(r);
    });
    return { messages, report };
  }

  private openForAppend(no: number): void {
    let seg = this.segments.get(no);
    if (!seg) {
      seg = {
        no,
        path: this.segmentPath(no),
        size: 0,
        live: 0,
        settles: new Set(),
        reader: undefined,
      };
      this.segments.set(no, seg);
    }
    this.current = seg;
    this.file = Deno.openSync(seg.path, { write: true, create: true });
    this.file.seekSync(seg.size, Deno.SeekMode.Start);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private begin(type: number, payloadMax: number): number {
    if (this.closed) throw new Error("message store is closed");
    this.ensure(HEADER + payloadMax);
    const at = this.pos;
    this.buf[at + 8] = type;
    this.pos += HEADER;
    return at;
  }

  private finish(at: number): void {
    const len = this.pos - at - HEADER;
    this.view.setUint32(at, len);
    this.view.setUint32(at + 4, crc32(this.buf, at + 8, this.pos));
    this.current.size += HEADER + len;
    this.scheduleFlush();
  }

  private u64(v: number): void {
    this.view.setUint32(this.pos, Math.floor(v / 0x100000000));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }

  private u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  private shortstr(s: string): void {
    const at = this.pos;
    const ascii = s.length <= 255 ? copyAscii(s, this.buf, at + 1) : -1;
    const written = ascii >= 0
      ? ascii
      : enc.encodeInto(s, this.buf.subarray(at + 1, at + 256)).written;
    this.buf[at] = written;
    this.pos = at + 1 + written;
  }

  /** Appends a message for `queues`; returns where its body will be on disk. */
  appendPublish(
    id: number,
    queues: number[],
    exchange: string,
    routingKey: string,
    properties: Uint8Array,
    body: Uint8Array,
  ): BodyLocation {
    if (this.current.size >= SEGMENT_TARGET_SIZE) this.rollover();
    const at = this.begin(
      RECORD_PUBLISH,
      8 + 2 + queues.length * 4 + 2 * 256 + 8 + properties.length + body.length,
    );
    this.u64(id);
    this.view.setUint16(this.pos, queues.length);
    this.pos += 2;
    for (const q of queues) this.u32(q);
    this.shortstr(exchange);
    this.shortstr(routingKey);
    this.u32(properties.length);
    this.buf.set(properties, this.pos);
    this.pos += properties.length;
    this.u32(body.length);
    const bodyOffset = this.current.size + (this.pos - at);
    this.buf.set(body, this.pos);
    this.pos += body.length;
    this.finish(at);
    this.current.live += queues.length;
    return { segment: this.current.no, offset: bodyOffset, length: body.length };
  }

  /** Records that message `id` (published in `segment`) left queue `queue`. */
  appendSettle(queue: number, id: number, segment: number): void {
    const at = this.begin(RECORD_SETTLE, 16);
    this.u32(queue);
    this.u64(id);
    this.u32(segment);
    this.finish(at);
    if (segment !== this.current.no) this.current.settles.add(segment);
    const seg = this.segments.get(segment);
    if (seg) {
      seg.live--;
      this.maybeReclaim(seg);
    }
  }

  appendDelivered(queue: number, id: number): void {
    const at = this.begin(RECORD_DELIVERED, 12);
    this.u32(queue);
    this.u64(id);
    this.finish(at);
  }

  /** Drops one live reference without a record (its queue was deleted, so recovery drops it). */
  release(segment: number): void {
    const seg = this.segments.get(segment);
    if (seg) {
      seg.live--;
      this.maybeReclaim(seg);
    }
  }

  private rollover(): void {
    this.flushBuffer();
    this.retiring.push(this.file);
    const prev = this.current;
    this.openForAppend(prev.no + 1);
    this.maybeReclaim(prev);
  }

  /** Deletes a segment with nothing live that no older live segment depends on, and any it frees. */
  private maybeReclaim(seg: Segment): void {
    if (seg === this.current || seg.live > 0 || !this.segments.has(seg.no)) return;
    for (const older of seg.settles) if (this.segments.has(older)) return;
    // Not now: the message whose settlement emptied the segment may still be being delivered
    // (a no-ack delivery settles before its body is written). Delete once this task is done.
    this.reclaimable.add(seg);
    if (this.reclaimable.size === 1) queueMicrotask(() => this.reclaimPending());
  }

  private reclaimPending(): void {
    const segs = [...this.reclaimable];
    this.reclaimable.clear();
    for (const seg of segs) {
      if (seg.live === 0 && seg !== this.current) this.deleteSegment(seg);
    }
  }

  private deleteSegment(seg: Segment): void {
    if (!this.segments.has(seg.no)) return;
    this.segments.delete(seg.no);
    seg.reader?.close();
    // Unlinking 16 MiB makes the kernel free its blocks, which took a few percent of the event
    // loop's time when done synchronously; Deno.remove does it on a worker thread. Newer
    // segments whose settle records cover this one wait until it is really gone, so that a crash
    // in between can never leave its messages on disk without their settlements.
    const removal = Deno.remove(seg.path).catch(() => {/* already gone */}).finally(() => {
      this.removals.delete(removal);
      if (this.closed) return;
      for (const other of this.segments.values()) {
        if (other.settles.has(seg.no)) {
          other.settles.delete(seg.no);
          this.maybeReclaim(other);
        }
      }
    });
    this.removals.add(removal);
  }

  /** Resolves when every segment deletion begun so far (and any it led to) has finished. */
  async removalsDone(): Promise<void> {
    while (this.removals.size > 0) await Promise.all(this.removals);
  }

  /**
   * Resolves when everything appended so far is on disk (fsync'd). Every call until the next
   * commit starts gets the same promise, so callers can tell which appends it covers.
   */
  sync(): Promise<void> {
    if (!this.pending) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => resolve = r);
      this.pending = { promise, resolve };
    }
    this.scheduleFlush();
    return this.pending.promise;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.groupCommit();
    });
  }

  private flushBuffer(): void {
    let off = 0;
    while (off < this.pos) off += this.file.writeSync(this.buf.subarray(off, this.pos));
    this.pos = 0;
  }

  /** One write and one fsync for all appended since the last; the next batch waits its turn. */
  private groupCommit(): void {
    if (this.syncing || (this.pos === 0 && !this.pending && this.retiring.length === 0)) return;
    this.flushBuffer();
    const batch = this.pending;
    this.pending = undefined;
    const retiring = this.retiring;
    this.retiring = [];
    const files = [...retiring, this.file];
    this.syncing = Promise.all(files.map((f) => f.syncData())).catch((err) => {
      log.error("message store: fsync failed", { error: String(err) });
    }).then(() => {
      for (const f of retiring) f.close();
      this.syncing = undefined;
      batch?.resolve();
      if (this.pos > 0 || this.pending) this.groupCommit();
    });
  }

  /** Reads a body back from disk. */
  readBody(loc: BodyLocation): Uint8Array {
    const seg = this.segments.get(loc.segment);
    if (!seg) throw new Error(`message store: segment ${loc.segment} is gone`);
    if (seg === this.current && this.pos > 0) this.flushBuffer();
    seg.reader ??= Deno.openSync(seg.path, { read: true });
    const out = new Uint8Array(loc.length);
    seg.reader.seekSync(loc.offset, Deno.SeekMode.Start);
    let off = 0;
    while (off < out.length) {
      const n = seg.reader.readSync(out.subarray(off));
      if (n === null) throw new Error(`message store: segment ${loc.segment} ends early`);
      off += n;
    }
    return out;
  }

  /** Bytes of segment files on disk. */
  diskSize(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.segments.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    while (this.syncing) await this.syncing;
    await this.removalsDone();
    this.closed = true;
    this.file.close();
    for (const s of this.segments.values()) s.reader?.close();
  }
}
