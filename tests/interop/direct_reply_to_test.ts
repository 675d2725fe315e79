/**
 * Direct reply-to (`amq.rabbitmq.reply-to`) through amqplib, and one RPC through pika.
 *
 * Every expectation was first checked against RabbitMQ 3.10:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/direct_reply_to_test.ts
 *
 * and without TEST_AMQP_URL the same tests run against our broker, started in-process.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import {
  type AmqpChannel,
  type AmqpMessage,
  attempt,
  type BrokerTestContext,
  delay,
  guard,
  interopSuite,
  within,
} from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import { pythonSkipReason, runPython } from "../helpers/python.ts";

const { brokerTest, unique } = interopSuite("drt");

const REPLY_TO = "amq.rabbitmq.reply-to";
/** The address RabbitMQ writes into reply_to: the pseudo-queue, the channel, a random key. */
const REPLY_ADDRESS = /^amq\.rabbitmq\.reply-to\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]{22,}$/;

const bytes = (s: string) => Buffer.from(s, "utf8");

/** A channel consuming amq.rabbitmq.reply-to (no-ack), with the replies it gets. */
async function replyClient(t: BrokerTestContext): Promise<{ ch: AmqpChannel; got: AmqpMessage[] }> {
  const ch = await t.channel();
  const got: AmqpMessage[] = [];
  await ch.consume(REPLY_TO, (m) => m && got.push(m), { noAck: true });
  return { ch, got };
}

/**
 * An RPC server on its own connection: answers each request on `queue` with `prefix + body`,
 * published to the default exchange with the request's reply_to as routing key. Records the
 * requests it saw.
 */
async function rpcServer(
  t: BrokerTestContext,
  queue: string,
  prefix: string,
): Promise<AmqpMessage[]> {
  const ch = await t.channel();
  const seen: AmqpMessage[] = [];
  await ch.consume(queue, (m) => {
    if (!m) return;
    seen.push(m);
    ch.publish("", m.properties.replyTo!, bytes(prefix + m.content.toString()), {
      correlationId: m.properties.correlationId,
    });
    ch.ack(m);
  });
  return seen;
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 5000): Promise<T> {
  return await within(
    (async () => {
      for (;;) {
        const v = f();
        if (v !== undefined && v !== false) return v;
        await delay(10);
      }
    })(),
    ms,
    what,
  );
}

brokerTest("direct reply-to: RPC round trip between two connections", async (t) => {
  const queue = await t.queue("rpc");
  const seen = await rpcServer(t, queue, "re:");
  const { ch, got } = await replyClient(t);
  ch.publish("", queue, bytes("ping"), {
    replyTo: REPLY_TO,
    correlationId: "c-1",
    contentType: "text/plain",
    headers: { "x-app": "rpc" },
  });
  await until("the reply", () => got.length === 1);
  // The server saw reply_to rewritten to this channel's address; the other properties unchanged.
  const request = seen[0];
  assert.match(request.properties.replyTo!, REPLY_ADDRESS);
  assert.equal(request.properties.correlationId, "c-1");
  assert.equal(request.properties.contentType, "text/plain");
  assert.deepEqual(request.properties.headers, { "x-app": "rpc" });
  // The reply came straight back: default exchange, the address as routing key, no ack needed.
  const reply = got[0];
  assert.equal(reply.content.toString(), "re:ping");
  assert.equal(reply.properties.correlationId, "c-1");
  assert.equal(reply.fields.exchange, "");
  assert.equal(reply.fields.routingKey, request.properties.replyTo);
  assert.equal(reply.fields.redelivered, false);
  // A second request from the same channel carries the same address.
  ch.publish("", queue, bytes("again"), { replyTo: REPLY_TO, correlationId: "c-2" });
  await until("the second reply", () => got.length === 2);
  assert.equal(seen[1].properties.replyTo, request.properties.replyTo);
  assert.equal(got[1].content.toString(), "re:again");
  // A reply_to that only looks like the pseudo-queue is left as it is.
  ch.publish("", queue, bytes("other"), { replyTo: `${REPLY_TO}x`, correlationId: "c-3" });
  await until("the third request", () => seen.length === 3);
  assert.equal(seen[2].properties.replyTo, `${REPLY_TO}x`);
});

brokerTest("direct reply-to: concurrent clients each get their own replies", async (t) => {
  const queue = await t.queue("rpc");
  const seen = await rpcServer(t, queue, "re:");
  const a = await replyClient(t);
  const b = await replyClient(t);
  for (let i = 0; i < 10; i++) {
    a.ch.publish("", queue, bytes(`a${i}`), { replyTo: REPLY_TO, correlationId: `a${i}` });
    b.ch.publish("", queue, bytes(`b${i}`), { replyTo: REPLY_TO, correlationId: `b${i}` });
  }
  await until("all replies", () => a.got.length + b.got.length === 20);
  await delay(100); // nothing more arrives
  const expected = (p: string) => Array.from({ length: 10 }, (_, i) => `re:${p}${i}`);
  assert.deepEqual(a.got.map((m) => m.content.toString()), expected("a"));
  assert.deepEqual(b.got.map((m) => m.content.toString()), expected("b"));
  const addresses = new Set(seen.map((m) => m.properties.replyTo));
  assert.equal(addresses.size, 2);
});

