/**
 * Interop tests of message content with the npm clients amqplib and @cloudamqp/amqp-client:
 * basic properties, header field tables of every type, body sizes around frame_max, small
 * negotiated frame sizes and heartbeats. A recording TCP proxy between client and broker lets the
 * tests compare the exact bytes a client published with the bytes the broker delivered.
 * Every expectation was checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/content_test.ts
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import type { AMQPMessage } from "@cloudamqp/amqp-client";
import {
  type AmqpChannel as Channel,
  type AmqpConnection as Connection,
  type AmqpError,
  type AmqpMessage as Message,
  type BrokerTestContext as Ctx,
  delay,
  guard,
  interopSuite,
  replyText,
  within,
} from "../helpers/amqp_client.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

const dec = new TextDecoder();

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Deterministic pseudo-random bytes (xorshift32), so a misplaced chunk cannot go unnoticed. */
function pattern(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  for (; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

interface Frame {
  type: number;
  channel: number;
  payload: Uint8Array;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Splits a recorded byte stream into frames (skipping the client's protocol header). */
function parseFrames(chunks: Uint8Array[]): Frame[] {
  const bytes = concat(chunks);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = dec.decode(bytes.subarray(0, 4)) === "AMQP" ? 8 : 0;
  const frames: Frame[] = [];
  while (off + 7 <= bytes.length) {
    const type = view.getUint8(off);
    const channel = view.getUint16(off + 1);
    const size = view.getUint32(off + 3);
    if (off + 8 + size > bytes.length) break; // incomplete
    assert.equal(view.getUint8(off + 7 + size), 0xce, "frame-end octet");
    frames.push({ type, channel, payload: bytes.subarray(off + 7, off + 7 + size) });
    off += 8 + size;
  }
  return frames;
}

function methodId(f: Frame): [number, number] | null {
  if (f.type !== 1) return null;
  const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
  return [v.getUint16(0), v.getUint16(2)];
}

interface WireMessage {
  /** Class/method of the method frame that carried it: basic.publish, deliver, get-ok, return. */
  method: [number, number];
  bodySize: bigint;
  /** The content header's property flags and property list, as sent. */
  properties: Uint8Array;
  bodyFrames: Uint8Array[];
}

/** Groups the frames of one direction into messages (method + header + bodies), per channel. */
function wireMessages(frames: Frame[]): WireMessage[] {
  const out: WireMessage[] = [];
  const open = new Map<number, WireMessage>();
  for (const f of frames) {
    const id = methodId(f);
    if (id && id[0] === 60 && [40, 50, 60, 71].includes(id[1])) {
      const m: WireMessage = {
        method: id,
        bodySize: -1n,
        properties: new Uint8Array(),
        bodyFrames: [],
      };
      out.push(m);
      open.set(f.channel, m);
    } else if (f.type === 2) {
      const m = open.get(f.channel);
      assert.ok(m, "content header without a method");
      const v = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
      m.bodySize = v.getBigUint64(4);
      m.properties = f.payload.subarray(12);
    } else if (f.type === 3) {
      const m = open.get(f.channel);
      assert.ok(m, "content body without a method");
      m.bodyFrames.push(f.payload);
    }
  }
  return out;
}

// A decoder of RabbitMQ's field-table encoding that keeps the type tag of every value.
type Typed =
  | { t: "t"; v: boolean }
  | { t: "b" | "B" | "s" | "u" | "I" | "i" | "f" | "d"; v: number }
  | { t: "l" | "T"; v: bigint }
  | { t: "D"; v: { scale: number; value: number } }
  | { t: "S"; v: string }
  | { t: "x"; v: Uint8Array }
  | { t: "V"; v: null }
  | { t: "A"; v: Typed[] }
  | { t: "F"; v: Record<string, Typed> };

function decodeTyped(bytes: Uint8Array, start: number): [Typed, number] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = String.fromCharCode(v.getUint8(start));
  let o = start + 1;
  switch (tag) {
    case "t":
      return [{ t: "t", v: v.getUint8(o) !== 0 }, o + 1];
    case "b":
      return [{ t: "b", v: v.getInt8(o) }, o + 1];
    case "B":
      return [{ t: "B", v: v.getUint8(o) }, o + 1];
    case "s":
      return [{ t: "s", v: v.getInt16(o) }, o + 2];
    case "u":
      return [{ t: "u", v: v.getUint16(o) }, o + 2];
    case "I":
      return [{ t: "I", v: v.getInt32(o) }, o + 4];
    case "i":
      return [{ t: "i", v: v.getUint32(o) }, o + 4];
    case "l":
      return [{ t: "l", v: v.getBigInt64(o) }, o + 8];
    case "T":
      return [{ t: "T", v: v.getBigUint64(o) }, o + 8];
    case "f":
      return [{ t: "f", v: v.getFloat32(o) }, o + 4];
    case "d":
      return [{ t: "d", v: v.getFloat64(o) }, o + 8];
    case "D":
      return [{ t: "D", v: { scale: v.getUint8(o), value: v.getUint32(o + 1) } }, o + 5];
    case "V":
      return [{ t: "V", v: null }, o];
    case "S": {
      const len = v.getUint32(o);
      o += 4;
      return [{ t: "S", v: dec.decode(bytes.subarray(o, o + len)) }, o + len];
    }
    case "x": {
      const len = v.getUint32(o);
      o += 4;
      return [{ t: "x", v: bytes.slice(o, o + len) }, o + len];
    }
    case "A": {
      const end = o + 4 + v.getUint32(o);
      o += 4;
      const items: Typed[] = [];
      while (o < end) {
        const [item, next] = decodeTyped(bytes, o);
        items.push(item);
        o = next;
      }
      assert.equal(o, end, "array length");
      return [{ t: "A", v: items }, end];
    }
    case "F": {
      const [table, next] = decodeTable(bytes, o);
      return [{ t: "F", v: table }, next];
    }
    default:
      throw new Error(`unknown field type ${tag} at ${start}`);
  }
}

function decodeTable(bytes: Uint8Array, start: number): [Record<string, Typed>, number] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = start + 4 + v.getUint32(start);
  let o = start + 4;
  const table: Record<string, Typed> = {};
  while (o < end) {
    const klen = v.getUint8(o);
    const key = dec.decode(bytes.subarray(o + 1, o + 1 + klen));
    const [value, next] = decodeTyped(bytes, o + 1 + klen);
    table[key] = value;
    o = next;
  }
  assert.equal(o, end, "table length");
  return [table, end];
}

/** The headers table of a raw basic property list, decoded with type tags. */
function rawHeaders(properties: Uint8Array): Record<string, Typed> {
  const v = new DataView(properties.buffer, properties.byteOffset, properties.byteLength);
  const flags = v.getUint16(0);
  let o = 2;
  const shortstr = () => {
    o += 1 + v.getUint8(o);
  };
  if (flags & 0x8000) shortstr(); // content-type
  if (flags & 0x4000) shortstr(); // content-encoding
  assert.ok(flags & 0x2000, "headers flag set");
  return decodeTable(properties, o)[0];
}

// ---------------------------------------------------------------------------------------------
// Receiving one message

async function getOne(ch: Channel, q: string): Promise<Message> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const m = await within(ch.get(q, { noAck: true }), 5000, "basic.get");
    if (m !== false) return m;
    if (Date.now() > deadline) throw new Error(`no message arrived on ${q}`);
    await delay(10);
  }
}

