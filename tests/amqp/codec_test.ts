import assert from "node:assert/strict";
import { Reader } from "../../src/amqp/reader.ts";
import { DecodeError } from "../../src/amqp/reader.ts";
import { Writer } from "../../src/amqp/writer.ts";
import { Field, readTable } from "../../src/amqp/table.ts";
import type { FieldTable } from "../../src/amqp/table.ts";
import {
  decodeBasicProperties,
  decodeMethod,
  encodeBasicProperties,
  encodeMethod,
  METHOD_NAMES,
} from "../../src/amqp/spec.ts";
import type { BasicProperties, Method } from "../../src/amqp/spec.ts";

/**
 * AMQP 0-9-1 as RabbitMQ speaks it: every method's class id, method id and arguments in wire
 * order. Written out here rather than read from the generator's input, so the generated codec is
 * checked against an independent statement of the protocol.
 */
const SIGNATURES: [string, number, number, string][] = [
  ["basic.qos", 60, 10, "prefetchSize:long prefetchCount:short global:bit"],
  ["basic.qos-ok", 60, 11, ""],
  [
    "basic.consume",
    60,
    20,
    "ticket:short queue:shortstr consumerTag:shortstr noLocal:bit noAck:bit exclusive:bit nowait:bit arguments:table",
  ],
  ["basic.consume-ok", 60, 21, "consumerTag:shortstr"],
  ["basic.cancel", 60, 30, "consumerTag:shortstr nowait:bit"],
  ["basic.cancel-ok", 60, 31, "consumerTag:shortstr"],
  [
    "basic.publish",
    60,
    40,
    "ticket:short exchange:shortstr routingKey:shortstr mandatory:bit immediate:bit",
  ],
  [
    "basic.return",
    60,
    50,
    "replyCode:short replyText:shortstr exchange:shortstr routingKey:shortstr",
  ],
  [
    "basic.deliver",
    60,
    60,
    "consumerTag:shortstr deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr",
  ],
  ["basic.get", 60, 70, "ticket:short queue:shortstr noAck:bit"],
  [
    "basic.get-ok",
    60,
    71,
    "deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr messageCount:long",
  ],
  ["basic.get-empty", 60, 72, "clusterId:shortstr"],
  ["basic.ack", 60, 80, "deliveryTag:longlong multiple:bit"],
  ["basic.reject", 60, 90, "deliveryTag:longlong requeue:bit"],
  ["basic.recover-async", 60, 100, "requeue:bit"],
  ["basic.recover", 60, 110, "requeue:bit"],
  ["basic.recover-ok", 60, 111, ""],
  ["basic.nack", 60, 120, "deliveryTag:longlong multiple:bit requeue:bit"],
  [
    "connection.start",
    10,
    10,
    "versionMajor:octet versionMinor:octet serverProperties:table mechanisms:longstr locales:longstr",
  ],
  [
    "connection.start-ok",
    10,
    11,
    "clientProperties:table mechanism:shortstr response:longstr locale:shortstr",
  ],
  ["connection.secure", 10, 20, "challenge:longstr"],
  ["connection.secure-ok", 10, 21, "response:longstr"],
  ["connection.tune", 10, 30, "channelMax:short frameMax:long heartbeat:short"],
  ["connection.tune-ok", 10, 31, "channelMax:short frameMax:long heartbeat:short"],
  ["connection.open", 10, 40, "virtualHost:shortstr capabilities:shortstr insist:bit"],
  ["connection.open-ok", 10, 41, "knownHosts:shortstr"],
  ["connection.close", 10, 50, "replyCode:short replyText:shortstr classId:short methodId:short"],
  ["connection.close-ok", 10, 51, ""],
  ["connection.blocked", 10, 60, "reason:shortstr"],
  ["connection.unblocked", 10, 61, ""],
  ["connection.update-secret", 10, 70, "newSecret:longstr reason:shortstr"],
  ["connection.update-secret-ok", 10, 71, ""],
  ["channel.open", 20, 10, "outOfBand:shortstr"],
  ["channel.open-ok", 20, 11, "channelId:longstr"],
  ["channel.flow", 20, 20, "active:bit"],
  ["channel.flow-ok", 20, 21, "active:bit"],
  ["channel.close", 20, 40, "replyCode:short replyText:shortstr classId:short methodId:short"],
  ["channel.close-ok", 20, 41, ""],
  [
    "access.request",
    30,
    10,
    "realm:shortstr exclusive:bit passive:bit active:bit write:bit read:bit",
  ],
  ["access.request-ok", 30, 11, "ticket:short"],
  [
    "exchange.declare",
    40,
    10,
    "ticket:short exchange:shortstr type:shortstr passive:bit durable:bit autoDelete:bit internal:bit nowait:bit arguments:table",
  ],
  ["exchange.declare-ok", 40, 11, ""],
  ["exchange.delete", 40, 20, "ticket:short exchange:shortstr ifUnused:bit nowait:bit"],
  ["exchange.delete-ok", 40, 21, ""],
  [
    "exchange.bind",
    40,
    30,
    "ticket:short destination:shortstr source:shortstr routingKey:shortstr nowait:bit arguments:table",
  ],
  ["exchange.bind-ok", 40, 31, ""],
  [
    "exchange.unbind",
    40,
    40,
    "ticket:short destination:shortstr source:shortstr routingKey:shortstr nowait:bit arguments:table",
  ],
  ["exchange.unbind-ok", 40, 51, ""],
  [
    "queue.declare",
    50,
    10,
    "ticket:short queue:shortstr passive:bit durable:bit exclusive:bit autoDelete:bit nowait:bit arguments:table",
  ],
  ["queue.declare-ok", 50, 11, "queue:shortstr messageCount:long consumerCount:long"],
  [
    "queue.bind",
    50,
    20,
    "ticket:short queue:shortstr exchange:shortstr routingKey:shortstr nowait:bit arguments:table",
  ],
  ["queue.bind-ok", 50, 21, ""],
  ["queue.purge", 50, 30, "ticket:short queue:shortstr nowait:bit"],
  ["queue.purge-ok", 50, 31, "messageCount:long"],
  ["queue.delete", 50, 40, "ticket:short queue:shortstr ifUnused:bit ifEmpty:bit nowait:bit"],
  ["queue.delete-ok", 50, 41, "messageCount:long"],
  [
    "queue.unbind",
    50,
    50,
    "ticket:short queue:shortstr exchange:shortstr routingKey:shortstr arguments:table",
  ],
  ["queue.unbind-ok", 50, 51, ""],
  ["tx.select", 90, 10, ""],
  ["tx.select-ok", 90, 11, ""],
  ["tx.commit", 90, 20, ""],
  ["tx.commit-ok", 90, 21, ""],
  ["tx.rollback", 90, 30, ""],
  ["tx.rollback-ok", 90, 31, ""],
  ["confirm.select", 85, 10, "nowait:bit"],
  ["confirm.select-ok", 85, 11, ""],
];

