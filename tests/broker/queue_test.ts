import assert from "node:assert/strict";
import { Deque } from "../../src/broker/deque.ts";
import { Message } from "../../src/broker/message.ts";
import type { QueuedMessage } from "../../src/broker/message.ts";
import { Queue } from "../../src/broker/queue.ts";
import type { Consumer } from "../../src/broker/queue.ts";

const EMPTY_PROPS = new Uint8Array([0, 0]);
const msg = (n: number) => new Message("", "q", EMPTY_PROPS, new TextEncoder().encode(String(n)));
const bodyOf = (qm: QueuedMessage) => new TextDecoder().decode(qm.msg.body);

function newQueue(autoDelete = false): Queue {
  return new Queue("q", "/", {
    durable: false,
    exclusive: false,
    autoDelete,
    arguments: {},
    owner: undefined,
  });
}

/** A consumer that records what it got and takes at most `credit` unacked messages. */
function recorder(tag: string, credit = Infinity) {
  const got: QueuedMessage[] = [];
  const c: Consumer & { got: QueuedMessage[]; credit: number } = {
    tag,
    noAck: false,
    exclusive: false,
    got,
    credit,
    canDeliver: () => c.credit > 0,
    deliver: (qm) => {
      c.credit--;
      got.push(qm);
    },
    cancelledByServer: () => {},
  };
  return c;
}

Deno.test("deque: FIFO across wrap-around and growth", () => {
  const d = new Deque<number>(4);
  for (let i = 0; i < 10; i++) d.push(i);
  for (let i = 0; i < 5; i++) assert.equal(d.shift(), i);
  for (let i = 10; i < 40; i++) d.push(i);
  d.unshift(4);
  const out: number[] = [];
  while (d.length) out.push(d.shift()!);
  assert.deepEqual(out, Array.from({ length: 36 }, (_, i) => i + 4));
  assert.equal(d.shift(), undefined);
});

Deno.test("deque: insertOrdered puts items at their sorted place", () => {
  const d = new Deque<number>();
  for (const v of [2, 4, 6, 8]) d.push(v);
  d.insertOrdered(5, (a, b) => a < b);
  d.insertOrdered(1, (a, b) => a < b);
  d.insertOrdered(9, (a, b) => a < b);
  assert.deepEqual([...d], [1, 2, 4, 5, 6, 8, 9]);
});

Deno.test("deque: a million entries drain in linear time", () => {
  const d = new Deque<number>();
  for (let i = 0; i < 1_000_000; i++) d.push(i);
  let sum = 0;
  while (d.length) sum += d.shift()!;
  assert.equal(sum, (999_999 * 1_000_000) / 2);
});

Deno.test("queue: FIFO delivery and round-robin across consumers", () => {
  const q = newQueue();
  const a = recorder("a");
  const b = recorder("b");
  q.addConsumer(a);
  q.addConsumer(b);
  for (let i = 1; i <= 6; i++) q.enqueue(msg(i));
  assert.deepEqual(a.got.map(bodyOf), ["1", "3", "5"]);
  assert.deepEqual(b.got.map(bodyOf), ["2", "4", "6"]);
  assert.equal(q.unackedCount, 6);
});

Deno.test("queue: a consumer without credit is skipped; messages wait for credit", () => {
  const q = newQueue();
  const a = recorder("a", 1);
  const b = recorder("b", 2);
  q.addConsumer(a);
  q.addConsumer(b);
  for (let i = 1; i <= 5; i++) q.enqueue(msg(i));
  assert.deepEqual(a.got.map(bodyOf), ["1"]);
  assert.deepEqual(b.got.map(bodyOf), ["2", "3"]);
  assert.equal(q.messageCount, 2);
  a.credit = 5;
  q.dispatch();
  assert.deepEqual(a.got.map(bodyOf), ["1", "4", "5"]);
  assert.equal(q.messageCount, 0);
});

Deno.test("queue: requeued messages return to their original position, redelivered", () => {
  const q = newQueue();
  for (let i = 1; i <= 5; i++) q.enqueue(msg(i));
  const taken = [q.get(false)!, q.get(false)!, q.get(false)!]; // 1, 2, 3 unacked
  assert.equal(q.messageCount, 2);
  q.requeue([taken[2], taken[0]]); // 3 and 1 back, given out of order
  const order: string[] = [];
  const flags: boolean[] = [];
  for (let qm = q.get(true); qm; qm = q.get(true)) {
    order.push(bodyOf(qm));
    flags.push(qm.redelivered);
  }
  assert.deepEqual(order, ["1", "3", "4", "5"]);
  assert.deepEqual(flags, [true, true, false, false]);
  assert.equal(q.unackedCount, 1); // message 2 is still out
});

Deno.test("queue: purge and delete drop ready messages and cancel consumers", () => {
  const q = newQueue();
  for (let i = 1; i <= 3; i++) q.enqueue(msg(i));
  assert.equal(q.purge(), 3);
  let cancelled = 0;
  const c = recorder("c", 0);
  c.cancelledByServer = () => cancelled++;
  q.addConsumer(c);
  q.enqueue(msg(4));
  assert.equal(q.markDeleted(), 1);
  assert.equal(cancelled, 1);
  assert.equal(q.consumerCount, 0);
});

Deno.test("queue: auto-delete fires when the last consumer goes, not before", () => {
  const q = newQueue(true);
  let deleted = 0;
  q.onAutoDelete = () => deleted++;
  const a = recorder("a");
  const b = recorder("b");
  q.addConsumer(a);
  q.addConsumer(b);
  q.removeConsumer(a);
  assert.equal(deleted, 0);
  q.removeConsumer(b);
  assert.equal(deleted, 1);
});