async function consumeOne(ch: Channel, q: string): Promise<Message> {
  let resolve!: (m: Message) => void;
  const got = new Promise<Message>((r) => (resolve = r));
  const { consumerTag } = await ch.consume(q, (m) => m && resolve(m), { noAck: true });
  try {
    return await within(got, 10000, "delivery");
  } finally {
    await ch.cancel(consumerTag);
  }
}

// The tests below each get their own broker and clean up after themselves.
const { brokerTest, unique } = interopSuite("content");

// ---------------------------------------------------------------------------------------------
// Basic properties

const ALL_PROPERTIES = {
  contentType: "application/x.test; charset=utf-8",
  contentEncoding: "identity",
  headers: { h1: "v1", n: 7 },
  deliveryMode: 2,
  priority: 7,
  correlationId: "corr-ü-1",
  replyTo: "amq.rabbitmq.reply-to-like",
  expiration: "86400000", // a day: the message must not expire during the test
  messageId: "msg-42",
  timestamp: 1700000123,
  type: "test.type",
  userId: "guest",
  appId: "interop-tests",
  clusterId: "cluster-7",
};

brokerTest("properties: every basic property arrives identical (amqplib, consume)", async (t) => {
  const q = await t.queue("props");
  const tap = t.tap();
  const conn = await t.connect("", tap.url(t.url));
  const ch = guard(await conn.createChannel());
  // amqplib's publish() never sends cluster-id; its lower-level sendMessage() sends what it is
  // given (the method fields and properties verbatim).
  ch.sendMessage(
    { exchange: "", routingKey: q, mandatory: false, immediate: false, ticket: 0 },
    ALL_PROPERTIES,
    Buffer.from("props"),
  );
  const m = await consumeOne(ch, q);
  assert.equal(m.content.toString(), "props");
  assert.deepEqual({ ...m.properties }, ALL_PROPERTIES);
  await conn.close();
  const [sent] = wireMessages(parseFrames(tap.sessions[0].up));
  const delivered = wireMessages(parseFrames(tap.sessions[0].down));
  assert.equal(delivered.length, 1);
  assert.deepEqual(delivered[0].method, [60, 60]);
  assert.equal(delivered[0].bodySize, 5n);
  // The property flags and list are passed through byte for byte.
  assert.deepEqual(delivered[0].properties, sent.properties);
});

