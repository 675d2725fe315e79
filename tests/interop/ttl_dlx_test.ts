/**
 * Message TTL (x-message-ttl, per-message expiration) and dead-lettering (x-dead-letter-exchange,
 * x-dead-letter-routing-key, the x-death header, cycles) through amqplib.
 *
 * Every expectation was first checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/ttl_dlx_test.ts
 *
 * and without TEST_AMQP_URL the same tests run against our broker, started in-process.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpMessage,
  attempt,
  type BrokerTestContext,
  delay,
  drain,
  interopSuite,
} from "../helpers/amqp_client.ts";

const { brokerTest } = interopSuite("ttl");

const bytes = (s: string) => Buffer.from(s, "utf8");

/** Waits for a round trip on `ch`, so everything published before has been routed. */
const sync = (ch: AmqpChannel) => ch.checkExchange("amq.direct");

const count = async (ch: AmqpChannel, q: string) => (await ch.checkQueue(q)).messageCount;

/** Every message in `q` (no-ack gets), in order. */
async function getAll(ch: AmqpChannel, q: string): Promise<AmqpMessage[]> {
  const out: AmqpMessage[] = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m === false) return out;
    out.push(m);
  }
}

/** A fanout dead-letter exchange with one queue bound; returns [exchange, queue]. */
async function deadLetterTarget(t: BrokerTestContext, ch: AmqpChannel): Promise<[string, string]> {
  const dlx = t.exchangeName("dlx");
  await ch.assertExchange(dlx, "fanout", { durable: false });
  const dead = await t.queue("dead");
  await ch.bindQueue(dead, dlx, "");
  return [dlx, dead];
}

/** An x-death entry without its time, which is checked to be a timestamp. */
function withoutTime(entry: unknown): Record<string, unknown> {
  const { time, ...rest } = entry as Record<string, unknown>;
  assert.equal((time as { "!": string })["!"], "timestamp");
  assert.equal(typeof (time as { value: number }).value, "number");
  return rest;
}

// ---------------------------------------------------------------------------------------------
// TTL

brokerTest(
  "x-message-ttl: expired messages are dropped promptly, without a consumer",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("qttl", { arguments: { "x-message-ttl": 300 } });
    ch.sendToQueue(q, bytes("old"));
    await sync(ch);
    await delay(200);
    ch.sendToQueue(q, bytes("new"));
    await sync(ch);
    assert.equal(await count(ch, q), 2);
    await delay(150); // "old" is past its TTL, "new" is not
    assert.equal(await count(ch, q), 1, "expiry at the head does not wait for a consumer");
    await delay(250);
    assert.equal(await count(ch, q), 0);
    ch.sendToQueue(q, bytes("fresh"));
    await sync(ch);
    assert.deepEqual(await drain(ch, q), ["fresh"]);
  },
);

brokerTest("expiration: the smaller of x-message-ttl and expiration applies", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("both", { arguments: { "x-message-ttl": 150 } });
  const plain = await t.queue("plain");
  ch.sendToQueue(q, bytes("short"), { expiration: "30" });
  ch.sendToQueue(q, bytes("long"), { expiration: "100000" });
  ch.sendToQueue(plain, bytes("p-short"), { expiration: "30" });
  ch.sendToQueue(plain, bytes("p-none"));
  await sync(ch);
  await delay(80);
  // The expired head is dropped; a message with expiration behind an unexpiring one waits.
  assert.deepEqual(await drain(ch, plain), ["p-none"]);
  assert.deepEqual(await count(ch, q), 1);
  await delay(120);
  assert.deepEqual(await count(ch, q), 0, "the queue's TTL is shorter than 100000");
});

brokerTest("expiration: an expired message behind a live one waits for the head", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("behind");
  ch.sendToQueue(q, bytes("live"));
  ch.sendToQueue(q, bytes("short"), { expiration: "10" });
  ch.sendToQueue(q, bytes("live2"));
  await sync(ch);
  await delay(50);
  assert.equal(await count(ch, q), 3, "expiry is checked at the head only");
  assert.deepEqual(await drain(ch, q), ["live", "live2"]);
});

