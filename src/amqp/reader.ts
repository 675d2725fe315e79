/**
 * A cursor over a byte range that reads AMQP's primitive types in network byte order.
 *
 * One Reader is reused for every frame of a connection: {@link Reader.reset} points it at the next
 * frame's payload inside the connection's read buffer, so parsing allocates nothing but the values.
 */
import { readTable } from "./table.ts";
import type { FieldTable } from "./table.ts";

/** Raised when a payload ends before the value being read, or holds an impossible value. */
export class DecodeError extends Error {}

// ignoreBOM: a leading U+FEFF is part of the string, not a byte-order mark to drop.
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

export class Reader {
  buf: Uint8Array;
  view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array = new Uint8Array(0), pos = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  /** Points the reader at `buf[pos, end)`; reuses the DataView when the buffer is the same. */
  reset(buf: Uint8Array, pos: number, end: number): void {
    if (buf !== this.buf) {
      this.buf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    this.pos = pos;
    this.end = end;
  }

  need(n: number): void {
    if (this.pos + n > this.end) {
      throw new DecodeError(`payload ends ${this.pos + n - this.end} byte(s) early`);
    }
  }

  remaining(): number {
    return this.end - this.pos;
  }

  octet(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  int8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  short(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  long(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Unsigned 64-bit as a number: exact up to 2^53, which delivery tags and sizes never pass. */
  longlong(): number {
    this.need(8);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  int64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }

  uint64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /** A view of the next `n` bytes (no copy: valid only while the underlying buffer is). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  shortstr(): string {
    const len = this.octet();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    return decodeShortString(this.buf, start, start + len);
  }

  longstr(): string {
    const len = this.long();
    this.need(len);
    const start = this.pos;
    this.pos += len;
    return decodeText(this.buf, start, start + len);
  }

  /** A long string kept as bytes (SASL responses may hold NULs and need not be UTF-8). */
  longstrBytes(): Uint8Array {
    return this.bytes(this.long());
  }

  table(): FieldTable {
    return readTable(this, 0);
  }
}

/** Decodes UTF-8; short ASCII strings (names, routing keys) skip TextDecoder, which costs more. */
export function decodeText(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = "";
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
      return s;
    }
  }
  return utf8.decode(buf.subarray(start, end));
}

/**
 * Exchange names and routing keys repeat on almost every publish. Decoding them afresh costs a
 * string allocation per message, and a fresh string's hash is computed again at every Map lookup
 * (exchange by name, direct bindings by key). This cache hands back the same string object for
 * the same bytes: a hash of the bytes picks a slot, and a hit is confirmed by comparing the bytes
 * with the cached string's characters, so a miss allocates nothing beyond the decoded string.
 * Only ASCII strings of up to 64 bytes are cached (one byte per character makes the comparison
 * exact); others are decoded every time.
 */

const SLOTS = 4096;
const MAX_CACHED = 64;
const slots: (string | undefined)[] = new Array(SLOTS).fill(undefined);

/** The string for UTF-8 bytes `buf[start, end)`, shared with earlier calls for the same bytes. */
export function decodeShortString(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len > MAX_CACHED) return decodeText(buf, start, end);
  // The slot comes from the length and the first and last bytes (names differ mostly at their
  // ends: "orders.eu" / "orders.us", "k1" / "k2"); a hit is then confirmed byte by byte, which
  // also checks that the bytes are ASCII (cached strings are).
  let h = len;
  if (len > 0) {
    h = Math.imul(h ^ buf[start], 0x01000193);
    h = Math.imul(h ^ buf[end - 1], 0x01000193);
    if (len > 2) h = Math.imul(h ^ ((buf[end - 2] << 8) | buf[start + 1]), 0x01000193);
    if (len > 4) h = Math.imul(h ^ ((buf[end - 3] << 8) | buf[end - 4]), 0x01000193);
  }
  const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
  const cached = slots[slot];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached.charCodeAt(i) === buf[start + i]) i++;
    if (i === len) return cached;
  }
  for (let i = start; i < end; i++) if (buf[i] > 0x7f) return decodeText(buf, start, end);
  const text = decodeText(buf, start, end);
  slots[slot] = text;
  return text;
}
