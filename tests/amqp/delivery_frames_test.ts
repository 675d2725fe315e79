import assert from "node:assert/strict";
import { Writer } from "../../src/amqp/writer.ts";
import {
  writeBodyFrames,
  writeDelivery,
  writeHeaderFrame,
  writeMethodFrame,
} from "../../src/amqp/frames.ts";
import * as spec from "../../src/amqp/spec.ts";
import { bodyBuffer, SLAB_MAX_BODY, unpinned } from "../../src/broker/body_slab.ts";

Deno.test("writeDelivery: byte for byte what deliver + header + body frames encode", () => {
  const cases: [string, string, string, number, number][] = [
    ["amq.ctag-abc", "ex", "rk", 16, 131072],
    ["é", "ünï", "x".repeat(255), 300_000, 131072], // non-ASCII, long key, several body frames
    ["", "", "", 0, 0], // empty body, no frame limit
    ["t", "e", "r", 5000, 4096],
    ["t", "e", "r", 4088, 4096], // exactly one full frame
  ];
  for (const [tag, exchange, key, size, frameMax] of cases) {
    const body = new Uint8Array(size).map((_, i) => i * 7);
    const props = new Uint8Array([0x10, 0, 2]);
    const fast = new Writer(16);
    fast.raw(new Uint8Array(5)); // not at offset 0, as in a busy output buffer
    writeDelivery(fast, 3, tag, 2 ** 40 + 5, true, exchange, key, props, body, frameMax);
    const slow = new Writer(16);
    slow.raw(new Uint8Array(5));
    writeMethodFrame(slow, 3, {
      id: spec.BASIC_DELIVER,
      consumerTag: tag,
      deliveryTag: 2 ** 40 + 5,
      redelivered: true,
      exchange,
      routingKey: key,
    });
    writeHeaderFrame(slow, 3, spec.CLASS_BASIC, body.length, props);
    writeBodyFrames(slow, 3, body, frameMax);
    assert.deepEqual(fast.bytes(), slow.bytes(), `${tag}/${exchange}/${size}/${frameMax}`);
  }
});

Deno.test("body slabs: small bodies share slabs without overlapping; unpinned copies", () => {
  const bodies = Array.from({ length: 200 }, (_, i) => bodyBuffer(100 + i));
  bodies.forEach((b, i) => b.fill(i & 0xff));
  bodies.forEach((b, i) => {
    assert.equal(b.length, 100 + i);
    assert.ok(b.every((x) => x === (i & 0xff)), `body ${i} was overwritten`);
  });
  const small = bodies[0];
  assert.ok(small.buffer.byteLength > small.length, "a small body lives in a shared slab");
  const own = unpinned(small);
  assert.equal(own.buffer.byteLength, small.length);
  assert.deepEqual(own, small);
  const big = bodyBuffer(SLAB_MAX_BODY + 1);
  assert.equal(big.buffer.byteLength, SLAB_MAX_BODY + 1);
  assert.equal(unpinned(big), big);
});
