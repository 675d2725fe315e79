/**
 * A growable byte buffer that writes AMQP's primitive types in network byte order.
 *
 * A connection keeps one Writer as its output buffer: every frame it sends is appended here and the
 * whole buffer goes to the socket in one write per batch.
 */
import { writeTable } from "./table.ts";
import type { FieldTable } from "./table.ts";

const utf8 = new TextEncoder();

export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes, doubling the buffer as needed. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** The bytes written so far (a view: copy it before writing more if it must be kept). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  clear(): void {
    this.pos = 0;
  }

  octet(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  int8(v: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos++, v);
  }

  short(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }

  long(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  longlong(v: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(v / 0x100000000));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  uint64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v);
    this.pos += 8;
  }

  float(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  shortstr(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; encodeInto writes in place, without allocating.
    this.ensure(1 + s.length * 3);
    const start = this.pos;
    const ascii = s.length <= 64 ? copyAscii(s, this.buf, start + 1) : -1;
    if (ascii >= 0) {
      this.buf[start] = ascii;
      this.pos = start + 1 + ascii;
      return;
    }
    const { written } = utf8.encodeInto(s, this.buf.subarray(start + 1));
    if (written > 255) throw new RangeError(`short string of ${written} bytes (max 255)`);
    this.buf[start] = written;
    this.pos = start + 1 + written;
  }

  longstr(s: string | Uint8Array): void {
    if (typeof s !== "string") {
      this.long(s.length);
      this.raw(s);
      return;
    }
    this.ensure(4 + s.length * 3);
    const start = this.pos;
    const { written } = utf8.encodeInto(s, this.buf.subarray(start + 4));
    this.view.setUint32(start, written);
    this.pos = start + 4 + written;
  }

  table(t: FieldTable | undefined): void {
    writeTable(this, t ?? {});
  }

  /** Patches a 32-bit value at an earlier position (frame and table sizes). */
  patchLong(at: number, v: number): void {
    this.view.setUint32(at, v);
  }
}

/**
 * Copies `s` into `buf` at `at` when it is all ASCII and returns its length, else -1 (the caller
 * falls back to a TextEncoder). Names and routing keys are mostly short ASCII, and copying their
 * characters costs less than the call into the encoder.
 */
export function copyAscii(s: string, buf: Uint8Array, at: number): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    buf[at + i] = c;
  }
  return s.length;
}