brokerTest("properties: every property arrives identical via basic.get (cloudamqp)", async (t) => {
  const q = await t.queue("propsget");
  const client = await t.cloud();
  const ch = await client.channel();
  const props = {
    contentType: "text/plain",
    contentEncoding: "gzip",
    headers: { a: "b" },
    deliveryMode: 1,
    priority: 3, // (cloudamqp omits a priority of 0)
    correlationId: "c",
    replyTo: "r",
    expiration: "3600000",
    messageId: "m",
    timestamp: new Date(1700000000000),
    type: "t",
    userId: "guest",
    appId: "a",
  };
  await ch.basicPublish("", q, "x", props);
  let m: AMQPMessage | null = null;
  const deadline = Date.now() + 5000;
  while (!m && Date.now() < deadline) m = await ch.basicGet(q);
  assert.ok(m, "message arrived");
  assert.deepEqual(m.properties, props);
  assert.equal(m.bodyString(), "x");
});

brokerTest("properties: absent properties stay absent", async (t) => {
  const q = await t.queue("noprops");
  const tap = t.tap();
  const client = await t.cloud(tap.url(t.url));
  const ch = await client.channel();
  await ch.basicPublish("", q, "bare");
  let m: AMQPMessage | null = null;
  const deadline = Date.now() + 5000;
  while (!m && Date.now() < deadline) m = await ch.basicGet(q);
  assert.ok(m);
  assert.deepEqual(m.properties, {});
  await client.close();
  const [sent] = wireMessages(parseFrames(tap.sessions[0].up));
  const [got] = wireMessages(parseFrames(tap.sessions[0].down));
  assert.deepEqual(got.method, [60, 71]);
  assert.deepEqual(sent.properties, new Uint8Array([0, 0]));
  assert.deepEqual(got.properties, new Uint8Array([0, 0]));
});

brokerTest("properties: a user-id other than the login user → 406", async (t) => {
  const q = await t.queue("userid");
  const conn = await t.connect();
  const ch = guard(await conn.createChannel());
  const err = new Promise<AmqpError>((r) => ch.on("error", (e: AmqpError) => r(e)));
  ch.sendToQueue(q, Buffer.from("x"), { userId: "bob" });
  const e = await within(err, 5000, "channel error");
  assert.equal(e.code, 406);
  assert.equal(
    replyText(e),
    "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'",
  );
  const check = await t.channel();
  assert.equal((await check.checkQueue(q)).messageCount, 0);
});

// ---------------------------------------------------------------------------------------------
// Header field tables

const bytes4 = () => Buffer.from([0, 1, 0xfe, 0xff]);
const UTF8 = "héllo wörld ✓ 日本語 🚀";
const LONG_UTF8 = "ü".repeat(300) + "𝄞".repeat(100) + "end";

