/**
 * Priority queues (x-max-priority), queue expiry (x-expires), single active consumer and consumer
 * priorities (x-priority) through amqplib.
 *
 * Every expectation was first checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/priority_expiry_test.ts
 *
 * and without TEST_AMQP_URL the same tests run against our broker, started in-process.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpMessage,
  attempt,
  type ConsumeOptions,
  delay,
  drain,
  interopSuite,
} from "../helpers/amqp_client.ts";

const { brokerTest } = interopSuite("prio");

const bytes = (s: string) => Buffer.from(s, "utf8");

/** Waits for a round trip on `ch`, so everything published before has been routed. */
const sync = (ch: AmqpChannel) => ch.checkExchange("amq.direct");

/** amqplib's consume options with a consumer priority (amqplib sends it as x-priority). */
const withPriority = (priority: number, options: ConsumeOptions = {}) =>
  ({ ...options, priority }) as ConsumeOptions;

// ---------------------------------------------------------------------------------------------
// Priority queues

brokerTest(
  "x-max-priority: higher first, FIFO within a priority; none is 0, above the max is the max",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("order", { arguments: { "x-max-priority": 5 } });
    const sends: [string, number | undefined][] = [
      ["n1", undefined],
      ["p9", 9],
      ["p5", 5],
      ["p0", 0],
      ["p9b", 9],
      ["p2", 2],
      ["n2", undefined],
    ];
    for (const [body, priority] of sends) {
      ch.sendToQueue(q, bytes(body), priority === undefined ? {} : { priority });
    }
    await sync(ch);
    assert.equal((await ch.checkQueue(q)).messageCount, 7);
    assert.deepEqual(await drain(ch, q), ["p9", "p5", "p9b", "p2", "n1", "p0", "n2"]);
  },
);

brokerTest(
  "x-max-priority: requeued messages go back to their place in their priority",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("requeue", { arguments: { "x-max-priority": 5 } });
    for (const [body, priority] of [["a1", 1], ["b3", 3], ["c1", 1], ["d3", 3]] as const) {
      ch.sendToQueue(q, bytes(body), { priority });
    }
    await sync(ch);
    const got: AmqpMessage[] = [];
    for (let i = 0; i < 3; i++) got.push((await ch.get(q)) as AmqpMessage);
    assert.deepEqual(got.map((m) => m.content.toString()), ["b3", "d3", "a1"]);
    ch.nack(got[1], false, true);
    ch.nack(got[0], false, true);
    ch.nack(got[2], false, true);
    await sync(ch);
    const again: AmqpMessage[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (m === false) break;
      again.push(m);
    }
    assert.deepEqual(again.map((m) => m.content.toString()), ["b3", "d3", "a1", "c1"]);
    assert.deepEqual(again.map((m) => m.fields.redelivered), [true, true, true, false]);
  },
);

brokerTest(
  "x-max-priority with x-max-length: drop-head drops the highest priority's head",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("drophead", {
      arguments: { "x-max-priority": 10, "x-max-length": 2 },
    });
    ch.sendToQueue(q, bytes("p1"), { priority: 1 });
    ch.sendToQueue(q, bytes("p5"), { priority: 5 });
    ch.sendToQueue(q, bytes("p3"), { priority: 3 });
    await sync(ch);
    assert.deepEqual(await drain(ch, q), ["p3", "p1"]);
  },
);

brokerTest("x-max-priority: expired messages of any priority are never delivered", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("ttl", { arguments: { "x-max-priority": 5 } });
  ch.sendToQueue(q, bytes("hi"), { priority: 5 });
  ch.sendToQueue(q, bytes("lo-exp"), { priority: 1, expiration: "100" });
  ch.sendToQueue(q, bytes("hi-exp"), { priority: 5, expiration: "100" });
  await sync(ch);
  await delay(300);
  assert.deepEqual(await drain(ch, q), ["hi"]);
});

brokerTest("x-max-priority: a consumer receives in priority order", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("consume", { arguments: { "x-max-priority": 3 } });
  for (const [body, priority] of [["a", 0], ["b", 3], ["c", 1], ["d", 3]] as const) {
    ch.sendToQueue(q, bytes(body), { priority });
  }
  await sync(ch);
  const got: string[] = [];
  const c = await t.channel();
  await c.consume(q, (m) => m && got.push(m.content.toString()), { noAck: true });
  for (let i = 0; i < 50 && got.length < 4; i++) await delay(20);
  assert.deepEqual(got, ["b", "d", "c", "a"]);
});

// ---------------------------------------------------------------------------------------------
// Queue expiry

/** Whether `q` exists, asked on a fresh channel; a passive declare, so it renews the lease. */
async function exists(
  t: { client(): Promise<import("../helpers/amqp_client.ts").Client> },
  q: string,
) {
  const client = await t.client();
  return (await attempt(client, (ch) => ch.checkQueue(q))) === null;
}

brokerTest("x-expires: an unused queue is deleted; publishing is no use", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("unused", { arguments: { "x-expires": 600 } });
  ch.sendToQueue(q, bytes("x"));
  await delay(400);
  ch.sendToQueue(q, bytes("y"));
  await sync(ch);
  await delay(400);
  assert.equal(await exists(t, q), false);
});