interface Arg {
  name: string;
  type: string;
}

const args = (sig: string): Arg[] =>
  sig === "" ? [] : sig.split(" ").map((s) => {
    const [name, type] = s.split(":");
    return { name, type };
  });

/** Bytes from hex digits; spaces only group fields for reading. */
const hex = (s: string) =>
  Array.from(s.replace(/\s+/g, "").matchAll(/../g), (m) => parseInt(m[0], 16));

/** A value of `type` that is not the type's default, varied by `seed`. */
function sample(type: string, name: string, seed: number): unknown {
  switch (type) {
    case "octet":
      return (0xa5 + seed) & 0xff;
    case "short":
      return (0xbeef ^ seed) & 0xffff;
    case "long":
      return 0xdeadbeef - seed;
    case "longlong":
      return Number.MAX_SAFE_INTEGER - seed;
    case "shortstr":
      return `${name}-é✓-${seed}`;
    case "longstr":
      return new Uint8Array([0, 0xff, 0xfe, seed & 0xff, 0x80, 0x0a]);
    case "table":
      return {
        n: seed,
        s: "x",
        nested: { b: true, arr: [1, "two", null] },
        min: new Field("l", -(2n ** 63n)),
      } satisfies FieldTable;
    default:
      throw new Error(`no sample for ${type}`);
  }
}