/** What amqplib sends: values with an explicit wire type use amqplib's {"!": type} notation. */
const AMQPLIB_HEADERS = {
  i8: { "!": "int8", value: -128 },
  u8: { "!": "uint8", value: 255 },
  i16: { "!": "int16", value: -32768 },
  u16: { "!": "uint16", value: 65535 },
  i32: { "!": "int32", value: -2147483648 },
  u32: { "!": "uint32", value: 4294967295 },
  i64: { "!": "int64", value: -9007199254740991 },
  f32: { "!": "float", value: -1.5 },
  f64: { "!": "double", value: 3.141592653589793 },
  dec: { "!": "decimal", value: { places: 2, digits: 12345 } },
  ts: { "!": "timestamp", value: 1700000000 },
  yes: true,
  no: false,
  nothing: null,
  bytes: bytes4(),
  str: UTF8,
  long: LONG_UTF8,
  empty: "",
  "ключ-ü": "utf-8 key",
  table: {
    inner: { deeper: { "!": "int8", value: 1 }, s: "x" },
    arr: [{ "!": "uint16", value: 2 }],
  },
  array: [
    "a",
    { "!": "int16", value: -2 },
    true,
    null,
    [{ "!": "int32", value: 1 }, "b"],
    { k: "v" },
    { "!": "timestamp", value: 1 },
    bytes4(),
    { "!": "double", value: 0.1 },
  ],
  emptyTable: {},
  emptyArray: [],
};

/** The same headers as they must appear on the wire, with their type tags. */
const TYPED: Record<string, Typed> = {
  i8: { t: "b", v: -128 },
  u8: { t: "B", v: 255 },
  i16: { t: "s", v: -32768 },
  u16: { t: "u", v: 65535 },
  i32: { t: "I", v: -2147483648 },
  u32: { t: "i", v: 4294967295 },
  i64: { t: "l", v: -9007199254740991n },
  f32: { t: "f", v: -1.5 },
  f64: { t: "d", v: 3.141592653589793 },
  dec: { t: "D", v: { scale: 2, value: 12345 } },
  ts: { t: "T", v: 1700000000n },
  yes: { t: "t", v: true },
  no: { t: "t", v: false },
  nothing: { t: "V", v: null },
  bytes: { t: "x", v: new Uint8Array([0, 1, 0xfe, 0xff]) },
  str: { t: "S", v: UTF8 },
  long: { t: "S", v: LONG_UTF8 },
  empty: { t: "S", v: "" },
  "ключ-ü": { t: "S", v: "utf-8 key" },
  table: {
    t: "F",
    v: {
      inner: { t: "F", v: { deeper: { t: "b", v: 1 }, s: { t: "S", v: "x" } } },
      arr: { t: "A", v: [{ t: "u", v: 2 }] },
    },
  },
  array: {
    t: "A",
    v: [
      { t: "S", v: "a" },
      { t: "s", v: -2 },
      { t: "t", v: true },
      { t: "V", v: null },
      { t: "A", v: [{ t: "I", v: 1 }, { t: "S", v: "b" }] },
      { t: "F", v: { k: { t: "S", v: "v" } } },
      { t: "T", v: 1n },
      { t: "x", v: new Uint8Array([0, 1, 0xfe, 0xff]) },
      { t: "d", v: 0.1 },
    ],
  },
  emptyTable: { t: "F", v: {} },
  emptyArray: { t: "A", v: [] },
};

/** How amqplib decodes them (integers lose their width; decimal and timestamp keep a tag). */
const AMQPLIB_DECODED = {
  i8: -128,
  u8: 255,
  i16: -32768,
  u16: 65535,
  i32: -2147483648,
  u32: 4294967295,
  i64: -9007199254740991,
  f32: -1.5,
  f64: 3.141592653589793,
  dec: { "!": "decimal", value: { places: 2, digits: 12345 } },
  ts: { "!": "timestamp", value: 1700000000 },
  yes: true,
  no: false,
  nothing: null,
  bytes: bytes4(),
  str: UTF8,
  long: LONG_UTF8,
  empty: "",
  "ключ-ü": "utf-8 key",
  table: { inner: { deeper: 1, s: "x" }, arr: [2] },
  array: ["a", -2, true, null, [1, "b"], { k: "v" }, { "!": "timestamp", value: 1 }, bytes4(), 0.1],
  emptyTable: {},
  emptyArray: [],
};