brokerTest("expiration: invalid values close the channel with 406", async (t) => {
  const client = await t.client();
  const q = await t.queue("invalid");
  const cases: [string, string][] = [
    ["abc", "no_integer"],
    ["", "no_integer"],
    [" 5", "no_integer"],
    ["-1", "{value_negative,-1}"],
    ["1.5", '{leftover_string,".5"}'],
    ["12a", '{leftover_string,"a"}'],
  ];
  for (const [expiration, why] of cases) {
    const f = await attempt(client, async (ch) => {
      ch.sendToQueue(q, bytes("x"), { expiration });
      await sync(ch);
    });
    assert.deepEqual(f, {
      code: 406,
      text: `PRECONDITION_FAILED - invalid expiration '${expiration}': ${why}`,
      connectionClosed: false,
    });
  }
  const ch = await t.channel();
  for (const expiration of ["+5000", "05000", "-0"]) {
    ch.sendToQueue(q, bytes(expiration), { expiration });
  }
  await sync(ch);
  assert.deepEqual(await drain(ch, q), ["+5000", "05000"], "-0 is a TTL of 0");
});

brokerTest("x-message-ttl 0: delivered to a waiting consumer, else dropped", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("zero", { arguments: { "x-message-ttl": 0 } });
  ch.sendToQueue(q, bytes("lost"));
  await sync(ch);
  assert.equal(await count(ch, q), 0);
  const got: string[] = [];
  await ch.consume(q, (m) => m && got.push(m.content.toString()), { noAck: true });
  ch.sendToQueue(q, bytes("kept"));
  await sync(ch);
  await delay(50);
  assert.deepEqual(got, ["kept"]);
});

brokerTest("TTL: unacked messages do not expire; requeued ones keep their expiry", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("unacked", { arguments: { "x-message-ttl": 80 } });
  ch.sendToQueue(q, bytes("m"));
  await sync(ch);
  const m = await ch.get(q);
  assert.ok(m);
  await delay(120);
  ch.nack(m, false, true); // back in the queue, already past its expiry
  await sync(ch);
  await delay(30);
  assert.equal(await count(ch, q), 0);
});

// ---------------------------------------------------------------------------------------------
// Dead-lettering

brokerTest(
  "dead-lettering on expiry: x-death, first-death headers, expiration removed",
  async (t) => {
    const ch = await t.channel();
    const [dlx, dead] = await deadLetterTarget(t, ch);
    const q = await t.queue("src", {
      arguments: { "x-dead-letter-exchange": dlx, "x-message-ttl": 100 },
    });
    ch.sendToQueue(q, bytes("a"), {
      expiration: "50",
      headers: { h: 1, CC: ["cc1"] },
      persistent: true,
      contentType: "text/plain",
    });
    await sync(ch);
    await delay(150);
    const [m, ...more] = await getAll(ch, dead);
    assert.equal(more.length, 0);
    assert.equal(m.content.toString(), "a");
    assert.deepEqual([m.fields.exchange, m.fields.routingKey], [dlx, q], "original key kept");
    assert.equal(m.properties.expiration, undefined);
    assert.equal(m.properties.deliveryMode, 2);
    assert.equal(m.properties.contentType, "text/plain");
    const h = m.properties.headers!;
    assert.deepEqual(h.CC, ["cc1"], "CC stays without x-dead-letter-routing-key");
    assert.equal(h.h, 1);
    assert.equal(h["x-first-death-exchange"], "");
    assert.equal(h["x-first-death-queue"], q);
    assert.equal(h["x-first-death-reason"], "expired");
    const deaths = h["x-death"] as unknown[];
    assert.equal(deaths.length, 1);
    assert.deepEqual(withoutTime(deaths[0]), {
      count: 1,
      reason: "expired",
      queue: q,
      exchange: "",
      "routing-keys": [q, "cc1"],
      "original-expiration": "50",
    });
  },
);

