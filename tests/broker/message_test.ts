import assert from "node:assert/strict";
import { rawDeliveryMode } from "../../src/broker/message.ts";
import {
  type BasicProperties,
  decodeBasicProperties,
  encodeBasicProperties,
} from "../../src/amqp/spec.ts";
import { Reader } from "../../src/amqp/reader.ts";
import { Writer } from "../../src/amqp/writer.ts";

Deno.test("rawDeliveryMode: read from the raw bytes, past content-type, encoding and headers", () => {
  const cases: BasicProperties[] = [
    {},
    { deliveryMode: 2 },
    { deliveryMode: 1 },
    { contentType: "text/plain", deliveryMode: 2 },
    {
      contentType: "application/json",
      contentEncoding: "gzip",
      headers: { a: 1, b: "x".repeat(300), c: { d: [1, 2] } },
      deliveryMode: 2,
      priority: 3,
    },
    { headers: {}, deliveryMode: 2 },
    { headers: { x: 1 }, priority: 5 },
  ];
  for (const props of cases) {
    const w = new Writer();
    encodeBasicProperties(w, props);
    const bytes = w.bytes();
    const decoded = decodeBasicProperties(reader(bytes));
    assert.equal(rawDeliveryMode(bytes), decoded.deliveryMode ?? 0, JSON.stringify(props));
  }
  // Cut short or empty: no delivery mode rather than a wrong one.
  assert.equal(rawDeliveryMode(new Uint8Array(0)), 0);
  assert.equal(rawDeliveryMode(new Uint8Array([0x30, 0, 0, 0])), 0);
});

function reader(bytes: Uint8Array): Reader {
  const r = new Reader();
  r.reset(bytes, 0, bytes.length);
  return r;
}