function build(id: number, sig: string, seed: number, bit: (i: number) => boolean): Method {
  const m: Record<string, unknown> = { id };
  let bitIndex = 0;
  for (const a of args(sig)) {
    m[a.name] = a.type === "bit" ? bit(bitIndex++) : sample(a.type, a.name, seed);
  }
  return m as unknown as Method;
}

function encode(m: Method): Uint8Array {
  const w = new Writer(16);
  encodeMethod(w, m);
  return w.bytes().slice();
}

function decode(bytes: Uint8Array, end = bytes.length): Method | undefined {
  const r = new Reader(bytes, 0, end);
  return decodeMethod(r.long(), r);
}

/** Long strings decode as byte views: copy them so deepEqual compares bytes only. */
function normalize(m: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m as Record<string, unknown>)) {
    out[k] = v instanceof Uint8Array ? Array.from(v) : v;
  }
  return out;
}

/** Decodes a method body straight from the signature: the wire layout the codec must produce. */
function parseBySignature(bytes: Uint8Array, classId: number, methodId: number, sig: string) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder("utf-8", { ignoreBOM: true });
  assert.equal(view.getUint16(0), classId);
  assert.equal(view.getUint16(2), methodId);
  let pos = 4;
  let bits = 0;
  let bitCount = 8; // no bits octet open yet
  const out: Record<string, unknown> = { id: (classId << 16) | methodId };
  for (const a of args(sig)) {
    if (a.type !== "bit") bitCount = 8;
    switch (a.type) {
      case "bit":
        if (bitCount === 8) {
          bits = bytes[pos++];
          bitCount = 0;
        }
        out[a.name] = (bits & (1 << bitCount++)) !== 0;
        break;
      case "octet":
        out[a.name] = bytes[pos++];
        break;
      case "short":
        out[a.name] = view.getUint16(pos);
        pos += 2;
        break;
      case "long":
        out[a.name] = view.getUint32(pos);
        pos += 4;
        break;
      case "longlong":
        out[a.name] = Number(view.getBigUint64(pos));
        pos += 8;
        break;
      case "shortstr": {
        const n = bytes[pos++];
        out[a.name] = text.decode(bytes.subarray(pos, pos + n));
        pos += n;
        break;
      }
      case "longstr": {
        const n = view.getUint32(pos);
        out[a.name] = Array.from(bytes.subarray(pos + 4, pos + 4 + n));
        pos += 4 + n;
        break;
      }
      case "table": {
        const n = view.getUint32(pos);
        out[a.name] = readTable(new Reader(bytes, pos, pos + 4 + n), 0);
        pos += 4 + n;
        break;
      }
      default:
        throw new Error(a.type);
    }
  }
  assert.equal(pos, bytes.length, "encoded length");
  return out;
}

Deno.test("codec: the spec has exactly RabbitMQ's 66 methods", () => {
  assert.equal(SIGNATURES.length, 66);
  const expected: Record<string, string> = {};
  for (const [name, c, m] of SIGNATURES) expected[String((c << 16) | m)] = name;
  assert.deepEqual({ ...METHOD_NAMES }, expected);
});

Deno.test("codec: every method round-trips with non-default values", () => {
  const patterns: ((i: number) => boolean)[] = [
    () => true,
    () => false,
    (i) => i % 2 === 0,
    (i) => i % 2 === 1,
  ];
  for (const [name, classId, methodId, sig] of SIGNATURES) {
    const id = (classId << 16) | methodId;
    for (let p = 0; p < patterns.length; p++) {
      const m = build(id, sig, p + 1, patterns[p]);
      const bytes = encode(m);
      assert.deepEqual(normalize(decode(bytes)), normalize(m), `${name} (pattern ${p})`);
      assert.deepEqual(
        parseBySignature(bytes, classId, methodId, sig),
        normalize(m),
        `${name} wire layout (pattern ${p})`,
      );
      // Re-encoding the decoded method gives the same bytes.
      assert.deepEqual(encode(decode(bytes)!), bytes, `${name} re-encode`);
    }
  }
});

