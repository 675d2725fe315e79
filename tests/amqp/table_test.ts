import assert from "node:assert/strict";
import { DecodeError, Reader } from "../../src/amqp/reader.ts";
import { Writer } from "../../src/amqp/writer.ts";
import { Field, MAX_TABLE_DEPTH, plainValue, readTable, writeTable } from "../../src/amqp/table.ts";
import type { FieldTable, FieldValue } from "../../src/amqp/table.ts";

const enc = new TextEncoder();

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function f32(v: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v);
  return Array.from(b);
}

function f64(v: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v);
  return Array.from(b);
}

function i64(v: bigint): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
  return Array.from(b);
}

function shortstr(s: string): number[] {
  const b = enc.encode(s);
  return [b.length, ...b];
}

function longstr(b: number[] | Uint8Array): number[] {
  return [...u32(b.length), ...b];
}

/** A field table (with its 4-byte size) holding `entries` = key + type letter + value bytes. */
function table(...entries: number[][]): Uint8Array {
  const body = entries.flat();
  return new Uint8Array([...u32(body.length), ...body]);
}

const entry = (key: string, type: string, value: number[] = []) => [
  ...shortstr(key),
  type.charCodeAt(0),
  ...value,
];

function decode(bytes: Uint8Array): FieldTable {
  const r = new Reader(bytes);
  const t = readTable(r, 0);
  assert.equal(r.pos, bytes.length, "whole table consumed");
  return t;
}

function encode(t: FieldTable): Uint8Array {
  const w = new Writer(8);
  writeTable(w, t);
  return w.bytes().slice();
}

/** Decodes, checks the decoded value, re-encodes and checks the bytes are unchanged. */
function roundTrip(type: string, valueBytes: number[], expected: FieldValue) {
  const bytes = table(entry("k", type, valueBytes));
  const t = decode(bytes);
  assert.deepEqual(t, { k: expected }, `decode '${type}'`);
  assert.deepEqual(Array.from(encode(t)), Array.from(bytes), `re-encode '${type}'`);
}

Deno.test("table: every field type round-trips byte for byte", () => {
  roundTrip("t", [1], true);
  roundTrip("t", [0], false);
  roundTrip("b", [0x80], new Field("b", -128));
  roundTrip("b", [0x7f], new Field("b", 127));
  roundTrip("B", [0xff], new Field("B", 255));
  roundTrip("s", [0x80, 0x00], new Field("s", -32768));
  roundTrip("s", [0x7f, 0xff], new Field("s", 32767));
  roundTrip("u", [0xff, 0xff], new Field("u", 65535));
  roundTrip("I", u32(0x80000000), -2147483648);
  roundTrip("I", u32(0x7fffffff), 2147483647);
  roundTrip("I", u32(0), 0);
  roundTrip("i", u32(0xffffffff), new Field("i", 4294967295));
  roundTrip("l", i64(-(2n ** 63n)), new Field("l", -(2n ** 63n)));
  roundTrip("l", i64(2n ** 63n - 1n), new Field("l", 2n ** 63n - 1n));
  roundTrip("l", i64(0n), new Field("l", 0n));
  roundTrip("L", i64(-1n), new Field("L", -1n)); // RabbitMQ reads 'L' as a signed long too
  roundTrip("f", f32(1.5), new Field("f", 1.5));
  roundTrip("f", f32(-Infinity), new Field("f", -Infinity));
  roundTrip("f", f32(0.1), new Field("f", Math.fround(0.1)));
  roundTrip("d", f64(3.25), 3.25);
  roundTrip("d", f64(2), new Field("d", 2)); // integral double stays a double
  roundTrip("d", f64(-0), new Field("d", -0));
  roundTrip("d", f64(1e300), new Field("d", 1e300));
  roundTrip("d", f64(Infinity), new Field("d", Infinity));
  roundTrip("d", f64(NaN), new Field("d", NaN));
  roundTrip("d", f64(Number.MIN_VALUE), Number.MIN_VALUE);
  roundTrip("D", [2, ...u32(314)], new Field("D", { scale: 2, value: 314 }));
  roundTrip("D", [0xff, ...u32(0xffffffff)], new Field("D", { scale: 255, value: -1 }));
  roundTrip("S", longstr(enc.encode("hello")), "hello");
  roundTrip("S", longstr([]), "");
  roundTrip("S", longstr(enc.encode("ünïcödé ✓ 😀")), "ünïcödé ✓ 😀");
  roundTrip("S", longstr(enc.encode("x".repeat(70_000))), "x".repeat(70_000));
  roundTrip("S", longstr([0xef, 0xbb, 0xbf, 0x61]), "\uFEFFa"); // a BOM is content
  roundTrip("S", longstr([0xff, 0xfe, 0x00]), new Field("S", new Uint8Array([0xff, 0xfe, 0])));
  roundTrip("S", longstr([0xc3]), new Field("S", new Uint8Array([0xc3]))); // cut sequence
  roundTrip("S", longstr([0xed, 0xa0, 0x80]), new Field("S", new Uint8Array([0xed, 0xa0, 0x80])));
  roundTrip("T", i64(0n), new Field("T", 0));
  roundTrip("T", i64(1700000000n), new Field("T", 1700000000));
  roundTrip("T", i64(2n ** 53n - 1n), new Field("T", Number.MAX_SAFE_INTEGER));
  roundTrip("T", i64(2n ** 53n), new Field("T", 2n ** 53n));
  roundTrip("T", i64(2n ** 64n - 1n), new Field("T", 2n ** 64n - 1n));
  roundTrip("V", [], null);
  roundTrip("x", longstr([0, 0xff, 0x10]), new Field("x", new Uint8Array([0, 0xff, 0x10])));
  roundTrip("x", longstr([]), new Field("x", new Uint8Array(0)));
  const inner = table(entry("n", "I", u32(7)), entry("s", "S", longstr(enc.encode("v"))));
  roundTrip("F", Array.from(inner), { n: 7, s: "v" });
  roundTrip("F", u32(0), {});
  const arr = [
    0x49,
    ...u32(1),
    0x53,
    ...longstr(enc.encode("two")),
    0x56,
    0x62,
    0xfe,
    0x41,
    ...u32(0),
  ];
  roundTrip("A", [...u32(arr.length), ...arr], [1, "two", null, new Field("b", -2), []]);
  roundTrip("A", u32(0), []);
});