brokerTest(
  "dead-lettering on reject and nack: routing key replaced, count incremented",
  async (t) => {
    const ch = await t.channel();
    const [dlx, dead] = await deadLetterTarget(t, ch);
    const q = await t.queue("src", {
      arguments: { "x-dead-letter-exchange": dlx, "x-dead-letter-routing-key": "rk2" },
    });
    ch.sendToQueue(q, bytes("b"), { headers: { CC: ["cc1"] } });
    await sync(ch);
    const g1 = await ch.get(q);
    assert.ok(g1);
    ch.nack(g1, false, false);
    await sync(ch);
    const [d1] = await getAll(ch, dead);
    assert.deepEqual([d1.fields.exchange, d1.fields.routingKey], [dlx, "rk2"]);
    const h1 = d1.properties.headers!;
    assert.equal(h1.CC, undefined, "a new routing key drops CC");
    assert.deepEqual((h1["x-death"] as unknown[]).map(withoutTime), [
      { count: 1, reason: "rejected", queue: q, exchange: "", "routing-keys": [q, "cc1"] },
    ]);
    assert.equal(h1["x-first-death-reason"], "rejected");

    // Back into the queue with its headers, rejected again: the same entry counts 2.
    ch.sendToQueue(q, bytes("c"), { headers: h1 });
    await sync(ch);
    const g2 = await ch.get(q);
    assert.ok(g2);
    ch.reject(g2, false);
    await sync(ch);
    const [d2] = await getAll(ch, dead);
    const deaths = d2.properties.headers!["x-death"] as unknown[];
    assert.equal(deaths.length, 1);
    assert.deepEqual(withoutTime(deaths[0]), {
      count: 2,
      reason: "rejected",
      queue: q,
      exchange: "",
      "routing-keys": [q, "cc1"],
    });
    // A requeueing reject does not dead-letter.
    ch.sendToQueue(q, bytes("d"));
    await sync(ch);
    const g3 = await ch.get(q);
    assert.ok(g3);
    ch.reject(g3, true);
    await sync(ch);
    assert.equal(await count(ch, dead), 0);
    assert.deepEqual(await drain(ch, q), ["d"]);
  },
);

brokerTest(
  "x-death: a new queue/reason goes in front; an old one moves to the front",
  async (t) => {
    const ch = await t.channel();
    const [dlx, dead] = await deadLetterTarget(t, ch);
    const q1 = await t.queue("q1", {
      arguments: { "x-dead-letter-exchange": dlx, "x-message-ttl": 10 },
    });
    const q2 = await t.queue("q2", { arguments: { "x-dead-letter-exchange": dlx } });
    ch.sendToQueue(q1, bytes("x"));
    await delay(60);
    const [e1] = await getAll(ch, dead);
    assert.ok(e1);
    ch.sendToQueue(q2, bytes("x"), { headers: e1.properties.headers });
    await sync(ch);
    const g = await ch.get(q2);
    assert.ok(g);
    ch.reject(g, false);
    await sync(ch);
    const [e2] = await getAll(ch, dead);
    const deaths2 = (e2.properties.headers!["x-death"] as unknown[]).map(withoutTime);
    assert.deepEqual(deaths2.map((d) => [d.queue, d.reason, d.count]), [
      [q2, "rejected", 1],
      [q1, "expired", 1],
    ]);
    assert.equal(e2.properties.headers!["x-first-death-queue"], q1);
    ch.sendToQueue(q1, bytes("x"), { headers: e2.properties.headers });
    await delay(60);
    const [e3] = await getAll(ch, dead);
    assert.ok(e3);
    const deaths3 = (e3.properties.headers!["x-death"] as unknown[]).map(withoutTime);
    assert.deepEqual(deaths3.map((d) => [d.queue, d.reason, d.count]), [
      [q1, "expired", 2],
      [q2, "rejected", 1],
    ]);
    assert.equal(e3.properties.headers!["x-first-death-queue"], q1);
    assert.equal(e3.properties.headers!["x-first-death-reason"], "expired");
  },
);