Deno.test("codec: decoded methods carry exactly the spec's fields, in wire order", () => {
  for (const [name, classId, methodId, sig] of SIGNATURES) {
    const m = build((classId << 16) | methodId, sig, 3, () => true);
    const decoded = decode(encode(m))!;
    assert.deepEqual(Object.keys(decoded), ["id", ...args(sig).map((a) => a.name)], name);
  }
});

Deno.test("codec: long strings given as text are sent as UTF-8", () => {
  const w = new Writer(16);
  encodeMethod(w, { id: (10 << 16) | 21, response: "\0guest\0gäst" } as Method);
  const m = decode(w.bytes().slice()) as { response: Uint8Array };
  assert.deepEqual(Array.from(m.response), Array.from(new TextEncoder().encode("\0guest\0gäst")));
});

Deno.test("codec: bit packing", () => {
  const QUEUE_DECLARE = (50 << 16) | 10;
  const base = {
    id: QUEUE_DECLARE,
    ticket: 0,
    queue: "q",
    passive: false,
    durable: false,
    exclusive: false,
    autoDelete: false,
    nowait: false,
    arguments: {},
  };
  const flags = ["passive", "durable", "exclusive", "autoDelete", "nowait"];
  // header 4 + ticket 2 + "q" 2 = offset 8 for the bits octet, then a 4-byte empty table.
  for (let i = 0; i < flags.length; i++) {
    const bytes = encode({ ...base, [flags[i]]: true } as unknown as Method);
    assert.equal(bytes.length, 13);
    assert.equal(bytes[8], 1 << i, flags[i]);
    assert.deepEqual(decode(bytes), { ...base, [flags[i]]: true });
  }
  const all = encode({
    ...base,
    passive: true,
    durable: true,
    exclusive: true,
    autoDelete: true,
    nowait: true,
  } as Method);
  assert.equal(all[8], 0x1f);
  // class, method | ticket | "q" | bits | empty table
  assert.deepEqual(Array.from(all), hex("0032 000a  0000  0171  1f  00000000"));

  const BASIC_CONSUME = (60 << 16) | 20;
  const consume = {
    id: BASIC_CONSUME,
    ticket: 0,
    queue: "",
    consumerTag: "",
    noLocal: false,
    noAck: false,
    exclusive: false,
    nowait: false,
    arguments: {},
  };
  const cflags = ["noLocal", "noAck", "exclusive", "nowait"];
  for (let i = 0; i < cflags.length; i++) {
    const bytes = encode({ ...consume, [cflags[i]]: true } as unknown as Method);
    assert.equal(bytes.length, 13); // 4 + 2 + 1 + 1 + bits 1 + table 4
    assert.equal(bytes[8], 1 << i, cflags[i]);
    assert.deepEqual(decode(bytes), { ...consume, [cflags[i]]: true });
  }
  // Undefined bits on the wire are ignored on decode.
  const b = encode({ ...consume, noAck: true } as Method);
  b[8] |= 0xf0;
  assert.deepEqual(decode(b), { ...consume, noAck: true });

  // basic.nack: delivery tag, then two bits in one octet.
  const nack = encode(
    { id: (60 << 16) | 120, deliveryTag: 2 ** 40 + 5, multiple: false, requeue: true } as Method,
  );
  assert.deepEqual(Array.from(nack), [0, 60, 0, 120, 0, 0, 1, 0, 0, 0, 0, 5, 2]);
});

Deno.test("codec: golden bytes for a few methods", () => {
  const tune = encode(
    { id: (10 << 16) | 30, channelMax: 2047, frameMax: 131072, heartbeat: 60 } as Method,
  );
  assert.deepEqual(Array.from(tune), [0, 10, 0, 30, 7, 255, 0, 2, 0, 0, 0, 60]);
  const publish = encode({
    id: (60 << 16) | 40,
    ticket: 0,
    exchange: "ex",
    routingKey: "rk",
    mandatory: true,
    immediate: false,
  } as Method);
  assert.deepEqual(Array.from(publish), [0, 60, 0, 40, 0, 0, 2, 101, 120, 2, 114, 107, 1]);
  const close = encode({
    id: (20 << 16) | 40,
    replyCode: 404,
    replyText: "NOT_FOUND",
    classId: 50,
    methodId: 10,
  } as Method);
  assert.deepEqual(
    Array.from(close),
    hex("0014 0028  0194  09 4e4f545f464f554e44  0032  000a"),
  );
});

