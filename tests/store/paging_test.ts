import assert from "node:assert/strict";
import { Message } from "../../src/broker/message.ts";
import { Queue } from "../../src/broker/queue.ts";
import type { Consumer } from "../../src/broker/queue.ts";
import type { QueuedMessage } from "../../src/broker/message.ts";
import { MessageStore } from "../../src/store/message_store.ts";

const PERSISTENT = new Uint8Array([0x10, 0x00, 2]); // flags: delivery-mode; value 2
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function durableQueue(store: MessageStore, id: number): Queue {
  const q = new Queue(`q${id}`, "/", {
    durable: true,
    exclusive: false,
    autoDelete: false,
    arguments: {},
    owner: undefined,
  });
  q.durableId = id;
  q.persistence = store;
  return q;
}

function publish(store: MessageStore, queues: Queue[], body: string): void {
  const msg = new Message("", "k", PERSISTENT, new TextEncoder().encode(body));
  store.persist(msg, queues);
  for (const q of queues) q.enqueue(msg);
}

Deno.test("paging: past the resident limit, bodies live on disk and queues keep order", async () => {
  const dir = await Deno.makeTempDir();
  const store = new MessageStore(dir, 100); // ~10 bodies of 10 bytes stay in memory
  try {
    store.recover(new Map());
    const a = durableQueue(store, 1);
    const b = durableQueue(store, 2);
    for (let i = 0; i < 50; i++) publish(store, [a, b], `body-${String(i).padStart(4, "0")}`);
    await store.sync();
    assert.equal(a.messageCount, 50);
    assert.equal(a.readyBytes, 50 * 9);
    // basic.get order and bodies, with some read back from disk.
    const got: QueuedMessage[] = [];
    for (let i = 0; i < 20; i++) got.push(a.get(false)!);
    assert.deepEqual(
      got.map((qm) => text(qm.msg.body)),
      got.map((_, i) => `body-${String(i).padStart(4, "0")}`),
    );
    assert.ok(got.some((qm) => !qm.msg.resident), "some messages were paged out");
    // Requeued messages go back to the front, redelivered, before paged-out ones.
    a.requeue(got.slice(0, 5));
    for (const qm of got.slice(5)) a.settle(qm);
    const again = a.get(false)!;
    assert.equal(text(again.msg.body), "body-0000");
    assert.equal(again.redelivered, true);
    // A consumer takes the rest in order.
    const seen: string[] = [];
    const c: Consumer = {
      tag: "c",
      noAck: true,
      exclusive: false,
      canDeliver: () => true,
      deliver: (qm) => seen.push(text(qm.msg.body)),
      cancelledByServer: () => {},
    };
    a.addConsumer(c);
    assert.equal(seen.length, 4 + 30);
    assert.equal(seen[4], "body-0020");
    assert.equal(seen.at(-1), "body-0049");
    // The other queue still has all 50; purging settles them (paged ones without objects).
    assert.equal(b.purge(), 50);
    assert.equal(b.messageCount, 0);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("paging: a deleted queue releases its paged-out messages", async () => {
  const dir = await Deno.makeTempDir();
  const store = new MessageStore(dir, 0);
  try {
    store.recover(new Map());
    const q = durableQueue(store, 1);
    for (let i = 0; i < 10; i++) publish(store, [q], `m${i}`);
    assert.equal(q.markDeleted(), 10);
    assert.equal(q.messageCount, 0);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
