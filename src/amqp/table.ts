/**
 * AMQP field tables and arrays (RabbitMQ's type letters), decoded so that re-encoding gives back
 * the same bytes.
 *
 * Values whose JavaScript form already says their wire type decode as plain values: boolean ('t'),
 * a 32-bit integer ('I'), a non-integral double ('d'), a UTF-8 long string ('S'), a nested table
 * ('F'), an array ('A') and null ('V'). Every other type decodes as a {@link Field} that keeps its
 * type letter, so an int8 stays an int8 and a double that happens to be 2.0 stays a double.
 */
import { DecodeError } from "./reader.ts";
import type { Reader } from "./reader.ts";
import type { Writer } from "./writer.ts";

/** RabbitMQ's field type letters. */
export type FieldType =
  | "t"
  | "b"
  | "B"
  | "s"
  | "u"
  | "I"
  | "i"
  | "l"
  | "L"
  | "f"
  | "d"
  | "D"
  | "S"
  | "A"
  | "T"
  | "F"
  | "V"
  | "x";

export interface Decimal {
  scale: number;
  value: number;
}

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | null
  | Uint8Array
  | Decimal
  | Field
  | FieldValue[]
  | FieldTable;

export interface FieldTable {
  [key: string]: FieldValue;
}

/** A value with an explicit wire type. */
export class Field {
  constructor(readonly type: FieldType, readonly value: FieldValue) {}
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Deeper nesting than this is refused before it can exhaust the stack. */
export const MAX_TABLE_DEPTH = 64;

// ignoreBOM: a leading U+FEFF is part of the value, not a byte-order mark to drop.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function readTable(r: Reader, depth: number): FieldTable {
  if (depth > MAX_TABLE_DEPTH) throw new DecodeError("field table nested too deeply");
  const len = r.long();
  r.need(len);
  const end = r.pos + len;
  const table: FieldTable = {};
  const outerEnd = r.end;
  r.end = end;
  try {
    while (r.pos < end) {
      const key = r.shortstr();
      table[key] = readValue(r, depth);
    }
  } finally {
    r.end = outerEnd;
  }
  return table;
}

function readArray(r: Reader, depth: number): FieldValue[] {
  if (depth > MAX_TABLE_DEPTH) throw new DecodeError("field array nested too deeply");
  const len = r.long();
  r.need(len);
  const end = r.pos + len;
  const out: FieldValue[] = [];
  const outerEnd = r.end;
  r.end = end;
  try {
    while (r.pos < end) out.push(readValue(r, depth));
  } finally {
    r.end = outerEnd;
  }
  return out;
}

function readValue(r: Reader, depth: number): FieldValue {
  const type = String.fromCharCode(r.octet());
  switch (type) {
    case "t":
      return r.octet() !== 0;
    case "b":
      return new Field("b", r.int8());
    case "B":
      return new Field("B", r.octet());
    case "s":
      return new Field("s", r.int16());
    case "u":
      return new Field("u", r.short());
    case "I":
      return r.int32();
    case "i":
      return new Field("i", r.long());
    case "l":
      return new Field("l", r.int64());
    case "L":
      // Not in the 0-9-1 table, but RabbitMQ accepts it (as a signed 64-bit long), so we do too.
      return new Field("L", r.int64());
    case "f":
      return new Field("f", r.float());
    case "d": {
      const v = r.double();
      return Number.isInteger(v) || !Number.isFinite(v) ? new Field("d", v) : v;
    }
    case "D": {
      const scale = r.octet();
      return new Field("D", { scale, value: r.int32() });
    }
    case "S": {
      const bytes = r.bytes(r.long());
      try {
        return strictUtf8.decode(bytes);
      } catch {
        return new Field("S", bytes.slice());
      }
    }
    case "A":
      return readArray(r, depth + 1);
    case "T": {
      // Unsigned 64-bit: a number while exact, a bigint beyond 2^53.
      const v = r.uint64();
      return new Field("T", v <= MAX_SAFE ? Number(v) : v);
    }
    case "F":
      return readTable(r, depth + 1);
    case "V":
      return null;
    case "x":
      return new Field("x", r.bytes(r.long()).slice());
    default:
      throw new DecodeError(`unknown field type '${type}'`);
  }
}

export function writeTable(w: Writer, table: FieldTable): void {
  const at = w.pos;
  w.long(0);
  for (const key of Object.keys(table)) {
    w.shortstr(key);
    writeValue(w, table[key]);
  }
  w.patchLong(at, w.pos - at - 4);
}

function writeArray(w: Writer, items: FieldValue[]): void {
  const at = w.pos;
  w.long(0);
  for (const v of items) writeValue(w, v);
  w.patchLong(at, w.pos - at - 4);
}

function writeValue(w: Writer, v: FieldValue): void {
  if (v instanceof Field) return writeTyped(w, v.type, v.value);
  if (v === null || v === undefined) return w.octet(0x56); // V
  switch (typeof v) {
    case "boolean":
      return writeTyped(w, "t", v);
    case "string":
      return writeTyped(w, "S", v);
    case "bigint":
      return writeTyped(w, "l", v);
    case "number":
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return writeTyped(w, "I", v);
      if (Number.isSafeInteger(v)) return writeTyped(w, "l", BigInt(v));
      return writeTyped(w, "d", v);
  }
  if (Array.isArray(v)) return writeTyped(w, "A", v);
  if (v instanceof Uint8Array) return writeTyped(w, "x", v);
  if (v instanceof Date) return writeTyped(w, "T", Math.floor(v.getTime() / 1000));
  return writeTyped(w, "F", v as FieldTable);
}

function writeTyped(w: Writer, type: FieldType, v: FieldValue): void {
  w.octet(type.charCodeAt(0));
  switch (type) {
    case "t":
      return w.octet(v ? 1 : 0);
    case "b":
      return w.int8(Number(v));
    case "B":
      return w.octet(Number(v));
    case "s":
      return w.int16(Number(v));
    case "u":
      return w.short(Number(v));
    case "I":
      return w.int32(Number(v));
    case "i":
      return w.long(Number(v));
    case "l":
    case "L":
      return w.int64(BigInt(v as number | bigint));
    case "f":
      return w.float(Number(v));
    case "d":
      return w.double(Number(v));
    case "D": {
      const d = v as Decimal;
      w.octet(d.scale);
      return w.int32(d.value);
    }
    case "S":
      return w.longstr(v as string | Uint8Array);
    case "A":
      return writeArray(w, v as FieldValue[]);
    case "T":
      return typeof v === "bigint" ? w.uint64(v) : w.longlong(Number(v));
    case "F":
      return writeTable(w, v as FieldTable);
    case "V":
      return;
    case "x":
      return w.longstr(v as Uint8Array);
  }
}

/** The plain JavaScript value behind a field, for comparisons (headers exchange matching). */
export function plainValue(v: FieldValue): unknown {
  if (v instanceof Field) {
    if (typeof v.value === "bigint") {
      return Number.isSafeInteger(Number(v.value)) ? Number(v.value) : v.value;
    }
    return plainValue(v.value);
  }
  return v;
}
