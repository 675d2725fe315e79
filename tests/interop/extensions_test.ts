/**
 * RabbitMQ extensions through amqplib: alternate exchanges, x-queue-type, and queue length limits
 * (x-max-length, x-max-length-bytes, x-overflow) with publisher confirms.
 *
 * Every expectation was first checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/extensions_test.ts
 *
 * and without TEST_AMQP_URL the same tests run against our broker, started in-process. The one
 * deliberate difference: RabbitMQ has quorum and stream queues, which this broker refuses (406
 * naming what it supports); those assertions run against our broker only.
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
  guard,
  interopSuite,
  within,
} from "../helpers/amqp_client.ts";

const { brokerTest } = interopSuite("ext");

/** True when the tests run against an external (reference) broker. */
const REFERENCE = Deno.env.get("TEST_AMQP_URL") !== undefined;

const bytes = (s: string) => Buffer.from(s, "utf8");

async function confirmChannel(t: BrokerTestContext): Promise<AmqpChannel> {
  const conn = await t.connect();
  return guard(await conn.createConfirmChannel());
}

/** Publishes on a confirm channel; resolves "ack" or "nack" for this one message. */
function publishConfirmed(
  ch: AmqpChannel,
  exchange: string,
  routingKey: string,
  body: string,
  options: { mandatory?: boolean; persistent?: boolean } = {},
): Promise<"ack" | "nack"> {
  return new Promise((resolve) => {
    ch.publish(exchange, routingKey, bytes(body), options, (err) => resolve(err ? "nack" : "ack"));
  });
}

/** Collects basic.return bodies as `body@exchange/routingKey` (code 312 checked). */
function returns(ch: AmqpChannel): string[] {
  const got: string[] = [];
  ch.on("return", (m: AmqpMessage) => {
    assert.equal(m.fields.replyCode, 312);
    got.push(`${m.content.toString()}@${m.fields.exchange}/${m.fields.routingKey}`);
  });
  return got;
}

/** Waits for a round trip on `ch`, so everything published before has been routed. */
const sync = (ch: AmqpChannel) => ch.checkExchange("amq.direct");

const count = async (ch: AmqpChannel, q: string) => (await ch.checkQueue(q)).messageCount;

// ---------------------------------------------------------------------------------------------
// alternate-exchange

brokerTest("alternate-exchange: unroutable messages go there, routed ones do not", async (t) => {
  const ch = await t.channel();
  const [x, ae] = [t.exchangeName("x"), t.exchangeName("ae")];
  const [qx, qa] = [t.queueName("qx"), t.queueName("qa")];
  await ch.assertExchange(ae, "fanout", { durable: false });
  await ch.assertExchange(x, "direct", { durable: false, arguments: { "alternate-exchange": ae } });
  await ch.assertQueue(qx, { durable: false });
  await ch.assertQueue(qa, { durable: false });
  await ch.bindQueue(qx, x, "k");
  await ch.bindQueue(qa, ae, "");
  const returned = returns(ch);
  ch.publish(x, "k", bytes("routed"), { mandatory: true });
  ch.publish(x, "other", bytes("unroutable"), { mandatory: true });
  await sync(ch);
  assert.deepEqual(await drain(ch, qx), ["routed"]);
  const m = await ch.get(qa, { noAck: true });
  assert.ok(m);
  // The message keeps the exchange and routing key it was published with.
  assert.deepEqual(
    [m.content.toString(), m.fields.exchange, m.fields.routingKey],
    ["unroutable", x, "other"],
  );
  assert.equal(await count(ch, qa), 0);
  await delay(50);
  assert.deepEqual(returned, [], "a message the alternate exchange routes is not returned");
});

