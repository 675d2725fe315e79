/**
 * Interop tests with the npm clients amqplib (and @cloudamqp/amqp-client where amqplib has no API,
 * e.g. transactions and channel.flow): consuming, acknowledging, prefetch, publisher confirms and
 * transactions. Every expected code, text and ordering was checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/amqplib_basic_test.ts
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import {
  type AmqpChannel as Channel,
  type AmqpError,
  type AmqpMessage as Message,
  type BrokerTestContext as Ctx,
  delay,
  type Emitter,
  guard,
  interopSuite,
  replyText,
  within,
} from "../helpers/amqp_client.ts";

const { brokerTest, unique } = interopSuite("basic");

// ---------------------------------------------------------------------------------------------
// Helpers

const dec = new TextDecoder();
const body = (s: string) => Buffer.from(s, "utf8"); // amqplib accepts only Buffers
const text = (m: Message) => dec.decode(m.content);

/** Collects deliveries (or anything) and lets a test wait, with a bound, for a number of them. */
class Inbox<T> {
  readonly items: T[] = [];
  #waiters: (() => void)[] = [];
  push = (item: T) => {
    this.items.push(item);
    for (const w of this.#waiters.splice(0)) w();
  };
  /** Waits until at least `n` items have arrived in total. */
  async waitFor(n: number, ms = 5000): Promise<T[]> {
    const deadline = Date.now() + ms;
    while (this.items.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${n} items; have ${this.items.length}`);
      }
      await within(new Promise<void>((r) => this.#waiters.push(r)), left, `${n} items`).catch(
        () => {},
      );
    }
    return this.items;
  }
  /** Asserts that nothing more arrives within `ms` (beyond `n` items). */
  async quiet(n: number, ms = 300): Promise<void> {
    await delay(ms);
    assert.equal(this.items.length, n, `expected exactly ${n} items, got ${this.items.length}`);
  }
}

/** Resolves with the first 'error' the emitter reports (channel or connection), bounded. */
function errorOf(emitter: Emitter) {
  return new Promise<AmqpError>((resolve) => emitter.on("error", (e: AmqpError) => resolve(e)));
}

/** Resolves when the emitter reports 'close'. */
function closeOf(emitter: Emitter) {
  return new Promise<void>((resolve) => emitter.on("close", () => resolve()));
}

async function publishAll(ch: Channel, q: string, bodies: string[]) {
  for (const b of bodies) ch.sendToQueue(q, body(b));
  // A round trip on the same channel orders the publishes before it.
  await ch.checkQueue(q);
}

async function getText(ch: Channel, q: string): Promise<[string, boolean] | false> {
  const m = await within(ch.get(q, { noAck: true }), 5000, "basic.get");
  return m === false ? false : [text(m), m.fields.redelivered];
}

/** Drains the queue with basic.get (auto-ack) and returns [body, redelivered] pairs. */
async function drain(ch: Channel, q: string): Promise<[string, boolean][]> {
  const out: [string, boolean][] = [];
  for (;;) {
    const got = await getText(ch, q);
    if (got === false) return out;
    out.push(got);
    assert.ok(out.length < 1000, "queue did not drain");
  }
}

// ---------------------------------------------------------------------------------------------
// Consumers

brokerTest("consume: server-generated consumer tag has amq.ctag- prefix and is used", async (t) => {
  const q = await t.queue("ctag");
  const ch = await t.channel();
  const inbox = new Inbox<Message>();
  const ok = await ch.consume(q, (m) => m && inbox.push(m), { noAck: true });
  assert.match(ok.consumerTag, /^amq\.ctag-.+/);
  ch.sendToQueue(q, body("hello"));
  const [m] = await inbox.waitFor(1);
  assert.equal(m.fields.consumerTag, ok.consumerTag);
  assert.equal(text(m), "hello");
  assert.equal(m.fields.exchange, "");
  assert.equal(m.fields.routingKey, q);
  assert.equal(m.fields.redelivered, false);
  assert.equal(m.fields.deliveryTag, 1);
  const ok2 = await ch.consume(q, () => {}, { noAck: true });
  assert.notEqual(ok2.consumerTag, ok.consumerTag, "generated tags must be unique");
  assert.match(ok2.consumerTag, /^amq\.ctag-.+/);
});

brokerTest("consume: given consumer tag is echoed; cancel stops deliveries", async (t) => {
  const q = await t.queue("tag");
  const ch = await t.channel();
  const inbox = new Inbox<Message>();
  const tag = `my-consumer-${crypto.randomUUID()}`;
  const ok = await ch.consume(q, (m) => m && inbox.push(m), { noAck: true, consumerTag: tag });
  assert.equal(ok.consumerTag, tag);
  ch.sendToQueue(q, body("one"));
  const [m] = await inbox.waitFor(1);
  assert.equal(m.fields.consumerTag, tag);
  assert.equal(text(m), "one");
  await within(ch.cancel(tag), 5000, "cancel");
  const info = await ch.checkQueue(q);
  assert.equal(info.consumerCount, 0);
  ch.sendToQueue(q, body("two"));
  await inbox.quiet(1);
  assert.deepEqual(await getText(ch, q), ["two", false]);
});

brokerTest("consume: reusing a consumer tag on the same channel → 530 NOT_ALLOWED", async (t) => {
  const q = await t.queue("duptag");
  const conn = await t.connect();
  const connError = errorOf(conn);
  const connClosed = closeOf(conn);
  const ch = guard(await conn.createChannel());
  await ch.consume(q, () => {}, { consumerTag: "dup" });
  await assert.rejects(within(ch.consume(q, () => {}, { consumerTag: "dup" }), 5000, "consume"));
  const err = await within(connError, 5000, "connection error");
  assert.equal(err.code, 530);
  assert.equal(replyText(err), "NOT_ALLOWED - attempt to reuse consumer tag 'dup'");
  await within(connClosed, 5000, "connection close");
  // The same tag on another channel is fine.
  const ch2 = await t.channel();
  const ok = await ch2.consume(q, () => {}, { consumerTag: "dup" });
  assert.equal(ok.consumerTag, "dup");
});

brokerTest("consume: exclusive consume on a queue with a consumer → 403", async (t) => {
  const q = await t.queue("excl1");
  const ch1 = await t.channel();
  await ch1.consume(q, () => {});
  const ch2 = await t.channel();
  const chError = errorOf(ch2);
  const err: AmqpError = await within(
    ch2.consume(q, () => {}, { exclusive: true }).then(
      () => assert.fail("exclusive consume should fail"),
      (e) => e,
    ),
    5000,
    "exclusive consume",
  );
  assert.equal(err.code, 403);
  assert.equal(replyText(err), `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
  assert.equal(err.classId, 60);
  assert.equal(err.methodId, 20);
  assert.equal((await within(chError, 5000, "channel error")).code, 403);
  // The first consumer is unaffected.
  const check = await (await t.channel()).checkQueue(q);
  assert.equal(check.consumerCount, 1);
});

brokerTest("consume: consume on a queue with an exclusive consumer → 403", async (t) => {
  const q = await t.queue("excl2");
  const ch1 = await t.channel();
  await ch1.consume(q, () => {}, { exclusive: true });
  const ch2 = await t.channel();
  const err: AmqpError = await within(
    ch2.consume(q, () => {}).then(
      () => assert.fail("consume should fail"),
      (e) => e,
    ),
    5000,
    "consume",
  );
  assert.equal(err.code, 403);
  assert.equal(replyText(err), `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
  // A second exclusive consumer is refused the same way.
  const ch3 = await t.channel();
  const err3: AmqpError = await within(
    ch3.consume(q, () => {}, { exclusive: true }).then(
      () => assert.fail("exclusive consume should fail"),
      (e) => e,
    ),
    5000,
    "consume",
  );
  assert.equal(err3.code, 403);
  assert.equal(replyText(err3), `ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use`);
});

brokerTest("basic.get: get-ok carries the remaining message count; empty → false", async (t) => {
  const q = await t.queue("get");
  const ch = await t.channel();
  await publishAll(ch, q, ["a", "b", "c"]);
  const counts: number[] = [];
  const bodies: string[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await ch.get(q, { noAck: false });
    assert.ok(m !== false);
    counts.push(m.fields.messageCount!);
    bodies.push(text(m));
    assert.equal(m.fields.deliveryTag, i + 1);
    assert.equal(m.fields.redelivered, false);
    assert.equal(m.fields.exchange, "");
    assert.equal(m.fields.routingKey, q);
    ch.ack(m);
  }
  assert.deepEqual(bodies, ["a", "b", "c"]);
  assert.deepEqual(counts, [2, 1, 0]);
  assert.equal(await ch.get(q), false);
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

brokerTest("round-robin over 3 consumers on one queue", async (t) => {
  const q = await t.queue("rr");
  const got: string[] = [];
  const inbox = new Inbox<string>();
  for (const name of ["A", "B", "C"]) {
    const ch = await t.channel();
    await ch.consume(q, (m) => {
      if (m) {
        got.push(`${name}:${text(m)}`);
        inbox.push(name);
      }
    }, { noAck: true });
  }
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4", "5", "6", "7", "8", "9"]);
  await inbox.waitFor(9);
  await inbox.quiet(9, 100);
  const byConsumer = (c: string) => got.filter((g) => g.startsWith(c + ":"));
  assert.deepEqual(byConsumer("A"), ["A:1", "A:4", "A:7"]);
  assert.deepEqual(byConsumer("B"), ["B:2", "B:5", "B:8"]);
  assert.deepEqual(byConsumer("C"), ["C:3", "C:6", "C:9"]);
});

// ---------------------------------------------------------------------------------------------
// Prefetch

brokerTest("prefetch per consumer: exactly 2 in flight until acked", async (t) => {
  const q = await t.queue("qos");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4", "5"]);
  const ch = await t.channel();
  await ch.prefetch(2); // global=false: per consumer
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(2);
  await inbox.quiet(2);
  assert.deepEqual(inbox.items.map(text), ["1", "2"]);
  ch.ack(inbox.items[0]);
  await inbox.waitFor(3);
  await inbox.quiet(3);
  assert.equal(text(inbox.items[2]), "3");
  // Ack both outstanding (multiple) → two more.
  ch.ack(inbox.items[2], true);
  await inbox.waitFor(5);
  assert.deepEqual(inbox.items.map(text), ["1", "2", "3", "4", "5"]);
  // A second consumer on the same channel gets its own limit of 2.
  await publishAll(pub, q, ["6", "7", "8", "9"]);
  const inbox2 = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox2.push(m), { noAck: false });
  await inbox2.waitFor(2);
  await inbox2.quiet(2);
  await inbox.quiet(5, 0);
  assert.deepEqual(inbox2.items.map(text), ["6", "7"]);
  assert.equal((await pub.checkQueue(q)).messageCount, 2);
});

brokerTest("prefetch global=true: a channel-wide limit shared by two consumers", async (t) => {
  const q1 = await t.queue("gqos1");
  const q2 = await t.queue("gqos2");
  const pub = await t.channel();
  await publishAll(pub, q1, ["a1", "a2", "a3", "a4"]);
  await publishAll(pub, q2, ["b1", "b2", "b3", "b4"]);
  const ch = await t.channel();
  await ch.prefetch(3, true);
  const inbox = new Inbox<Message>();
  await ch.consume(q1, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(3);
  await ch.consume(q2, (m) => m && inbox.push(m), { noAck: false });
  await inbox.quiet(3);
  // The first consumer used up the channel's 3; the second got none.
  assert.deepEqual(inbox.items.map(text), ["a1", "a2", "a3"]);
  ch.ack(inbox.items[0]);
  await inbox.waitFor(4);
  await inbox.quiet(4);
  ch.ack(inbox.items[3]);
  ch.ack(inbox.items[1]);
  await inbox.waitFor(6);
  await inbox.quiet(6);
  const texts = inbox.items.map(text);
  // Each queue delivers in order; which consumer got the freed slots first may vary.
  const a = texts.filter((x) => x.startsWith("a"));
  const b = texts.filter((x) => x.startsWith("b"));
  assert.deepEqual(a, ["a1", "a2", "a3", "a4"].slice(0, a.length));
  assert.deepEqual(b, ["b1", "b2", "b3", "b4"].slice(0, b.length));
  assert.ok(b.length >= 1, `the second consumer must get freed capacity: ${texts}`);
});

brokerTest("prefetch global=true and per-consumer limits both apply", async (t) => {
  const q = await t.queue("bothqos");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4", "5", "6"]);
  const ch = await t.channel();
  await ch.prefetch(1, false); // per consumer
  await ch.prefetch(3, true); // per channel
  const i1 = new Inbox<Message>();
  const i2 = new Inbox<Message>();
  await ch.consume(q, (m) => m && i1.push(m), { noAck: false });
  await ch.consume(q, (m) => m && i2.push(m), { noAck: false });
  await i1.waitFor(1);
  await i2.waitFor(1);
  await i1.quiet(1);
  await i2.quiet(1, 0);
  assert.equal((await pub.checkQueue(q)).messageCount, 4);
});

// ---------------------------------------------------------------------------------------------
// Acknowledgements

brokerTest("ack multiple acknowledges everything up to the tag", async (t) => {
  const q = await t.queue("ackmulti");
  const conn = await t.connect();
  const ch = guard(await conn.createChannel());
  await publishAll(ch, q, ["1", "2", "3", "4", "5"]);
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(5);
  ch.ack(inbox.items[2], true); // acks 1, 2, 3
  await ch.close();
  const ch2 = await t.channel();
  assert.deepEqual(await drain(ch2, q), [["4", true], ["5", true]]);
});

brokerTest("nack multiple with requeue puts messages back in original order", async (t) => {
  const q = await t.queue("nackmulti");
  const ch = await t.channel();
  await publishAll(ch, q, ["1", "2", "3", "4", "5"]);
  const got: Message[] = [];
  for (let i = 0; i < 3; i++) got.push((await ch.get(q)) as Message);
  assert.deepEqual(got.map(text), ["1", "2", "3"]);
  ch.nack(got[2], true, true); // 1, 2, 3 requeued
  assert.deepEqual(await drain(ch, q), [["1", true], ["2", true], ["3", true], ["4", false], [
    "5",
    false,
  ]]);
});

brokerTest("nack single with requeue: the message keeps its queue position", async (t) => {
  const q = await t.queue("nackone");
  const ch = await t.channel();
  await publishAll(ch, q, ["1", "2", "3", "4", "5"]);
  const got: Message[] = [];
  for (let i = 0; i < 3; i++) got.push((await ch.get(q)) as Message);
  ch.nack(got[1], false, true); // requeue 2
  ch.ack(got[0]);
  ch.ack(got[2]);
  assert.deepEqual(await drain(ch, q), [["2", true], ["4", false], ["5", false]]);
});

brokerTest("requeue out of order: requeued messages return in original queue order", async (t) => {
  const q = await t.queue("requeueorder");
  const ch = await t.channel();
  await publishAll(ch, q, ["1", "2", "3", "4", "5"]);
  const got: Message[] = [];
  for (let i = 0; i < 4; i++) got.push((await ch.get(q)) as Message);
  ch.nack(got[3], false, true); // 4 first
  ch.reject(got[2], true); // then 3
  ch.nack(got[0], false, true); // then 1
  ch.ack(got[1]);
  assert.deepEqual(await drain(ch, q), [["1", true], ["3", true], ["4", true], ["5", false]]);
});

brokerTest("requeued message is redelivered to a consumer before newer ones", async (t) => {
  const q = await t.queue("nackconsume");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4", "5"]);
  const ch = await t.channel();
  await ch.prefetch(3);
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(3);
  await inbox.quiet(3);
  ch.nack(inbox.items[1], false, true); // requeue 2: the freed slot gets 2 again, not 4
  await inbox.waitFor(4);
  await inbox.quiet(4);
  assert.equal(text(inbox.items[3]), "2");
  assert.equal(inbox.items[3].fields.redelivered, true);
  assert.equal(inbox.items[3].fields.deliveryTag, 4);
  ch.ack(inbox.items[3]);
  ch.ack(inbox.items[2], true);
  await inbox.waitFor(6);
  assert.deepEqual(
    inbox.items.map((m) => [text(m), m.fields.redelivered]),
    [["1", false], ["2", false], ["3", false], ["2", true], ["4", false], ["5", false]],
  );
});

brokerTest("reject with requeue=false drops the message", async (t) => {
  const q = await t.queue("reject");
  const ch = await t.channel();
  await publishAll(ch, q, ["1", "2"]);
  const m = (await ch.get(q)) as Message;
  assert.equal(text(m), "1");
  ch.reject(m, false);
  const n = (await ch.get(q)) as Message;
  assert.equal(text(n), "2");
  assert.equal(n.fields.redelivered, false);
  ch.nack(n, false, false);
  assert.equal(await ch.get(q), false);
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

brokerTest("unacked messages are requeued in order when the channel closes", async (t) => {
  const q = await t.queue("chclose");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4", "5"]);
  const conn = await t.connect();
  const ch = guard(await conn.createChannel());
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(5);
  ch.ack(inbox.items[0]);
  ch.ack(inbox.items[2]);
  await ch.close();
  // The connection stays open; a new consumer sees 2, 4, 5 again.
  const ch2 = guard(await conn.createChannel());
  const again = new Inbox<Message>();
  await ch2.consume(q, (m) => m && again.push(m), { noAck: true });
  await again.waitFor(3);
  await again.quiet(3, 100);
  assert.deepEqual(again.items.map((m) => [text(m), m.fields.redelivered]), [
    ["2", true],
    ["4", true],
    ["5", true],
  ]);
});

brokerTest("unacked messages are requeued in order when the connection closes", async (t) => {
  const q = await t.queue("connclose");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3", "4"]);
  const conn = await t.connect();
  const ch = guard(await conn.createChannel());
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(4);
  ch.ack(inbox.items[1]);
  await ch.checkQueue(q); // a round trip: the ack has been processed
  await conn.close();
  const ch2 = await t.channel();
  // Queue counts are eventually consistent after a connection closes; wait for the requeue.
  const deadline = Date.now() + 5000;
  while ((await ch2.checkQueue(q)).messageCount < 3 && Date.now() < deadline) await delay(20);
  assert.deepEqual(await drain(ch2, q), [["1", true], ["3", true], ["4", true]]);
});

brokerTest("ack of an unknown delivery tag → 406 unknown delivery tag", async (t) => {
  const ch = await t.channel();
  const chError = errorOf(ch);
  ch.ack({ fields: { deliveryTag: 7 } });
  const err = await within(chError, 5000, "channel error");
  assert.equal(err.code, 406);
  assert.equal(replyText(err), "PRECONDITION_FAILED - unknown delivery tag 7");
  assert.equal(err.classId, 60);
  assert.equal(err.methodId, 80);
});

brokerTest("double ack → 406 unknown delivery tag; the acked message stays gone", async (t) => {
  const q = await t.queue("doubleack");
  const ch = await t.channel();
  await publishAll(ch, q, ["1", "2"]);
  const chError = errorOf(ch);
  const chClosed = closeOf(ch);
  const m = (await ch.get(q)) as Message;
  ch.ack(m);
  ch.ack(m);
  const err = await within(chError, 5000, "channel error");
  assert.equal(err.code, 406);
  assert.equal(replyText(err), "PRECONDITION_FAILED - unknown delivery tag 1");
  await within(chClosed, 5000, "channel close");
  const ch2 = await t.channel();
  assert.deepEqual(await drain(ch2, q), [["2", false]]);
});

brokerTest("reject and nack of unknown delivery tags → 406", async (t) => {
  const ch1 = await t.channel();
  const e1 = errorOf(ch1);
  ch1.reject({ fields: { deliveryTag: 3 } }, true);
  const err1 = await within(e1, 5000, "channel error");
  assert.equal(err1.code, 406);
  assert.equal(replyText(err1), "PRECONDITION_FAILED - unknown delivery tag 3");
  assert.equal(err1.methodId, 90);
  const ch2 = await t.channel();
  const e2 = errorOf(ch2);
  ch2.nack({ fields: { deliveryTag: 2 } }, true, true);
  const err2 = await within(e2, 5000, "channel error");
  assert.equal(err2.code, 406);
  assert.equal(replyText(err2), "PRECONDITION_FAILED - unknown delivery tag 2");
  assert.equal(err2.methodId, 120);
});

brokerTest("ack multiple with tag 0 acknowledges all outstanding", async (t) => {
  const q = await t.queue("ackall");
  const conn = await t.connect();
  const ch = guard(await conn.createChannel());
  await publishAll(ch, q, ["1", "2", "3"]);
  for (let i = 0; i < 3; i++) assert.ok(await ch.get(q));
  ch.ack({ fields: { deliveryTag: 0 } }, true);
  await ch.close();
  assert.equal((await (await t.channel()).checkQueue(q)).messageCount, 0);
});

brokerTest("basic.recover(requeue=true) redelivers unacked messages", async (t) => {
  const q = await t.queue("recover");
  const pub = await t.channel();
  await publishAll(pub, q, ["1", "2", "3"]);
  const ch = await t.channel();
  const inbox = new Inbox<Message>();
  await ch.consume(q, (m) => m && inbox.push(m), { noAck: false });
  await inbox.waitFor(3);
  ch.ack(inbox.items[1]);
  await within(ch.recover(), 5000, "recover");
  await inbox.waitFor(5);
  await inbox.quiet(5);
  const redelivered = inbox.items.slice(3);
  assert.deepEqual(redelivered.map((m) => [text(m), m.fields.redelivered]), [
    ["1", true],
    ["3", true],
  ]);
  // Fresh delivery tags; the old ones are no longer valid.
  assert.deepEqual(redelivered.map((m) => m.fields.deliveryTag), [4, 5]);
  ch.ack(redelivered[1], true);
  assert.equal((await pub.checkQueue(q)).messageCount, 0);
});

brokerTest("deleting a consumed queue sends basic.cancel to the consumer", async (t) => {
  const name = unique("cancelnotify");
  const ch = await t.channel();
  await ch.assertQueue(name, { durable: false });
  const inbox = new Inbox<Message | null>();
  const ok = await ch.consume(name, (m) => inbox.push(m), { noAck: true });
  const cancelled = new Promise<{ consumerTag: string }>((r) =>
    ch.on("cancel", (f: { consumerTag: string }) => r(f))
  );
  const other = await t.channel();
  await other.deleteQueue(name);
  const f = await within(cancelled, 5000, "basic.cancel from server");
  assert.equal(f.consumerTag, ok.consumerTag);
  await inbox.waitFor(1);
  assert.equal(inbox.items[0], null);
  // The channel is still usable.
  const q2 = await t.queue("afterCancel");
  await publishAll(ch, q2, ["x"]);
  assert.deepEqual(await getText(ch, q2), ["x", false]);
});

// ---------------------------------------------------------------------------------------------
// Publisher confirms

brokerTest("confirms: every publish is acked", async (t) => {
  const q = await t.queue("confirm");
  const conn = await t.connect();
  const ch = guard(await conn.createConfirmChannel());
  const acks: (string | null)[] = [];
  for (let i = 0; i < 50; i++) {
    ch.sendToQueue(q, body(`m${i}`), {}, (err) => acks.push(err ? String(err) : null));
  }
  await within(ch.waitForConfirms(), 5000, "confirms");
  assert.equal(acks.length, 50);
  assert.ok(acks.every((a) => a === null), `all acks: ${acks}`);
  assert.equal((await ch.checkQueue(q)).messageCount, 50);
});

brokerTest("confirms: an unroutable mandatory message is returned before its ack", async (t) => {
  const q = await t.queue("confirmret");
  const conn = await t.connect();
  const ch = guard(await conn.createConfirmChannel());
  const events: string[] = [];
  const returns: Message[] = [];
  ch.on("return", (m: Message) => {
    returns.push(m);
    events.push(`return:${text(m)}`);
  });
  const cb = (name: string) => (err: unknown) => events.push(`${err ? "nack" : "ack"}:${name}`);
  const nowhere = unique("nowhere");
  ch.publish("amq.direct", nowhere, body("lost"), { mandatory: true }, cb("lost"));
  ch.sendToQueue(q, body("kept"), { mandatory: true }, cb("kept"));
  ch.publish("amq.direct", nowhere, body("lost2"), { mandatory: false }, cb("dropped"));
  await within(ch.waitForConfirms(), 5000, "confirms");
  // The return comes before the ack of the same message. RabbitMQ may confirm the unroutable
  // messages before the routed one (confirms of different messages are not ordered).
  assert.ok(events.indexOf("return:lost") < events.indexOf("ack:lost"), `events: ${events}`);
  assert.deepEqual([...events].sort(), ["ack:dropped", "ack:kept", "ack:lost", "return:lost"]);
  assert.equal(returns.length, 1);
  assert.equal(returns[0].fields.replyCode, 312);
  assert.equal(returns[0].fields.replyText, "NO_ROUTE");
  assert.equal(returns[0].fields.exchange, "amq.direct");
  assert.equal(returns[0].fields.routingKey, nowhere);
  assert.equal((await ch.checkQueue(q)).messageCount, 1);
});

// ---------------------------------------------------------------------------------------------
// Transactions (amqplib has no tx API: @cloudamqp/amqp-client)

async function queueCount(t: Ctx, q: string): Promise<number> {
  const ch = await t.channel();
  const { messageCount } = await ch.checkQueue(q);
  await ch.close();
  return messageCount;
}

brokerTest("tx: committed publishes appear, rolled-back ones do not", async (t) => {
  const q = await t.queue("tx");
  const client = await t.cloud();
  const ch = await client.channel();
  await ch.txSelect();
  await ch.basicPublish("", q, "c1");
  await ch.basicPublish("", q, "c2");
  await ch.basicQos(0); // a round trip: the publishes have reached the server
  assert.equal(await queueCount(t, q), 0, "uncommitted publishes must not be visible");
  await ch.txCommit();
  assert.equal(await queueCount(t, q), 2);
  await ch.basicPublish("", q, "r1");
  await ch.txRollback();
  assert.equal(await queueCount(t, q), 2);
  // The channel stays transactional: a later commit publishes only what followed the rollback.
  await ch.basicPublish("", q, "c3");
  await ch.txCommit();
  const reader = await t.channel();
  assert.deepEqual(await drain(reader, q), [["c1", false], ["c2", false], ["c3", false]]);
});

brokerTest(
  "tx: a rolled-back ack leaves the message unacked; channel close requeues",
  async (t) => {
    const q = await t.queue("txack");
    const pub = await t.channel();
    await publishAll(pub, q, ["m1", "m2"]);
    const client = await t.cloud();
    const ch = await client.channel();
    await ch.txSelect();
    const m1 = await ch.basicGet(q, { noAck: false });
    assert.ok(m1);
    assert.equal(m1.bodyString(), "m1");
    const m2 = await ch.basicGet(q, { noAck: false });
    assert.ok(m2);
    await m1.ack();
    await m2.ack();
    await ch.txRollback();
    // Acking m2 again after the rollback is valid (it is still unacked) and is committed.
    await m2.channel.basicAck(m2.deliveryTag);
    await ch.txCommit();
    assert.equal(await queueCount(t, q), 0);
    await ch.close();
    assert.deepEqual(await drain(pub, q), [["m1", true]]);
  },
);

async function cloudChannelError(
  run: (ch: AMQPChannel) => Promise<unknown>,
  ch: AMQPChannel,
): Promise<string> {
  const err = await within(
    run(ch).then(() => assert.fail("expected a channel error"), (e: Error) => e),
    5000,
    "channel error",
  );
  return err.message;
}

brokerTest("tx: commit/rollback on a non-transactional channel → 406", async (t) => {
  const client = await t.cloud();
  const ch1 = await client.channel();
  assert.equal(
    await cloudChannelError((c) => c.txCommit(), ch1),
    `channel ${ch1.id} closed: PRECONDITION_FAILED - channel is not transactional (406)`,
  );
  const ch2 = await client.channel();
  assert.equal(
    await cloudChannelError((c) => c.txRollback(), ch2),
    `channel ${ch2.id} closed: PRECONDITION_FAILED - channel is not transactional (406)`,
  );
});

brokerTest(
  "tx: confirm.select after tx.select and tx.select after confirm.select → 406",
  async (t) => {
    const client = await t.cloud();
    const ch1 = await client.channel();
    await ch1.txSelect();
    assert.equal(
      await cloudChannelError((c) => c.confirmSelect(), ch1),
      `channel ${ch1.id} closed: PRECONDITION_FAILED - cannot switch from tx to confirm mode (406)`,
    );
    const ch2 = await client.channel();
    await ch2.confirmSelect();
    assert.equal(
      await cloudChannelError((c) => c.txSelect(), ch2),
      `channel ${ch2.id} closed: PRECONDITION_FAILED - cannot switch from confirm to tx mode (406)`,
    );
    // Repeating either select on its own kind of channel is fine.
    const ch3 = await client.channel();
    await ch3.txSelect();
    await ch3.txSelect();
    const ch4 = await client.channel();
    await ch4.confirmSelect();
    await ch4.confirmSelect();
  },
);

// ---------------------------------------------------------------------------------------------
// channel.flow (amqplib has none; @cloudamqp/amqp-client's basicFlow sends channel.flow)

brokerTest("channel.flow active=true is acknowledged with flow-ok", async (t) => {
  const client = await t.cloud();
  const ch = await client.channel();
  assert.equal(await within(ch.basicFlow(true), 5000, "flow"), true);
  // The channel keeps working.
  const q = await t.queue("flow");
  await ch.basicPublish("", q, "after-flow");
  const m = await within(ch.basicGet(q), 5000, "basic.get");
  assert.equal(m?.bodyString(), "after-flow");
});

// RabbitMQ does not implement client-initiated flow control: channel.flow(active=false) closes
// the whole connection with 540.
brokerTest("channel.flow active=false → connection closed 540 NOT_IMPLEMENTED", async (t) => {
  const client = await t.cloud();
  const ch = await client.channel();
  const err = await within(
    ch.basicFlow(false).then(() => assert.fail("flow(false) should fail"), (e: Error) => e),
    5000,
    "flow",
  );
  assert.equal(err.message, "connection closed: NOT_IMPLEMENTED - active=false (540)");
  assert.equal(client.closed, true);
});