Deno.test("codec: large delivery tags and 32-bit counts", () => {
  const m = {
    id: (60 << 16) | 71,
    deliveryTag: Number.MAX_SAFE_INTEGER,
    redelivered: true,
    exchange: "",
    routingKey: "k",
    messageCount: 0xffffffff,
  } as Method;
  assert.deepEqual(decode(encode(m)), m);
});

Deno.test("codec: short strings keep their exact text", () => {
  const strings = [
    "",
    "\uFEFFleading BOM",
    "ascii".repeat(20),
    "ü".repeat(127),
    "😀 emoji",
    "nul\0inside",
  ];
  for (const s of strings) {
    const m = { id: (60 << 16) | 21, consumerTag: s } as Method;
    assert.deepEqual(decode(encode(m)), m, JSON.stringify(s));
  }
  assert.throws(
    () => encode({ id: (60 << 16) | 21, consumerTag: "é".repeat(128) } as Method),
    RangeError,
  );
  assert.throws(
    () => encode({ id: (60 << 16) | 21, consumerTag: "x".repeat(256) } as Method),
    RangeError,
  );
  encode({ id: (60 << 16) | 21, consumerTag: "x".repeat(255) } as Method);
});

Deno.test("codec: every truncated payload throws DecodeError", () => {
  for (const [name, classId, methodId, sig] of SIGNATURES) {
    if (sig === "") continue;
    const bytes = encode(build((classId << 16) | methodId, sig, 1, () => true));
    for (let end = 4; end < bytes.length; end++) {
      assert.throws(() => decode(bytes, end), DecodeError, `${name} cut at ${end}`);
    }
  }
  // A cut inside the class/method id itself.
  assert.throws(() => decode(new Uint8Array([0, 10, 0])), DecodeError);
});

Deno.test("codec: unknown class or method ids decode to undefined", () => {
  const r = new Reader(new Uint8Array(16));
  for (const id of [0, (10 << 16) | 99, (99 << 16) | 10, (40 << 16) | 41, 0xffffffff]) {
    assert.equal(decodeMethod(id, r), undefined, String(id));
  }
});

Deno.test("codec: all 14 basic properties round-trip", () => {
  const all: BasicProperties = {
    contentType: "application/json",
    contentEncoding: "gzip",
    headers: { a: 1, b: "two", c: { d: [true, null] }, e: new Field("T", 1700000000) },
    deliveryMode: 2,
    priority: 9,
    correlationId: "corr-é",
    replyTo: "amq.rabbitmq.reply-to",
    expiration: "60000",
    messageId: "m-1",
    timestamp: 1700000000,
    type: "t",
    userId: "guest",
    appId: "app",
    clusterId: "c",
  };
  const w = new Writer(16);
  encodeBasicProperties(w, all);
  const bytes = w.bytes().slice();
  assert.equal((bytes[0] << 8) | bytes[1], 0xfffc);
  const r = new Reader(bytes);
  assert.deepEqual(decodeBasicProperties(r), all);
  assert.equal(r.pos, bytes.length);
  for (let end = 2; end < bytes.length; end++) {
    assert.throws(() => decodeBasicProperties(new Reader(bytes, 0, end)), DecodeError);
  }

  // Each property alone sets its own flag bit, from bit 15 down, in wire order.
  const keys = Object.keys(all) as (keyof BasicProperties)[];
  assert.equal(keys.length, 14);
  keys.forEach((k, i) => {
    const one: BasicProperties = { [k]: all[k] };
    const w1 = new Writer(16);
    encodeBasicProperties(w1, one);
    const b1 = w1.bytes().slice();
    assert.equal((b1[0] << 8) | b1[1], 1 << (15 - i), k);
    assert.deepEqual(decodeBasicProperties(new Reader(b1)), one, k);
  });

  const empty = new Writer(16);
  encodeBasicProperties(empty, {});
  assert.deepEqual(Array.from(empty.bytes()), [0, 0]);
  assert.deepEqual(decodeBasicProperties(new Reader(new Uint8Array([0, 0]))), {});
});