brokerTest(
  "alternate-exchange: chains, and returns when even the chain routes nowhere",
  async (t) => {
    const ch = await t.channel();
    const [x, ae1, ae2] = [t.exchangeName("x"), t.exchangeName("ae1"), t.exchangeName("ae2")];
    const [qa, q2] = [t.queueName("qa"), t.queueName("q2")];
    await ch.assertExchange(ae2, "fanout", { durable: false });
    await ch.assertExchange(ae1, "direct", {
      durable: false,
      arguments: { "alternate-exchange": ae2 },
    });
    await ch.assertExchange(x, "direct", {
      durable: false,
      arguments: { "alternate-exchange": ae1 },
    });
    await ch.assertQueue(qa, { durable: false });
    await ch.bindQueue(qa, ae1, "k2");
    const returned = returns(ch);
    ch.publish(x, "k2", bytes("to-qa"), { mandatory: true }); // x → ae1 → qa
    ch.publish(x, "k3", bytes("nowhere"), { mandatory: true }); // x → ae1 → ae2 → nothing
    await sync(ch);
    assert.deepEqual(await drain(ch, qa), ["to-qa"]);
    await ch.assertQueue(q2, { durable: false });
    await ch.bindQueue(q2, ae2, "");
    ch.publish(x, "k4", bytes("via-ae2"), { mandatory: true }); // x → ae1 → ae2 → q2
    await sync(ch);
    assert.deepEqual(await drain(ch, q2), ["via-ae2"]);
    await delay(100);
    assert.deepEqual(returned, [`nowhere@${x}/k3`]);
  },
);

brokerTest("alternate-exchange: cycles end, a missing one is ignored; confirms ack", async (t) => {
  const ch = await confirmChannel(t);
  const [y, z, w] = [t.exchangeName("y"), t.exchangeName("z"), t.exchangeName("w")];
  await ch.assertExchange(y, "direct", { durable: false, arguments: { "alternate-exchange": z } });
  await ch.assertExchange(z, "direct", { durable: false, arguments: { "alternate-exchange": y } });
  await ch.assertExchange(w, "direct", {
    durable: false,
    arguments: { "alternate-exchange": t.exchangeName("missing") },
  });
  const returned = returns(ch);
  assert.equal(await publishConfirmed(ch, y, "loop", "loop", { mandatory: true }), "ack");
  assert.equal(await publishConfirmed(ch, w, "x", "missing-ae", { mandatory: true }), "ack");
  await delay(50);
  assert.deepEqual(returned, [`loop@${y}/loop`, `missing-ae@${w}/x`]);
});

brokerTest(
  "alternate-exchange: applies to an exchange reached by an exchange binding",
  async (t) => {
    const ch = await t.channel();
    const [s, d, ae] = [t.exchangeName("s"), t.exchangeName("d"), t.exchangeName("ae")];
    const [qa, qd] = [t.queueName("qa"), t.queueName("qd")];
    await ch.assertExchange(ae, "fanout", { durable: false });
    await ch.assertExchange(d, "direct", {
      durable: false,
      arguments: { "alternate-exchange": ae },
    });
    await ch.assertExchange(s, "fanout", { durable: false });
    await ch.bindExchange(d, s, "");
    await ch.assertQueue(qa, { durable: false });
    await ch.assertQueue(qd, { durable: false });
    await ch.bindQueue(qa, ae, "");
    await ch.bindQueue(qd, d, "hit");
    const returned = returns(ch);
    ch.publish(s, "miss", bytes("s-miss"), { mandatory: true }); // s → d (routes nowhere) → ae
    ch.publish(s, "hit", bytes("s-hit"), { mandatory: true }); // s → d → qd
    await sync(ch);
    assert.deepEqual(await drain(ch, qa), ["s-miss"]);
    assert.deepEqual(await drain(ch, qd), ["s-hit"]);
    await delay(50);
    assert.deepEqual(returned, []);
  },
);

// ---------------------------------------------------------------------------------------------
// x-queue-type

brokerTest("x-queue-type: classic is accepted and equivalent to no type", async (t) => {
  const ch = await t.channel();
  const [typed, plain] = [t.queueName("typed"), t.queueName("plain")];
  const classic = { durable: false, arguments: { "x-queue-type": "classic" } };
  await ch.assertQueue(typed, classic);
  await ch.assertQueue(plain, { durable: false });
  await ch.assertQueue(typed, { durable: false });
  await ch.assertQueue(plain, classic);
  await ch.assertQueue(typed, classic);
});