brokerTest("headers: every field type round-trips exactly (amqplib → amqplib)", async (t) => {
  const q = await t.queue("headers");
  const tap = t.tap();
  const conn = await t.connect("", tap.url(t.url));
  const ch = guard(await conn.createChannel());
  ch.sendToQueue(q, Buffer.from("h"), { headers: AMQPLIB_HEADERS });
  const viaConsume = await consumeOne(ch, q);
  ch.sendToQueue(q, Buffer.from("h"), { headers: AMQPLIB_HEADERS });
  const viaGet = await getOne(ch, q);
  for (const m of [viaConsume, viaGet]) {
    assert.deepEqual({ ...m.properties.headers }, AMQPLIB_DECODED);
  }
  await conn.close();
  const sent = wireMessages(parseFrames(tap.sessions[0].up));
  const got = wireMessages(parseFrames(tap.sessions[0].down));
  assert.equal(sent.length, 2);
  assert.equal(got.length, 2);
  assert.deepEqual(rawHeaders(sent[0].properties), TYPED, "what amqplib sent");
  for (const m of got) {
    assert.deepEqual(rawHeaders(m.properties), TYPED);
    assert.deepEqual(m.properties, sent[0].properties, "property bytes passed through");
  }
});

brokerTest("headers: amqplib-sent types decode in cloudamqp", async (t) => {
  const q = await t.queue("headers2");
  const pub = await t.channel();
  pub.sendToQueue(q, Buffer.from("h"), { headers: AMQPLIB_HEADERS });
  const client = await t.cloud();
  const ch = await client.channel();
  let m: AMQPMessage | null = null;
  const deadline = Date.now() + 5000;
  while (!m && Date.now() < deadline) m = await ch.basicGet(q);
  assert.ok(m);
  const h = m.properties.headers!;
  assert.deepEqual(
    { ...h, bytes: undefined, array: undefined },
    {
      i8: -128,
      u8: 255,
      i16: -32768,
      u16: 65535,
      i32: -2147483648,
      u32: 4294967295,
      i64: -9007199254740991,
      f32: -1.5,
      f64: 3.141592653589793,
      dec: 123.45,
      ts: new Date(1700000000 * 1000),
      yes: true,
      no: false,
      nothing: null,
      bytes: undefined,
      str: UTF8,
      long: LONG_UTF8,
      empty: "",
      "ключ-ü": "utf-8 key",
      table: { inner: { deeper: 1, s: "x" }, arr: [2] },
      array: undefined,
      emptyTable: {},
      emptyArray: [],
    },
  );
  assert.deepEqual(new Uint8Array(h.bytes as Uint8Array), new Uint8Array([0, 1, 0xfe, 0xff]));
  const arr = h.array as unknown[];
  assert.equal(arr.length, 9);
  assert.deepEqual(arr.slice(0, 6), ["a", -2, true, null, [1, "b"], { k: "v" }]);
  assert.deepEqual(arr[6], new Date(1000));
  assert.deepEqual(new Uint8Array(arr[7] as Uint8Array), new Uint8Array([0, 1, 0xfe, 0xff]));
  assert.equal(arr[8], 0.1);
});