Deno.test("table: keys keep their order and text", () => {
  const bytes = table(
    entry("zeta", "V"),
    entry("alpha", "V"),
    entry("ключ", "V"),
    entry("", "V"),
    entry("k".repeat(255), "V"),
  );
  const t = decode(bytes);
  assert.deepEqual(Object.keys(t), ["zeta", "alpha", "ключ", "", "k".repeat(255)]);
  assert.deepEqual(Array.from(encode(t)), Array.from(bytes));
});

Deno.test("table: everything together, nested tables and arrays", () => {
  const t: FieldTable = {
    bool: true,
    byte: new Field("b", -5),
    ubyte: new Field("B", 200),
    short: new Field("s", -300),
    ushort: new Field("u", 60000),
    int: -123456,
    uint: new Field("i", 3000000000),
    long: new Field("l", 1n << 40n),
    float: new Field("f", 0.5),
    double: 0.25,
    intDouble: new Field("d", 4),
    decimal: new Field("D", { scale: 3, value: 12345 }),
    str: "text",
    bin: new Field("S", new Uint8Array([0x80])),
    time: new Field("T", 1234567890),
    void: null,
    bytes: new Field("x", new Uint8Array([1, 2, 3])),
    nested: { a: { b: { c: [1, [2, [3, { d: "deep" }]]] } } },
    array: [true, new Field("u", 1), "s", null, { t: 1 }, [new Field("d", 1)]],
  };
  const bytes = encode(t);
  const back = decode(bytes);
  assert.deepEqual(back, t);
  assert.deepEqual(Array.from(encode(back)), Array.from(bytes));
});

Deno.test("table: plain JS values choose their wire type", () => {
  const bytes = encode({
    small: 5,
    big: 2 ** 40,
    frac: 1.5,
    huge: 2 ** 60,
    bigint: 7n,
    date: new Date(1_700_000_000_500) as unknown as FieldValue, // the writer accepts Dates
    bytes: new Uint8Array([9]),
    undef: undefined as unknown as FieldValue,
  });
  const t = decode(bytes);
  assert.deepEqual(t, {
    small: 5,
    big: new Field("l", 2n ** 40n),
    frac: 1.5,
    huge: new Field("d", 2 ** 60), // beyond 2^53: written as a double
    bigint: new Field("l", 7n),
    date: new Field("T", 1_700_000_000),
    bytes: new Field("x", new Uint8Array([9])),
    undef: null,
  });
});

