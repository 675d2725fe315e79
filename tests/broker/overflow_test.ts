/**
 * Queue length limits at the model level: drop-head over in-memory and paged-out (compact)
 * messages, settled in the message store so that a restart does not bring dropped ones back;
 * reject-publish checks before enqueue.
 */
import assert from "node:assert/strict";
import { Message } from "../../src/broker/message.ts";
import { Queue } from "../../src/broker/queue.ts";
import type { FieldTable } from "../../src/amqp/table.ts";
import { MessageStore } from "../../src/store/message_store.ts";

const PERSISTENT = new Uint8Array([0x10, 0x00, 2]); // flags: delivery-mode; value 2
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function queue(args: FieldTable, store?: MessageStore, id = 1): Queue {
  const q = new Queue(`q${id}`, "/", {
    durable: store !== undefined,
    exclusive: false,
    autoDelete: false,
    arguments: args,
    owner: undefined,
  });
  if (store) {
    q.durableId = id;
    q.persistence = store;
  }
  return q;
}

function publish(q: Queue, body: string, store?: MessageStore): Message {
  const msg = new Message("", "k", PERSISTENT, new TextEncoder().encode(body));
  store?.persist(msg, [q]);
  q.enqueue(msg);
  return msg;
}

function drainBodies(q: Queue): string[] {
  const out: string[] = [];
  for (let qm = q.get(true); qm; qm = q.get(true)) out.push(text(qm.msg.body));
  return out;
}

Deno.test("overflow: no limit means no limit flags", () => {
  const q = queue({});
  assert.equal(q.rejectsPublish, false);
  assert.equal(q.maxLength, Infinity);
  for (let i = 0; i < 100; i++) publish(q, `m${i}`);
  assert.equal(q.messageCount, 100);
});

Deno.test("overflow: drop-head by count and by bytes keeps the newest", () => {
  const byCount = queue({ "x-max-length": 2 });
  for (let i = 0; i < 5; i++) publish(byCount, `m${i}`);
  assert.deepEqual(drainBodies(byCount), ["m3", "m4"]);
  const byBytes = queue({ "x-max-length-bytes": 4 });
  for (let i = 0; i < 5; i++) publish(byBytes, `m${i}`);
  assert.equal(byBytes.readyBytes, 4);
  assert.deepEqual(drainBodies(byBytes), ["m3", "m4"]);
});

Deno.test("overflow: reject-publish refuses what would exceed the limit", () => {
  const q = queue({ "x-max-length-bytes": 5, "x-overflow": "reject-publish" });
  assert.equal(q.rejectsPublish, true);
  const msg = (s: string) => new Message("", "k", PERSISTENT, new TextEncoder().encode(s));
  assert.equal(q.wouldOverflow(msg("12345")), false);
  q.enqueue(msg("123"));
  assert.equal(q.wouldOverflow(msg("12")), false);
  assert.equal(q.wouldOverflow(msg("123")), true);
});

Deno.test("overflow: drop-head settles paged-out messages; a restart does not bring them back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new MessageStore(dir, 0); // every body paged out: the queue holds compact runs
    store.recover(new Map());
    const q = queue({ "x-max-length": 3 }, store);
    for (let i = 0; i < 10; i++) publish(q, `m${i}`, store);
    assert.equal(q.messageCount, 3);
    assert.equal(q.readyBytes, 6);
    await store.sync();
    await store.close();

    const again = new MessageStore(dir, 0);
    const q2 = queue({ "x-max-length": 3 }, again);
    again.recover(new Map([[1, q2]]));
    assert.deepEqual(drainBodies(q2), ["m7", "m8", "m9"]);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