brokerTest("headers: cloudamqp-sent types round-trip (bigint int64, Date, bytes)", async (t) => {
  const q = await t.queue("headers3");
  const tap = t.tap();
  const client = await t.cloud(tap.url(t.url));
  const ch = await client.channel();
  const headers = {
    max64: 9223372036854775807n,
    min64: -9223372036854775808n,
    int: -123456,
    flt: 0.5, // cloudamqp encodes non-integers that fit as 32-bit floats
    dbl: 1e10 + 0.5, // (cloudamqp sends integral numbers as int64, even 1e300)
    when: new Date(1700000000000),
    raw: new Uint8Array([9, 8, 7]),
    nil: null,
    flag: true,
    text: UTF8,
    list: [1, "two", [3n], { four: 4 }],
    nested: { a: { b: { c: "deep" } } },
  };
  await ch.basicPublish("", q, "c", { headers });
  let m: AMQPMessage | null = null;
  const deadline = Date.now() + 5000;
  while (!m && Date.now() < deadline) m = await ch.basicGet(q);
  assert.ok(m);
  const h = m.properties.headers!;
  // cloudamqp decodes 64-bit integers to (lossy) numbers.
  assert.equal(h.max64, Number(9223372036854775807n));
  assert.equal(h.min64, Number(-9223372036854775808n));
  assert.equal(h.int, -123456);
  assert.equal(h.flt, 0.5);
  assert.equal(h.dbl, 1e10 + 0.5);
  assert.deepEqual(h.when, new Date(1700000000000));
  assert.deepEqual(new Uint8Array(h.raw as Uint8Array), new Uint8Array([9, 8, 7]));
  assert.equal(h.nil, null);
  assert.equal(h.flag, true);
  assert.equal(h.text, UTF8);
  assert.deepEqual(h.list, [1, "two", [3], { four: 4 }]);
  assert.deepEqual(h.nested, { a: { b: { c: "deep" } } });
  await client.close();
  const [sent] = wireMessages(parseFrames(tap.sessions[0].up));
  const [got] = wireMessages(parseFrames(tap.sessions[0].down));
  const expected: Record<string, Typed> = {
    max64: { t: "l", v: 9223372036854775807n },
    min64: { t: "l", v: -9223372036854775808n },
    int: { t: "I", v: -123456 },
    flt: { t: "f", v: 0.5 },
    dbl: { t: "d", v: 1e10 + 0.5 },
    when: { t: "T", v: 1700000000n },
    raw: { t: "x", v: new Uint8Array([9, 8, 7]) },
    nil: { t: "V", v: null },
    flag: { t: "t", v: true },
    text: { t: "S", v: UTF8 },
    list: {
      t: "A",
      v: [
        { t: "I", v: 1 },
        { t: "S", v: "two" },
        { t: "A", v: [{ t: "l", v: 3n }] },
        { t: "F", v: { four: { t: "I", v: 4 } } },
      ],
    },
    nested: {
      t: "F",
      v: { a: { t: "F", v: { b: { t: "F", v: { c: { t: "S", v: "deep" } } } } } },
    },
  };
  assert.deepEqual(rawHeaders(sent.properties), expected, "what cloudamqp sent");
  assert.deepEqual(rawHeaders(got.properties), expected);
  assert.deepEqual(got.properties, sent.properties);
});

// ---------------------------------------------------------------------------------------------
// Bodies

async function bodyRoundTrips(t: Ctx, conn: Connection, sizes: number[], tag: string) {
  const q = await t.queue(tag);
  const ch = guard(await conn.createChannel());
  for (const [i, size] of sizes.entries()) {
    const body = pattern(size, i + 1);
    const want = await sha256(body);
    ch.sendToQueue(q, body);
    const consumed = await consumeOne(ch, q);
    assert.equal(consumed.content.length, size, `consume: length of a ${size}-byte body`);
    assert.equal(await sha256(consumed.content), want, `consume: bytes of a ${size}-byte body`);
    ch.sendToQueue(q, body);
    const got = await getOne(ch, q);
    assert.equal(got.content.length, size, `get: length of a ${size}-byte body`);
    assert.equal(await sha256(got.content), want, `get: bytes of a ${size}-byte body`);
    assert.equal(got.fields.messageCount, 0);
  }
}

brokerTest("bodies around frame_max arrive byte-exact via consume and get", async (t) => {
  const conn = await t.connect();
  const F = conn.connection.frameMax;
  assert.ok(F >= 4096, `negotiated frame_max ${F}`);
  await bodyRoundTrips(t, conn, [0, 1, F - 8, F - 7, F + 1, 2 * (F - 8) + 1, 1 << 20], "bodies");
});

brokerTest("a 32 MiB body arrives byte-exact via consume and get", async (t) => {
  const conn = await t.connect();
  await bodyRoundTrips(t, conn, [32 << 20], "huge");
});