Deno.test("table: plainValue unwraps fields for comparison", () => {
  assert.equal(plainValue(new Field("b", -1)), -1);
  assert.equal(plainValue(new Field("l", 5n)), 5);
  assert.equal(plainValue(new Field("l", 2n ** 60n)), 2n ** 60n);
  assert.equal(plainValue(new Field("d", 2)), 2);
  assert.equal(plainValue("s"), "s");
  assert.equal(plainValue(null), null);
  assert.deepEqual(plainValue(new Field("D", { scale: 1, value: 2 })), { scale: 1, value: 2 });
});

/**
 * A top-level table whose entry "a" holds `depth` nested tables ('F', each holding the next as
 * its entry "a") or arrays ('A', each holding the next as its one element). Built iteratively, so
 * the test itself needs no deep recursion.
 */
function nested(depth: number, letter: "F" | "A"): Uint8Array {
  // Per level: the entry or element header, then a 4-byte size.
  const head = letter === "F" ? [1, 0x61, 0x46] : [0x41];
  const sizes = new Array<number>(depth);
  sizes[depth - 1] = 0;
  for (let i = depth - 2; i >= 0; i--) sizes[i] = head.length + 4 + sizes[i + 1];
  const top = [1, 0x61, letter.charCodeAt(0)];
  const total = top.length + 4 + sizes[0];
  const out = new Uint8Array(4 + total);
  const view = new DataView(out.buffer);
  view.setUint32(0, total);
  out.set(top, 4);
  let pos = 4 + top.length;
  for (let i = 0; i < depth; i++) {
    view.setUint32(pos, sizes[i]);
    pos += 4;
    if (i < depth - 1) {
      out.set(head, pos);
      pos += head.length;
    }
  }
  assert.equal(pos, out.length);
  return out;
}

const nestedTables = (depth: number) => nested(depth, "F");
const nestedArrays = (depth: number) => nested(depth, "A");

Deno.test("table: nesting up to MAX_TABLE_DEPTH decodes, deeper is refused", () => {
  const ok = decode(nestedTables(MAX_TABLE_DEPTH));
  let t: FieldTable = ok;
  let levels = 0;
  while (t.a !== undefined) {
    t = t.a as FieldTable;
    levels++;
  }
  assert.equal(levels, MAX_TABLE_DEPTH);
  assert.throws(() => decode(nestedTables(MAX_TABLE_DEPTH + 1)), DecodeError);
  decode(nestedArrays(MAX_TABLE_DEPTH));
  assert.throws(() => decode(nestedArrays(MAX_TABLE_DEPTH + 1)), DecodeError);
});

Deno.test("table: 10,000-deep nesting is a DecodeError, not a stack overflow", () => {
  assert.throws(() => decode(nestedTables(10_000)), DecodeError);
  assert.throws(() => decode(nestedArrays(10_000)), DecodeError);
});

Deno.test("table: unknown type letters are refused", () => {
  for (const letter of ["Z", "U", "c", "\0", "?"]) {
    assert.throws(() => decode(table(entry("k", letter, [0, 0, 0, 0]))), DecodeError, letter);
  }
});

Deno.test("table: sizes that overrun are refused, and the reader's limit is restored", () => {
  // The table claims more bytes than there are.
  assert.throws(() => decode(new Uint8Array([...u32(10), 1, 0x6b, 0x56])), DecodeError);
  // An entry runs past the table's own size, though the buffer has the bytes.
  const bytes = new Uint8Array([...u32(3), 1, 0x6b, 0x49, 0, 0, 0, 1]);
  assert.throws(() => decode(bytes), DecodeError);
  // A long string longer than the table.
  assert.throws(
    () => decode(table(entry("k", "S", [...u32(100), 1, 2]))),
    DecodeError,
  );
  // A key longer than the table.
  assert.throws(() => decode(new Uint8Array([...u32(2), 5, 0x6b])), DecodeError);
  // Every cut of a valid table fails cleanly.
  const good = encode({ a: 1, b: "two", c: { d: [1, 2] }, e: new Field("l", 3n) });
  for (let n = 0; n < good.length; n++) {
    const r = new Reader(good, 0, n);
    assert.throws(() => readTable(r, 0), DecodeError, `cut at ${n}`);
    assert.equal(r.end, n, "reader limit restored");
  }
});

Deno.test("table: a table inside a larger buffer reads only its own bytes", () => {
  const t = encode({ a: 1 });
  const buf = new Uint8Array([0xaa, ...t, 0xbb, 0xcc]);
  const r = new Reader(buf, 1, buf.length);
  assert.deepEqual(readTable(r, 0), { a: 1 });
  assert.equal(r.pos, 1 + t.length);
  assert.equal(r.end, buf.length);
  assert.equal(r.octet(), 0xbb);
});