brokerTest("x-expires: a passive declare, a redeclare and basic.get renew the lease", async (t) => {
  const ch = await t.channel();
  const args = { "x-expires": 600 };
  const q = await t.queue("renew", { arguments: args });
  await delay(400);
  await ch.checkQueue(q);
  await delay(400);
  await ch.assertQueue(q, { durable: false, arguments: args });
  await delay(400);
  await ch.get(q, { noAck: true });
  await delay(400);
  assert.equal(await exists(t, q), true, "each use restarted the lease");
  await delay(900);
  assert.equal(await exists(t, q), false);
});

brokerTest(
  "x-expires: a queue with a consumer is in use; the lease starts when it goes",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("consumed", { arguments: { "x-expires": 500 } });
    const c = await t.channel();
    const { consumerTag } = await c.consume(q, () => {}, { noAck: true });
    await delay(900);
    assert.equal((await ch.checkQueue(q)).consumerCount, 1);
    await c.cancel(consumerTag);
    await sync(c);
    await delay(900);
    assert.equal(await exists(t, q), false);
  },
);

// ---------------------------------------------------------------------------------------------
// Single active consumer

brokerTest(
  "x-single-active-consumer: the first consumer gets everything; the next takes over",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("sac", { arguments: { "x-single-active-consumer": true } });
    const got: string[] = [];
    const a = await t.channel();
    const b = await t.channel();
    const ca = await a.consume(q, (m) => m && got.push(`A:${m.content}`), { noAck: true });
    // 3.10 picks the active consumer by subscription order, not by priority.
    await b.consume(q, (m) => m && got.push(`B:${m.content}`), withPriority(10, { noAck: true }));
    assert.equal((await ch.checkQueue(q)).consumerCount, 2);
    for (const x of ["1", "2", "3"]) ch.sendToQueue(q, bytes(x));
    await sync(ch);
    await delay(200);
    await a.cancel(ca.consumerTag);
    for (const x of ["4", "5"]) ch.sendToQueue(q, bytes(x));
    await sync(ch);
    await delay(200);
    assert.deepEqual(got, ["A:1", "A:2", "A:3", "B:4", "B:5"]);
  },
);

brokerTest(
  "x-single-active-consumer: the others wait while the active one is blocked; its unacked go to the next",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("sacwait", { arguments: { "x-single-active-consumer": true } });
    const got: string[] = [];
    const c = await t.channel();
    await c.prefetch(1);
    await c.consume(q, (m) => m && got.push(`C:${m.content}`), {});
    const d = await t.channel();
    await d.consume(q, (m) => m && got.push(`D:${m.content}`), { noAck: true });
    for (const x of ["6", "7", "8"]) ch.sendToQueue(q, bytes(x));
    await sync(ch);
    await delay(200);
    assert.deepEqual(got, ["C:6"]);
    assert.equal((await ch.checkQueue(q)).messageCount, 2);
    await c.close();
    await delay(200);
    assert.deepEqual(got, ["C:6", "D:6", "D:7", "D:8"]);
  },
);

// ---------------------------------------------------------------------------------------------
// Consumer priorities

brokerTest(
  "x-priority: the highest consumers with credit get messages, round-robin; then lower ones",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("cprio");
    const got: string[] = [];
    const lo = await t.channel();
    const h1 = await t.channel();
    const h2 = await t.channel();
    await h1.prefetch(2);
    await h2.prefetch(2);
    await lo.consume(q, (m) => m && got.push(`L:${m.content}`), withPriority(-1, { noAck: true }));
    await h1.consume(q, (m) => m && got.push(`H1:${m.content}`), withPriority(5));
    await h2.consume(q, (m) => m && got.push(`H2:${m.content}`), withPriority(5));
    for (let i = 1; i <= 7; i++) ch.sendToQueue(q, bytes(String(i)));
    await sync(ch);
    for (let i = 0; i < 50 && got.length < 7; i++) await delay(20);
    // Three connections: what each consumer got, in order (not how their arrivals interleave).
    const of = (who: string) => got.filter((g) => g.startsWith(`${who}:`));
    assert.deepEqual(of("H1"), ["H1:1", "H1:3"]);
    assert.deepEqual(of("H2"), ["H2:2", "H2:4"]);
    assert.deepEqual(of("L"), ["L:5", "L:6", "L:7"]);
  },
);

brokerTest("x-priority: a value that is not an integer is refused with 406", async (t) => {
  const q = await t.queue("badprio");
  const client = await t.client();
  for (const [value, type] of [["high", "longstr"], [1.5, "double"]] as const) {
    const failure = await attempt(
      client,
      (ch) => ch.consume(q, () => {}, { arguments: { "x-priority": value } } as ConsumeOptions),
    );
    assert.equal(failure?.code, 406);
    assert.equal(
      failure?.text,
      `PRECONDITION_FAILED - invalid arg 'x-priority' for queue '${q}' in vhost '/': "expected integer, got ${type}"`,
    );
  }
});