brokerTest("bodies from cloudamqp (frame_max 8192 client) at frame boundaries", async (t) => {
  const q = await t.queue("cloudbodies");
  const client = await t.cloud();
  assert.equal(client.frameMax, 8192);
  const ch = await client.channel();
  for (const size of [0, 1, 8184, 8185, 8193, 100_000]) {
    const body = pattern(size, size);
    await ch.basicPublish("", q, body);
    let m: AMQPMessage | null = null;
    const deadline = Date.now() + 5000;
    while (!m && Date.now() < deadline) m = await ch.basicGet(q);
    assert.ok(m, `a ${size}-byte message arrived`);
    assert.equal(m.bodySize, size);
    assert.deepEqual(new Uint8Array(m.body ?? new Uint8Array()), new Uint8Array(body));
  }
});

brokerTest("frame_max 4096: bodies are split into frames of at most 4096 octets", async (t) => {
  const tap = t.tap();
  const conn = await t.connect("?frameMax=4096", tap.url(t.url));
  assert.equal(conn.connection.frameMax, 4096);
  const sizes = [0, 1, 4088, 4089, 4097, 100_000];
  await bodyRoundTrips(t, conn, sizes, "smallframes");
  await conn.close();
  const session = tap.sessions[0];
  const down = parseFrames(session.down);
  for (const f of down) {
    assert.ok(f.payload.length + 8 <= 4096, `a ${f.payload.length + 8}-octet frame exceeds 4096`);
  }
  const delivered = wireMessages(down);
  assert.equal(delivered.length, sizes.length * 2);
  for (const [i, size] of sizes.entries()) {
    const body = pattern(size, i + 1);
    for (const m of delivered.slice(2 * i, 2 * i + 2)) {
      assert.equal(m.bodySize, BigInt(size));
      assert.ok(m.bodyFrames.every((b) => b.length > 0), "no empty body frames");
      assert.deepEqual(m.bodyFrames.map((b) => b.length), split(size, 4088), `frames of ${size}`);
      assert.deepEqual(concat(m.bodyFrames), new Uint8Array(body));
    }
  }
});

/** Body frame sizes for a body split into maximal frames. */
function split(size: number, max: number): number[] {
  const out: number[] = [];
  for (let left = size; left > 0; left -= max) out.push(Math.min(left, max));
  return out;
}

// RabbitMQ 3.10 answers a tune-ok with frame_max below its 4096 minimum by closing the socket
// (after ~3 s, without a connection.close); amqplib reports "Socket closed abruptly during opening
// handshake". A broker may instead send connection.close; either way the connection must not open.
brokerTest("frame_max below 4096 is refused", async (t) => {
  const tap = t.tap();
  const err = await within(amqp.connect(tap.url(t.url, "?frameMax=4095")), 10000, "connect").then(
    () => assert.fail("connect should fail"),
    (e: Error) => e,
  );
  assert.ok(err instanceof Error);
  const methods = parseFrames(tap.sessions[0].down).map((f) => methodId(f)?.join("."));
  assert.ok(methods.includes("10.30"), "the server sent connection.tune");
  assert.ok(!methods.includes("10.41"), "the server must not send connection.open-ok");
});

// ---------------------------------------------------------------------------------------------
// Heartbeats

brokerTest("heartbeat=1: an idle connection stays alive for 4 s", async (t) => {
  const tap = t.tap();
  const conn = await t.connect("?heartbeat=1", tap.url(t.url));
  assert.equal(conn.connection.heartbeat, 1);
  let failure: unknown = null;
  conn.on("error", (e: unknown) => (failure = e));
  conn.on("close", (e: unknown) => (failure ??= e ?? "closed"));
  await delay(4000);
  assert.equal(failure, null, `connection dropped: ${failure}`);
  // Still usable.
  const ch = guard(await conn.createChannel());
  const q = unique("hb");
  await ch.assertQueue(q, { exclusive: true });
  await ch.deleteQueue(q);
  const heartbeats = parseFrames(tap.sessions[0].down).filter((f) => f.type === 8);
  assert.ok(heartbeats.length >= 2, `server sent ${heartbeats.length} heartbeats in 4 s`);
  for (const hb of heartbeats) {
    assert.equal(hb.channel, 0);
    assert.equal(hb.payload.length, 0);
  }
});