brokerTest("direct reply-to: the pseudo-queue can be declared passively", async (t) => {
  const ch = await t.channel();
  const ok = await ch.checkQueue(REPLY_TO);
  assert.deepEqual(ok, { queue: REPLY_TO, messageCount: 0, consumerCount: 1 });
  // Its live address too, as long as its channel consumes.
  const queue = await t.queue("rpc");
  const seen = await rpcServer(t, queue, "");
  const client = await replyClient(t);
  client.ch.publish("", queue, bytes("x"), { replyTo: REPLY_TO });
  await until("the request", () => seen.length === 1);
  const address = seen[0].properties.replyTo!;
  assert.deepEqual(await ch.checkQueue(address), {
    queue: address,
    messageCount: 0,
    consumerCount: 1,
  });
  await client.ch.close();
  const c = await t.client();
  const failure = await attempt(c, (ch2) => ch2.checkQueue(address));
  assert.deepEqual(failure, {
    code: 404,
    text: `NOT_FOUND - no queue '${address}' in vhost '/'`,
    connectionClosed: false,
  });
});

brokerTest("direct reply-to: 406 cases, with RabbitMQ's texts", async (t) => {
  const c = await t.client();
  const failed = (text: string) => ({ code: 406, text, connectionClosed: false });
  // Consuming the pseudo-queue with acknowledgements.
  assert.deepEqual(
    await attempt(c, (ch) => ch.consume(REPLY_TO, () => {}, { noAck: false })),
    failed("PRECONDITION_FAILED - reply consumer cannot acknowledge"),
  );
  // Consuming it twice on one channel.
  assert.deepEqual(
    await attempt(c, async (ch) => {
      await ch.consume(REPLY_TO, () => {}, { noAck: true });
      await ch.consume(REPLY_TO, () => {}, { noAck: true });
    }),
    failed("PRECONDITION_FAILED - reply consumer already set"),
  );
  // Publishing a request on a channel that does not consume it.
  const queue = await t.queue("rpc");
  assert.deepEqual(
    await attempt(c, async (ch) => {
      ch.publish("", queue, bytes("x"), { replyTo: REPLY_TO });
      await ch.checkQueue(queue);
    }),
    failed("PRECONDITION_FAILED - fast reply consumer does not exist"),
  );
  // ... or no longer does (cancelled).
  assert.deepEqual(
    await attempt(c, async (ch) => {
      const { consumerTag } = await ch.consume(REPLY_TO, () => {}, { noAck: true });
      await ch.cancel(consumerTag);
      ch.publish("", queue, bytes("x"), { replyTo: REPLY_TO });
      await ch.checkQueue(queue);
    }),
    failed("PRECONDITION_FAILED - fast reply consumer does not exist"),
  );
  // None of those requests reached the queue.
  const probe = await t.channel();
  assert.equal((await probe.checkQueue(queue)).messageCount, 0);
});

brokerTest("direct reply-to: replies to a closed channel are returned or dropped", async (t) => {
  const queue = await t.queue("rpc");
  const client = await replyClient(t);
  const server = guard(await (await t.connect()).createConfirmChannel());
  const returned: string[] = [];
  server.on("return", (m: AmqpMessage) => {
    returned.push(`${m.fields.replyCode} ${m.fields.replyText} ${m.content.toString()}`);
  });
  client.ch.publish("", queue, bytes("req"), { replyTo: REPLY_TO });
  let request: AmqpMessage | false = false;
  for (let i = 0; i < 250 && !request; i++) {
    request = await server.get(queue, { noAck: true });
    if (!request) await delay(20);
  }
  assert.ok(request, "the request arrives");
  const address = request.properties.replyTo!;
  assert.match(address, REPLY_ADDRESS);
  await client.ch.close();
  const publish = (body: string, routingKey: string, mandatory: boolean) =>
    new Promise<boolean>((resolve) => {
      server.publish("", routingKey, bytes(body), { mandatory }, (err) => resolve(!err));
    });
  assert.equal(await publish("late-mandatory", address, true), true);
  assert.equal(await publish("late", address, false), true);
  // An address that was never handed out: the key part is random, so it cannot be guessed.
  const forged = address.replace(/\.[^.]+$/, ".AAAAAAAAAAAAAAAAAAAAAA==");
  assert.equal(await publish("forged-mandatory", forged, true), true);
  await server.checkQueue(queue);
  assert.deepEqual(returned, ["312 NO_ROUTE late-mandatory", "312 NO_ROUTE forged-mandatory"]);
  assert.equal(client.got.length, 0);
});

// ---- pika

const PIKA_SKIP = pythonSkipReason("pika");
if (PIKA_SKIP) console.warn(`pika direct reply-to test skipped: ${PIKA_SKIP}`);

Deno.test({
  name: "direct reply-to: pika RPC (fib) through amq.rabbitmq.reply-to",
  ignore: PIKA_SKIP !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startBroker();
    try {
      const script = fileURLToPath(new URL("./py/direct_reply_rpc.py", import.meta.url));
      const queue = unique("pika-rpc");
      const result = await runPython(script, [broker.url, queue, "10", "3", "10", "20"]);
      assert.equal(result.code, 0, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const requests = lines.filter((l) => l.event === "request");
      const replies = lines.filter((l) => l.event === "reply");
      assert.deepEqual(requests.map((l) => l.n), [3, 10, 20]);
      for (const r of requests) {
        assert.match(r.reply_to, REPLY_ADDRESS);
        assert.equal(r.reply_to, requests[0].reply_to);
      }
      assert.deepEqual(replies.map((l) => [l.n, l.result]), [[3, 2], [10, 55], [20, 6765]]);
      for (const r of replies) {
        assert.equal(r.exchange, "");
        assert.equal(r.routing_key, requests[0].reply_to);
        assert.equal(r.redelivered, false);
      }
      assert.equal(lines.at(-1).event, "done");
    } finally {
      await broker.close();
    }
  },
});