brokerTest("dead-lettering on max-length: drop-head and reject-publish-dlx", async (t) => {
  const ch = await t.channel();
  const dead = await t.queue("dead");
  const ml = await t.queue("ml", {
    arguments: {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": dead,
      "x-max-length": 1,
    },
  });
  const rpd = await t.queue("rpd", {
    arguments: {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": dead,
      "x-max-length": 1,
      "x-overflow": "reject-publish-dlx",
    },
  });
  for (const b of ["1", "2", "3"]) ch.sendToQueue(ml, bytes(`ml${b}`));
  for (const b of ["1", "2", "3"]) ch.sendToQueue(rpd, bytes(`rpd${b}`));
  await sync(ch);
  const got = await getAll(ch, dead);
  assert.deepEqual(
    got.map((m) => {
      const [d] = (m.properties.headers!["x-death"] as unknown[]).map(withoutTime);
      return [m.content.toString(), m.fields.exchange, m.fields.routingKey, d.reason, d.queue];
    }),
    [
      ["ml1", "", dead, "maxlen", ml],
      ["ml2", "", dead, "maxlen", ml],
      ["rpd2", "", dead, "maxlen", rpd],
      ["rpd3", "", dead, "maxlen", rpd],
    ],
  );
  assert.deepEqual(await drain(ch, ml), ["ml3"]);
  assert.deepEqual(await drain(ch, rpd), ["rpd1"]);
});

brokerTest("dead-lettering: a missing dead-letter exchange drops the message", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("nodlx", {
    arguments: { "x-dead-letter-exchange": t.exchangeName("missing"), "x-message-ttl": 10 },
  });
  ch.sendToQueue(q, bytes("gone"));
  await delay(60);
  assert.equal(await count(ch, q), 0);
});

brokerTest("dead-letter cycles: expiry back to the same queue is dropped", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("cyc", {
    arguments: { "x-dead-letter-exchange": "", "x-message-ttl": 30 },
  });
  ch.sendToQueue(q, bytes("c"));
  await sync(ch);
  await delay(150);
  assert.equal(await count(ch, q), 0);
  // Through a second queue (expired both times): dropped when it would return to the first.
  const a = t.queueName("a");
  const b = t.queueName("b");
  await ch.assertQueue(a, {
    durable: false,
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": b },
  });
  await ch.assertQueue(b, {
    durable: false,
    arguments: {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": a,
      "x-message-ttl": 20,
    },
  });
  ch.sendToQueue(a, bytes("ab"), { expiration: "20" });
  await sync(ch);
  await delay(150);
  assert.deepEqual([await count(ch, a), await count(ch, b)], [0, 0]);
});

brokerTest(
  "dead-letter cycles: with a rejection in the cycle the message goes round",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("rcyc", { arguments: { "x-dead-letter-exchange": "" } });
    ch.sendToQueue(q, bytes("r"));
    await sync(ch);
    for (const expected of [1, 2]) {
      const g = await ch.get(q);
      assert.ok(g, `round ${expected}`);
      if (expected > 1) {
        const [d] = (g.properties.headers!["x-death"] as unknown[]).map(withoutTime);
        assert.deepEqual([d.count, d.reason, d.queue], [expected - 1, "rejected", q]);
      }
      ch.reject(g, false);
      await sync(ch);
    }
    const last = await ch.get(q, { noAck: true });
    assert.ok(last);
    const [d] = (last.properties.headers!["x-death"] as unknown[]).map(withoutTime);
    assert.equal(d.count, 2);
  },
);
