import assert from "node:assert/strict";
import { decodeShortString } from "../../src/amqp/reader.ts";

const enc = new TextEncoder();
const decode = (s: string, pad = 3) => {
  // The bytes sit inside a larger buffer, as they do in a connection's read buffer.
  const bytes = enc.encode(s);
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(0x41);
  buf.set(bytes, pad);
  return decodeShortString(buf, pad, pad + bytes.length);
};

Deno.test("short string cache: every name decodes to itself, however slots collide", () => {
  // Names that differ only in the middle share length, ends and so hash slot: the byte
  // comparison must tell them apart.
  const names = ["", "a", "k0", "k1", "amq.direct", "orders.eu.x.created", "orders.us.x.created"];
  for (let i = 0; i < 2000; i++) {
    names.push(`queue.${i}.tail`, `q${i}`, `x.${"m".repeat(i % 60)}.y`);
  }
  names.push("ünïcödé", "名前", "emoji 🐇", "x".repeat(64), "y".repeat(65), "z".repeat(255));
  for (let round = 0; round < 3; round++) {
    for (const n of names) assert.equal(decode(n, round + 1), n);
  }
});

Deno.test("short string cache: the same bytes give back the same string", () => {
  const a = decode("exchange.orders");
  const b = decode("exchange.orders", 7);
  assert.equal(a, b);
  // Non-ASCII is decoded each time, and right.
  assert.equal(decode("café"), "café");
  assert.equal(decode("cafe"), "cafe");
});