brokerTest("x-queue-type: unknown types and bad types are 406", async (t) => {
  const client = await t.client();
  const q = t.queueName("bad");
  const foo = await attempt(
    client,
    (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-queue-type": "foo" } }),
  );
  assert.deepEqual(foo, {
    code: 406,
    text:
      `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${q}' in vhost '/': "unsupported queue type 'foo'"`,
    connectionClosed: false,
  });
  const num = await attempt(
    client,
    (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-queue-type": 5 } }),
  );
  assert.equal(num?.code, 406);
  assert.equal(
    num?.text,
    `PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue '${q}' in vhost '/': {unacceptable_type,byte}`,
  );
});

brokerTest("x-queue-type: quorum and stream are refused, naming what is supported", async (t) => {
  if (REFERENCE) return; // RabbitMQ has them; this broker does not (yet)
  const client = await t.client();
  for (const type of ["quorum", "stream"]) {
    const q = t.queueName(type);
    const f = await attempt(
      client,
      (ch) => ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": type } }),
    );
    assert.deepEqual(f, {
      code: 406,
      text:
        `PRECONDITION_FAILED - queue type '${type}' is not supported by this broker; supported: classic`,
      connectionClosed: false,
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Length limits

brokerTest("x-overflow: an unknown value is 406 invalid_overflow", async (t) => {
  const client = await t.client();
  const q = t.queueName("ovf");
  const f = await attempt(
    client,
    (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-overflow": "foo" } }),
  );
  assert.equal(f?.code, 406);
  assert.equal(
    f?.text,
    `PRECONDITION_FAILED - invalid arg 'x-overflow' for queue '${q}' in vhost '/': invalid_overflow`,
  );
});

brokerTest("x-max-length: drop-head (default) keeps the newest ready messages", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("ml", { arguments: { "x-max-length": 3 } });
  for (let i = 1; i <= 5; i++) ch.sendToQueue(q, bytes(`m${i}`));
  await sync(ch);
  assert.equal(await count(ch, q), 3);
  assert.deepEqual(await drain(ch, q), ["m3", "m4", "m5"]);
});

brokerTest("x-max-length-bytes: drop-head drops until the bodies fit", async (t) => {
  const ch = await t.channel();
  const q = await t.queue("mlb", { arguments: { "x-max-length-bytes": 10 } });
  for (const b of ["aaaa", "bbbb", "cccc"]) ch.sendToQueue(q, bytes(b));
  await sync(ch);
  assert.deepEqual(await drain(ch, q), ["bbbb", "cccc"]);
  // A message larger than the limit pushes out everything, itself included.
  for (const b of ["aaaa", "bbbb", "cccc", "ddddddddddd", "e"]) ch.sendToQueue(q, bytes(b));
  await sync(ch);
  assert.deepEqual(await drain(ch, q), ["e"]);
});

brokerTest(
  "x-max-length: unacked messages do not count; a requeue drops from the head",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("unacked", { arguments: { "x-max-length": 2 } });
    ch.sendToQueue(q, bytes("1"));
    ch.sendToQueue(q, bytes("2"));
    await sync(ch);
    const first = await ch.get(q);
    assert.ok(first);
    ch.sendToQueue(q, bytes("3"));
    await sync(ch);
    assert.equal(await count(ch, q), 2, "2 ready + 1 unacked: within the limit");
    ch.nack(first, false, true); // back at the head: 3 ready, the head (the requeued one) goes
    await sync(ch);
    assert.deepEqual(await drain(ch, q), ["2", "3"]);
  },
);

brokerTest("x-max-length 0: drop-head still delivers to a waiting consumer", async (t) => {
  const ch = await t.channel();
  const dropQ = await t.queue("zero-drop", { arguments: { "x-max-length": 0 } });
  const rejectQ = await t.queue("zero-reject", {
    arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
  });
  const got: string[] = [];
  for (const q of [dropQ, rejectQ]) {
    await ch.consume(q, (m) => m && got.push(`${q === dropQ ? "drop" : "reject"}:${m.content}`), {
      noAck: true,
    });
  }
  ch.sendToQueue(dropQ, bytes("a"));
  ch.sendToQueue(rejectQ, bytes("b"));
  await sync(ch);
  await delay(100);
  assert.deepEqual(got, ["drop:a"], "reject-publish refuses even with a consumer waiting");
  ch.sendToQueue(dropQ, bytes("c")); // no consumer can be behind: still dropped or delivered
  await sync(ch);
  await delay(50);
  assert.deepEqual(got, ["drop:a", "drop:c"]);
});

brokerTest(
  "x-overflow reject-publish: nacked in confirm mode; other queues still get it",
  async (t) => {
    const ch = await confirmChannel(t);
    const [full, other] = [t.queueName("full"), t.queueName("other")];
    const x = t.exchangeName("fan");
    await ch.assertExchange(x, "fanout", { durable: false });
    await ch.assertQueue(full, {
      durable: false,
      arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
    });
    await ch.assertQueue(other, { durable: false });
    await ch.bindQueue(full, x, "");
    await ch.bindQueue(other, x, "");
    const returned = returns(ch);
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => publishConfirmed(ch, x, "", `m${i}`, { mandatory: true })),
    );
    assert.deepEqual(outcomes, ["ack", "ack", "nack", "nack", "nack"]);
    assert.equal(await count(ch, full), 2);
    assert.equal(await count(ch, other), 5);
    assert.deepEqual(returned, [], "a rejected message was routed: it is not returned");
    assert.deepEqual(await drain(ch, full), ["m1", "m2"]);
    assert.equal(await publishConfirmed(ch, x, "", "m6"), "ack", "room again");
  },
);

brokerTest(
  "x-overflow reject-publish: acks and nacks interleave, each confirm exact",
  async (t) => {
    const ch = await confirmChannel(t);
    const full = await t.queue("full", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    const other = await t.queue("other");
    const order: string[] = [];
    const plan = [full, full, other, full, other, other, full, other];
    const outcomes = await within(
      Promise.all(plan.map((q, i) =>
        new Promise<string>((resolve) => {
          ch.sendToQueue(q, bytes(`m${i}`), {}, (err) => {
            const r = `${i}:${err ? "nack" : "ack"}`;
            order.push(r);
            resolve(r);
          });
        })
      )),
      5000,
      "confirms",
    );
    assert.deepEqual(outcomes, [
      "0:ack",
      "1:nack",
      "2:ack",
      "3:nack",
      "4:ack",
      "5:ack",
      "6:nack",
      "7:ack",
    ]);
    // RabbitMQ may send a nack after acks of later publishes (each is confirmed exactly once, and
    // no multiple=true ack covers a nacked one); we confirm in publish order. Both are correct.
    assert.deepEqual([...order].sort(), [...outcomes].sort());
    assert.deepEqual(await drain(ch, full), ["m0"]);
  },
);

brokerTest(
  "x-overflow reject-publish: by bytes; without confirms the message just drops",
  async (t) => {
    const ch = await t.channel();
    const q = await t.queue("bytes", {
      arguments: { "x-max-length-bytes": 6, "x-overflow": "reject-publish" },
    });
    for (const b of ["aaa", "bbb", "c", "dddddddd"]) ch.sendToQueue(q, bytes(b));
    await sync(ch);
    assert.deepEqual(await drain(ch, q), ["aaa", "bbb"]);
  },
);

brokerTest("x-overflow reject-publish-dlx: nacked like reject-publish", async (t) => {
  const ch = await confirmChannel(t);
  const q = await t.queue("dlx", {
    arguments: { "x-max-length": 1, "x-overflow": "reject-publish-dlx" },
  });
  const outcomes = await Promise.all(
    [1, 2, 3].map((i) => publishConfirmed(ch, "", q, `m${i}`)),
  );
  assert.deepEqual(outcomes, ["ack", "nack", "nack"]);
  assert.deepEqual(await drain(ch, q), ["m1"]);
});
