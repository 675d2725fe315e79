/**
 * The AMQP model (exchanges, queues, bindings, routing, reply codes) through the npm amqplib
 * client over real sockets.
 *
 * Every expectation (reply code and exact reply text) was first checked against RabbitMQ 3.10.8:
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/amqplib_model_test.ts
 *
 * and without TEST_AMQP_URL the same tests run against our broker, started in-process.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type AmqpChannel,
  type AmqpMessage,
  attempt,
  type Client,
  delay,
  drain,
  type Failure,
  getText,
  interopSuite,
  publishAndSync,
  uniqueName,
} from "../helpers/amqp_client.ts";

// ---------------------------------------------------------------------------------------------
// Harness

interface Env {
  url: string;
  /** A new connection, closed when the test ends. */
  client(): Promise<Client>;
  /** A unique queue name, deleted when the test ends. */
  queue(prefix?: string): string;
  /** A unique exchange name, deleted when the test ends. */
  exchange(prefix?: string): string;
}

const { brokerTest } = interopSuite("model");

/** A broker test (see interopSuite) that sees its context as an Env. */
function amqpTest(name: string, fn: (env: Env, t: Deno.TestContext) => Promise<void>): void {
  brokerTest(name, (ctx, t) =>
    fn({
      url: ctx.url,
      client: ctx.client,
      queue: (prefix = "q") => ctx.queueName(prefix),
      exchange: (prefix = "x") => ctx.exchangeName(prefix),
    }, t));
}

/** Asserts that `op`, run on a fresh channel, fails with exactly this code and text. */
async function assertFails(
  client: Client,
  op: (ch: AmqpChannel) => Promise<unknown>,
  code: number,
  text: string,
  connectionClosed = false,
): Promise<void> {
  const got = await attempt(client, op);
  const expected: Failure = { code, text, connectionClosed };
  assert.deepEqual(got, expected);
}

/** Asserts that `op`, run on a fresh channel, succeeds without closing anything. */
async function assertSucceeds(client: Client, op: (ch: AmqpChannel) => Promise<unknown>) {
  assert.equal(await attempt(client, op), null);
}

/**
 * Polls a passive declare until it reports these counts, then asserts them. RabbitMQ answers
 * declare-ok ahead of deliveries still in flight to the queue, so counts settle asynchronously.
 */
async function assertCounts(
  ch: AmqpChannel,
  queue: string,
  messageCount: number,
  consumerCount: number,
  ms = 3000,
): Promise<void> {
  const expected = { queue, messageCount, consumerCount };
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await ch.checkQueue(queue);
    if (
      (got.messageCount === messageCount && got.consumerCount === consumerCount) ||
      Date.now() > deadline
    ) {
      assert.deepEqual(got, expected);
      return;
    }
    await delay(25);
  }
}

/** Polls a passive queue declare until the queue is gone (404) or `ms` passes. */
async function queueGone(client: Client, queue: string, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await attempt(client, (ch) => ch.checkQueue(queue));
    if (r?.code === 404) return true;
    if (Date.now() > deadline) return false;
    await delay(25);
  }
}

const VHOST = "vhost '/'";
const noExchange = (x: string) => `NOT_FOUND - no exchange '${x}' in ${VHOST}`;
const noQueue = (q: string) => `NOT_FOUND - no queue '${q}' in ${VHOST}`;
const DEFAULT_REFUSED = "ACCESS_REFUSED - operation not permitted on the default exchange";
const locked = (q: string) =>
  `RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '${q}' in ${VHOST}. ` +
  "It could be originally declared on another connection or the exclusive property value " +
  "does not match that of the original declaration.";
const inequivalent = (
  kind: "exchange" | "queue",
  name: string,
  arg: string,
  detail: string,
) => `PRECONDITION_FAILED - inequivalent arg '${arg}' for ${kind} '${name}' in ${VHOST}: ${detail}`;

const EXCHANGE = { durable: false };
const QUEUE = { durable: false };

/**
 * Publishes a unique body to `exchange` and returns the labels of the queues (label → queue name)
 * it reached, draining every queue. A queue holding anything else shows up as `label:[bodies]`.
 */
async function routedTo(
  ch: AmqpChannel,
  exchange: string,
  routingKey: string,
  queues: Record<string, string>,
  headers?: Record<string, unknown>,
): Promise<string[]> {
  const body = uniqueName("body");
  ch.publish(exchange, routingKey, Buffer.from(body), headers ? { headers } : undefined);
  const hit: string[] = [];
  for (const [label, queue] of Object.entries(queues)) {
    const got = await drain(ch, queue);
    if (got.length === 0) continue;
    hit.push(got.length === 1 && got[0] === body ? label : `${label}:${JSON.stringify(got)}`);
  }
  return hit.sort();
}

/** Declares one non-durable queue per label and binds it to `exchange` with `bind(label)`. */
async function bindQueues(
  env: Env,
  ch: AmqpChannel,
  exchange: string,
  labels: string[],
  bind: (label: string) => { key: string; args?: Record<string, unknown> },
): Promise<Record<string, string>> {
  const queues: Record<string, string> = {};
  for (const label of labels) {
    const q = env.queue("bound");
    await ch.assertQueue(q, QUEUE);
    const { key, args } = bind(label);
    await ch.bindQueue(q, exchange, key, args);
    queues[label] = q;
  }
  return queues;
}

// ---------------------------------------------------------------------------------------------
// Exchanges

amqpTest("exchange: each type declares and routes to bound queues", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();

  await t.step("direct routes by exact routing key", async () => {
    const x = env.exchange("direct");
    await ch.assertExchange(x, "direct", EXCHANGE);
    const qs = await bindQueues(env, ch, x, ["k1", "k2"], (l) => ({ key: l }));
    const extra = env.queue();
    await ch.assertQueue(extra, QUEUE);
    await ch.bindQueue(extra, x, "k1");
    qs["k1-second"] = extra;
    assert.deepEqual(await routedTo(ch, x, "k1", qs), ["k1", "k1-second"]);
    assert.deepEqual(await routedTo(ch, x, "k2", qs), ["k2"]);
    assert.deepEqual(await routedTo(ch, x, "K1", qs), []);
    assert.deepEqual(await routedTo(ch, x, "", qs), []);
  });

  await t.step("fanout ignores the routing key", async () => {
    const x = env.exchange("fanout");
    await ch.assertExchange(x, "fanout", EXCHANGE);
    const qs = await bindQueues(env, ch, x, ["a", "b"], (l) => ({ key: l }));
    assert.deepEqual(await routedTo(ch, x, "whatever", qs), ["a", "b"]);
    assert.deepEqual(await routedTo(ch, x, "", qs), ["a", "b"]);
  });

  await t.step("topic routes by pattern", async () => {
    const x = env.exchange("topic");
    await ch.assertExchange(x, "topic", EXCHANGE);
    const qs = await bindQueues(env, ch, x, ["stock.*", "#.eur"], (l) => ({ key: l }));
    assert.deepEqual(await routedTo(ch, x, "stock.eur", qs), ["#.eur", "stock.*"]);
    assert.deepEqual(await routedTo(ch, x, "stock.usd", qs), ["stock.*"]);
    assert.deepEqual(await routedTo(ch, x, "fx.eur", qs), ["#.eur"]);
    assert.deepEqual(await routedTo(ch, x, "fx.usd", qs), []);
  });

  await t.step("headers routes by message headers", async () => {
    const x = env.exchange("headers");
    await ch.assertExchange(x, "headers", EXCHANGE);
    const qs = await bindQueues(env, ch, x, ["red", "blue"], (l) => ({
      key: "",
      args: { colour: l },
    }));
    assert.deepEqual(await routedTo(ch, x, "", qs, { colour: "red" }), ["red"]);
    assert.deepEqual(await routedTo(ch, x, "red", qs, { colour: "blue" }), ["blue"]);
    assert.deepEqual(await routedTo(ch, x, "red", qs), []);
  });

  await ch.close();
});

amqpTest("exchange: passive declare of a missing exchange is 404", async (env) => {
  const c = await env.client();
  const x = env.exchange("missing");
  await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
  // An existing exchange passes, whatever its type.
  const y = env.exchange();
  await assertSucceeds(c, (ch) => ch.assertExchange(y, "topic", EXCHANGE));
  await assertSucceeds(c, (ch) => ch.checkExchange(y));
});

amqpTest("exchange: redeclare with different properties is 406", async (env, t) => {
  const c = await env.client();
  const x = env.exchange();
  await assertSucceeds(c, (ch) => ch.assertExchange(x, "direct", EXCHANGE));

  await t.step("equivalent redeclare succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.assertExchange(x, "direct", EXCHANGE));
  });
  await t.step("type", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(x, "fanout", EXCHANGE),
      406,
      inequivalent("exchange", x, "type", "received 'fanout' but current is 'direct'"),
    );
  });
  await t.step("durable", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(x, "direct", { durable: true }),
      406,
      inequivalent("exchange", x, "durable", "received 'true' but current is 'false'"),
    );
  });
  await t.step("auto-delete", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(x, "direct", { durable: false, autoDelete: true }),
      406,
      inequivalent("exchange", x, "auto_delete", "received 'true' but current is 'false'"),
    );
  });
  await t.step("internal", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(x, "direct", { durable: false, internal: true }),
      406,
      inequivalent("exchange", x, "internal", "received 'true' but current is 'false'"),
    );
  });
  const y = env.exchange("ae");
  const withAe = (ae: string) => ({ durable: false, arguments: { "alternate-exchange": ae } });
  await assertSucceeds(c, (ch) => ch.assertExchange(y, "fanout", withAe("ae1")));

  await t.step("alternate-exchange: same value redeclares", async () => {
    await assertSucceeds(c, (ch) => ch.assertExchange(y, "fanout", withAe("ae1")));
  });
  await t.step("alternate-exchange: added is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(x, "direct", withAe("ae")),
      406,
      inequivalent(
        "exchange",
        x,
        "alternate-exchange",
        "received the value 'ae' of type 'longstr' but current is none",
      ),
    );
  });
  await t.step("alternate-exchange: changed is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(y, "fanout", withAe("ae2")),
      406,
      inequivalent("exchange", y, "alternate-exchange", "received 'ae2' but current is 'ae1'"),
    );
  });
  await t.step("alternate-exchange: removed is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange(y, "fanout", EXCHANGE),
      406,
      inequivalent(
        "exchange",
        y,
        "alternate-exchange",
        "received none but current is the value 'ae1' of type 'longstr'",
      ),
    );
  });
  await t.step("the exchange is unchanged after the failures", async () => {
    const ch = await c.channel();
    const q = env.queue();
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, x, "k");
    assert.deepEqual(await routedTo(ch, x, "k", { q }), ["q"]);
    await ch.close();
  });
});

amqpTest("exchange: unknown exchange type is connection error 503", async (env) => {
  const c = await env.client();
  const x = env.exchange();
  await assertFails(
    c,
    (ch) => ch.assertExchange(x, "no-such-type", EXCHANGE),
    503,
    // (RabbitMQ says "invalid exchange type" instead when the name happens to be an existing
    // Erlang atom, e.g. 'foo'; "unknown" is the general case.)
    "COMMAND_INVALID - unknown exchange type 'no-such-type'",
    true,
  );
  assert.equal(c.closed, true);
  const c2 = await env.client();
  await assertFails(c2, (ch) => ch.checkExchange(x), 404, noExchange(x));
});

amqpTest("exchange: delete", async (env, t) => {
  const c = await env.client();

  await t.step("delete removes the exchange and its bindings", async () => {
    const x = env.exchange();
    const q = env.queue();
    const ch = await c.channel();
    await ch.assertExchange(x, "direct", EXCHANGE);
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, x, "k");
    await ch.deleteExchange(x);
    await ch.close();
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
    // Recreated under the same name, it has no bindings left.
    const ch2 = await c.channel();
    await ch2.assertExchange(x, "direct", EXCHANGE);
    assert.deepEqual(await routedTo(ch2, x, "k", { q }), []);
    await ch2.close();
  });

  await t.step("if-unused on an exchange with a binding is 406", async () => {
    const x = env.exchange();
    const q = env.queue();
    const ch = await c.channel();
    await ch.assertExchange(x, "fanout", EXCHANGE);
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, x, "");
    await ch.close();
    await assertFails(
      c,
      (ch) => ch.deleteExchange(x, { ifUnused: true }),
      406,
      `PRECONDITION_FAILED - exchange '${x}' in ${VHOST} in use`,
    );
    await assertSucceeds(c, (ch) => ch.checkExchange(x));
    await assertSucceeds(c, (ch) => ch.unbindQueue(q, x, ""));
    await assertSucceeds(c, (ch) => ch.deleteExchange(x, { ifUnused: true }));
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
  });

  await t.step("if-unused on an unbound exchange deletes it", async () => {
    const x = env.exchange();
    await assertSucceeds(c, (ch) => ch.assertExchange(x, "topic", EXCHANGE));
    await assertSucceeds(c, (ch) => ch.deleteExchange(x, { ifUnused: true }));
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
  });

  await t.step(
    "deleting a missing exchange succeeds (RabbitMQ 3.10 replies delete-ok)",
    async () => {
      const x = env.exchange("never");
      await assertSucceeds(c, (ch) => ch.deleteExchange(x));
      await assertSucceeds(c, (ch) => ch.deleteExchange(x, { ifUnused: true }));
    },
  );
});

amqpTest("exchange: publishing to an internal exchange is 403", async (env) => {
  const c = await env.client();
  const x = env.exchange("internal");
  const q = env.queue();
  await assertSucceeds(c, async (ch) => {
    await ch.assertExchange(x, "fanout", { durable: false, internal: true });
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, x, "");
  });
  await assertSucceeds(c, (ch) => ch.checkExchange(x));
  await assertFails(
    c,
    (ch) => publishAndSync(ch, x, "", "direct"),
    403,
    `ACCESS_REFUSED - cannot publish to internal exchange '${x}' in ${VHOST}`,
  );
  // It still routes what reaches it through an exchange-to-exchange binding.
  const front = env.exchange("front");
  const ch = await c.channel();
  await ch.assertExchange(front, "fanout", EXCHANGE);
  await ch.bindExchange(x, front, "");
  assert.deepEqual(await routedTo(ch, front, "", { q }), ["q"]);
  await ch.close();
});

amqpTest("exchange: auto-delete exchange goes with its last binding", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();

  await t.step("never bound: it stays", async () => {
    const x = env.exchange("ad");
    await ch.assertExchange(x, "direct", { durable: false, autoDelete: true });
    await assertSucceeds(c, (ch) => ch.checkExchange(x));
  });

  await t.step("unbinding the last queue binding deletes it", async () => {
    const x = env.exchange("ad");
    const q1 = env.queue();
    const q2 = env.queue();
    await ch.assertExchange(x, "direct", { durable: false, autoDelete: true });
    await ch.assertQueue(q1, QUEUE);
    await ch.assertQueue(q2, QUEUE);
    await ch.bindQueue(q1, x, "a");
    await ch.bindQueue(q2, x, "b");
    await ch.unbindQueue(q1, x, "a");
    await assertSucceeds(c, (ch) => ch.checkExchange(x));
    await ch.unbindQueue(q2, x, "b");
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
  });

  await t.step("deleting the last bound queue deletes it", async () => {
    const x = env.exchange("ad");
    const q = env.queue();
    await ch.assertExchange(x, "fanout", { durable: false, autoDelete: true });
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, x, "");
    await ch.deleteQueue(q);
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
  });

  await t.step("removing the last exchange-to-exchange binding deletes the source", async () => {
    const x = env.exchange("ad");
    const dest = env.exchange("dest");
    await ch.assertExchange(x, "fanout", { durable: false, autoDelete: true });
    await ch.assertExchange(dest, "fanout", EXCHANGE);
    await ch.bindExchange(dest, x, "");
    await assertSucceeds(c, (ch) => ch.checkExchange(x));
    await ch.unbindExchange(dest, x, "");
    await assertFails(c, (ch) => ch.checkExchange(x), 404, noExchange(x));
    await assertSucceeds(c, (ch) => ch.checkExchange(dest));
  });

  await ch.close();
});

amqpTest("exchange: exchange-to-exchange bindings route, unbind stops them", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const src = env.exchange("src");
  const dest = env.exchange("dest");
  const q = env.queue();
  const direct = env.queue("direct");
  await ch.assertExchange(src, "direct", EXCHANGE);
  await ch.assertExchange(dest, "topic", EXCHANGE);
  await ch.assertQueue(q, QUEUE);
  await ch.assertQueue(direct, QUEUE);
  await ch.bindQueue(q, dest, "#");
  await ch.bindQueue(direct, src, "k");
  const qs = { q, direct };

  assert.deepEqual(await routedTo(ch, src, "k", qs), ["direct"]);
  await ch.bindExchange(dest, src, "k");
  assert.deepEqual(await routedTo(ch, src, "k", qs), ["direct", "q"]);
  assert.deepEqual(await routedTo(ch, src, "other", qs), []);
  // Binding the same pair twice is idempotent: still one copy.
  await ch.bindExchange(dest, src, "k");
  assert.deepEqual(await routedTo(ch, src, "k", qs), ["direct", "q"]);
  // The destination's own bindings apply to what it receives.
  const q2 = env.queue();
  await ch.assertQueue(q2, QUEUE);
  await ch.bindQueue(q2, dest, "k.*");
  assert.deepEqual(await routedTo(ch, dest, "k.x", { ...qs, q2 }), ["q", "q2"]);
  assert.deepEqual(await routedTo(ch, src, "k", { ...qs, q2 }), ["direct", "q"]);

  await ch.unbindExchange(dest, src, "k");
  assert.deepEqual(await routedTo(ch, src, "k", qs), ["direct"]);
  assert.deepEqual(await routedTo(ch, dest, "k", qs), ["q"]);
  await ch.close();

  await assertFails(c, (ch) => ch.bindExchange(dest, "nope-src", "k"), 404, noExchange("nope-src"));
  await assertFails(
    c,
    (ch) => ch.bindExchange("nope-dest", src, "k"),
    404,
    noExchange("nope-dest"),
  );
});

// ---------------------------------------------------------------------------------------------
// Default and amq.* exchanges

amqpTest("default exchange: declare/delete/bind/passive are 403", async (env, t) => {
  const c = await env.client();
  const q = env.queue();
  await assertSucceeds(c, (ch) => ch.assertQueue(q, QUEUE));
  const ops: [string, (ch: AmqpChannel) => Promise<unknown>][] = [
    ["declare", (ch) => ch.assertExchange("", "direct", { durable: true })],
    ["passive declare", (ch) => ch.checkExchange("")],
    ["delete", (ch) => ch.deleteExchange("")],
    ["queue bind", (ch) => ch.bindQueue(q, "", q)],
    ["queue unbind", (ch) => ch.unbindQueue(q, "", q)],
    ["exchange bind (as source)", (ch) => ch.bindExchange("amq.fanout", "", "k")],
    ["exchange bind (as destination)", (ch) => ch.bindExchange("", "amq.fanout", "k")],
  ];
  for (const [name, op] of ops) {
    await t.step(name, async () => {
      await assertFails(c, op, 403, DEFAULT_REFUSED);
    });
  }
});

amqpTest("default exchange: routes by queue name", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const q1 = env.queue();
  const q2 = env.queue();
  await ch.assertQueue(q1, QUEUE);
  await ch.assertQueue(q2, QUEUE);
  const qs = { q1, q2 };
  assert.deepEqual(await routedTo(ch, "", q1, qs), ["q1"]);
  assert.deepEqual(await routedTo(ch, "", q2, qs), ["q2"]);
  assert.deepEqual(await routedTo(ch, "", env.queue("absent"), qs), []);
  ch.sendToQueue(q1, Buffer.from("via sendToQueue"));
  assert.equal(await getText(ch, q1), "via sendToQueue");
  await ch.close();
});

amqpTest("amq.* exchanges: predeclared, equivalence, reserved prefix", async (env, t) => {
  const c = await env.client();
  const types: Record<string, string> = {
    "amq.direct": "direct",
    "amq.fanout": "fanout",
    "amq.topic": "topic",
    "amq.headers": "headers",
    "amq.match": "headers",
  };

  await t.step("they exist and redeclare equivalently", async () => {
    for (const [name, type] of Object.entries(types)) {
      await assertSucceeds(c, (ch) => ch.checkExchange(name));
      await assertSucceeds(c, (ch) => ch.assertExchange(name, type, { durable: true }));
    }
  });

  await t.step("they route", async () => {
    const ch = await c.channel();
    const q = env.queue();
    await ch.assertQueue(q, QUEUE);
    await ch.bindQueue(q, "amq.direct", q);
    await ch.bindQueue(q, "amq.topic", `${q}.#`);
    await ch.bindQueue(q, "amq.match", "", { "x-match": "any", to: q });
    assert.deepEqual(await routedTo(ch, "amq.direct", q, { q }), ["q"]);
    assert.deepEqual(await routedTo(ch, "amq.topic", `${q}.a.b`, { q }), ["q"]);
    assert.deepEqual(await routedTo(ch, "amq.match", "", { q }, { to: q }), ["q"]);
    await ch.deleteQueue(q);
    await ch.close();
  });

  await t.step("non-equivalent redeclare of amq.direct is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertExchange("amq.direct", "direct", { durable: false }),
      406,
      inequivalent("exchange", "amq.direct", "durable", "received 'false' but current is 'true'"),
    );
    await assertFails(
      c,
      (ch) => ch.assertExchange("amq.direct", "fanout", { durable: true }),
      406,
      inequivalent("exchange", "amq.direct", "type", "received 'fanout' but current is 'direct'"),
    );
  });

  await t.step("declaring a new amq.* exchange is 403", async () => {
    const name = uniqueName("amq.foo");
    await assertFails(
      c,
      (ch) => ch.assertExchange(name, "direct", EXCHANGE),
      403,
      `ACCESS_REFUSED - exchange name '${name}' contains reserved prefix 'amq.*'`,
    );
    await assertFails(c, (ch) => ch.checkExchange(name), 404, noExchange(name));
  });

  await t.step("deleting amq.direct is 403", async () => {
    await assertFails(
      c,
      (ch) => ch.deleteExchange("amq.direct"),
      403,
      `ACCESS_REFUSED - deletion of system exchange 'amq.direct' in ${VHOST} not allowed`,
    );
    await assertSucceeds(c, (ch) => ch.checkExchange("amq.direct"));
  });
});

// ---------------------------------------------------------------------------------------------
// Topic routing

amqpTest("topic: wildcard and empty-word semantics", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange("topic");
  await ch.assertExchange(x, "topic", EXCHANGE);
  const patterns = [
    "a.b",
    "a.*",
    "*.b",
    "a.*.b",
    "a.*.c",
    "a.#",
    "#.c",
    "a.#.c",
    "#.b.#",
    "#",
    "*",
    "*.*",
    "",
    "a..b",
  ];
  const qs = await bindQueues(env, ch, x, patterns, (p) => ({ key: p }));
  // Routing key → the patterns that match it (as RabbitMQ 3.10 routes). A key splits on "." into
  // words, so "" has no words, "." has two empty words and "a..b" has an empty middle word;
  // "*" matches exactly one word (possibly empty), "#" zero or more.
  const cases: [string, string[]][] = [
    ["a.b", ["a.b", "a.*", "*.b", "a.#", "#.b.#", "#", "*.*"]],
    ["a", ["a.#", "#", "*"]],
    ["a.c", ["a.*", "a.#", "#.c", "a.#.c", "#", "*.*"]],
    ["a.b.c", ["a.*.c", "a.#", "#.c", "a.#.c", "#.b.#", "#"]],
    ["a.x.y.c", ["a.#", "#.c", "a.#.c", "#"]],
    ["a.x.b", ["a.*.b", "a.#", "#.b.#", "#"]],
    ["c", ["#.c", "#", "*"]],
    ["b", ["#.b.#", "#", "*"]],
    ["x.b.y.z", ["#.b.#", "#"]],
    ["", ["", "#"]],
    [".", ["*.*", "#"]],
    ["a.", ["a.*", "a.#", "#", "*.*"]],
    [".b", ["*.b", "#.b.#", "#", "*.*"]],
    ["a..b", ["a..b", "a.*.b", "a.#", "#.b.#", "#"]],
    ["A.B", ["#", "*.*"]],
    ["a.b.", ["a.#", "#.b.#", "#"]],
  ];
  for (const [key, expected] of cases) {
    await t.step(`key ${JSON.stringify(key)}`, async () => {
      assert.deepEqual(await routedTo(ch, x, key, qs), [...expected].sort());
    });
  }
  await ch.close();
});

amqpTest("topic: unbind removes only that pattern", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange("topic");
  const q = env.queue();
  await ch.assertExchange(x, "topic", EXCHANGE);
  await ch.assertQueue(q, QUEUE);
  await ch.bindQueue(q, x, "a.*");
  await ch.bindQueue(q, x, "#.b");
  // Matching two bindings still delivers one copy.
  assert.deepEqual(await routedTo(ch, x, "a.b", { q }), ["q"]);
  await ch.unbindQueue(q, x, "a.*");
  assert.deepEqual(await routedTo(ch, x, "a.c", { q }), []);
  assert.deepEqual(await routedTo(ch, x, "x.b", { q }), ["q"]);
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Headers exchange

amqpTest("headers: x-match all/any, -with-x variants, value types", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange("headers");
  await ch.assertExchange(x, "headers", EXCHANGE);
  const bindings: Record<string, Record<string, unknown>> = {
    "all": { "x-match": "all", a: "1", b: 2 },
    "default": { a: "1", b: 2 },
    "any": { "x-match": "any", a: "1", b: 2 },
    "all-ignores-x": { "x-match": "all", a: "1", "x-k": "v" },
    "any-ignores-x": { "x-match": "any", "x-k": "v", z: "z" },
    "all-with-x": { "x-match": "all-with-x", a: "1", "x-k": "v" },
    "any-with-x": { "x-match": "any-with-x", "x-k": "v", z: "z" },
    "no-args": {},
  };
  const qs = await bindQueues(env, ch, x, Object.keys(bindings), (l) => ({
    key: "",
    args: bindings[l],
  }));
  const cases: [string, Record<string, unknown> | undefined, string[]][] = [
    ["all keys equal", { a: "1", b: 2 }, ["all", "default", "any", "all-ignores-x", "no-args"]],
    ["extra headers are fine", { a: "1", b: 2, c: "extra" }, [
      "all",
      "default",
      "any",
      "all-ignores-x",
      "no-args",
    ]],
    ["one key missing", { a: "1" }, ["any", "all-ignores-x", "no-args"]],
    ["string vs int differ", { a: 1, b: 2 }, ["any", "no-args"]],
    ["int vs string differ", { a: "1", b: "2" }, ["any", "all-ignores-x", "no-args"]],
    ["wrong value", { a: "2", b: 3 }, ["no-args"]],
    ["x- header", { a: "1", "x-k": "v" }, [
      "any",
      "all-ignores-x",
      "all-with-x",
      "any-with-x",
      "no-args",
    ]],
    ["only x- header", { "x-k": "v" }, ["any-with-x", "no-args"]],
    ["x- header, wrong value", { a: "1", "x-k": "w" }, ["any", "all-ignores-x", "no-args"]],
    ["z only", { z: "z" }, ["any-ignores-x", "any-with-x", "no-args"]],
    ["no headers", undefined, ["no-args"]],
  ];
  for (const [name, headers, expected] of cases) {
    await t.step(name, async () => {
      assert.deepEqual(await routedTo(ch, x, "ignored", qs, headers), [...expected].sort());
    });
  }
  await ch.close();

  await t.step("an invalid x-match is 406", async () => {
    const q = env.queue();
    await assertSucceeds(c, (ch) => ch.assertQueue(q, QUEUE));
    await assertFails(
      c,
      (ch) => ch.bindQueue(q, x, "", { "x-match": "bogus", a: "1" }),
      406,
      'PRECONDITION_FAILED - Invalid x-match field value <<"bogus">>; ' +
        "expected all, any, all-with-x, or any-with-x",
    );
  });
});

amqpTest("headers: integers match across widths, a void value matches presence", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange("headers");
  await ch.assertExchange(x, "headers", EXCHANGE);
  // amqplib sends 5 as a byte; { "!": type } forces another field type.
  const qs = await bindQueues(env, ch, x, ["n-byte", "n-long", "p-void"], (l) => ({
    key: "",
    args: {
      "n-byte": { n: 5 },
      "n-long": { "x-match": "any", n: { "!": "long", value: 5 } },
      "p-void": { p: null },
    }[l],
  }));
  const cases: [string, Record<string, unknown>, string[]][] = [
    ["byte 5", { n: 5 }, ["n-byte", "n-long"]],
    ["int 5", { n: { "!": "int", value: 5 } }, ["n-byte", "n-long"]],
    ["long 5", { n: { "!": "long", value: 5 } }, ["n-byte", "n-long"]],
    ["string '5'", { n: "5" }, []],
    ["byte 6", { n: 6 }, []],
    ["p with a string", { p: "anything" }, ["p-void"]],
    ["p void", { p: null }, ["p-void"]],
    ["no p", { q: "x" }, []],
  ];
  for (const [name, headers, expected] of cases) {
    await t.step(name, async () => {
      assert.deepEqual(await routedTo(ch, x, "", qs, headers), [...expected].sort());
    });
  }
  await ch.close();
});

amqpTest("headers: unbind with the same arguments removes the binding", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange("headers");
  const q = env.queue();
  await ch.assertExchange(x, "headers", EXCHANGE);
  await ch.assertQueue(q, QUEUE);
  await ch.bindQueue(q, x, "", { "x-match": "any", a: "1" });
  await ch.bindQueue(q, x, "", { "x-match": "any", b: "1" });
  assert.deepEqual(await routedTo(ch, x, "", { q }, { a: "1", b: "1" }), ["q"]);
  await ch.unbindQueue(q, x, "", { "x-match": "any", a: "1" });
  assert.deepEqual(await routedTo(ch, x, "", { q }, { a: "1" }), []);
  assert.deepEqual(await routedTo(ch, x, "", { q }, { b: "1" }), ["q"]);
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Queues

amqpTest("queue: server-named queues", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const a = await ch.assertQueue("", { exclusive: true, durable: false });
  const b = await ch.assertQueue("", { exclusive: true, durable: false });
  assert.ok(a.queue.startsWith("amq.gen-"), a.queue);
  assert.ok(b.queue.startsWith("amq.gen-"), b.queue);
  assert.ok(a.queue.length > "amq.gen-".length, a.queue);
  assert.notEqual(a.queue, b.queue);
  assert.deepEqual(a, { queue: a.queue, messageCount: 0, consumerCount: 0 });
  assert.deepEqual(await ch.checkQueue(a.queue), a);
  assert.deepEqual(await routedTo(ch, "", a.queue, { a: a.queue, b: b.queue }), ["a"]);
  await ch.close();
});

amqpTest("queue: declare-ok carries message and consumer counts", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const q = env.queue();
  assert.deepEqual(await ch.assertQueue(q, QUEUE), { queue: q, messageCount: 0, consumerCount: 0 });
  for (const body of ["1", "2", "3"]) ch.sendToQueue(q, Buffer.from(body));
  await assertCounts(ch, q, 3, 0);
  assert.deepEqual(await ch.assertQueue(q, QUEUE), { queue: q, messageCount: 3, consumerCount: 0 });

  // A consumer with prefetch 1 holds one message unacked: it no longer counts as ready.
  const consumer = await c.channel();
  await consumer.prefetch(1);
  const delivered: AmqpMessage[] = [];
  let arrived: () => void = () => {};
  const first = new Promise<void>((resolve) => arrived = resolve);
  await consumer.consume(q, (m) => {
    if (m) delivered.push(m);
    arrived();
  });
  await first;
  assert.deepEqual(await ch.checkQueue(q), { queue: q, messageCount: 2, consumerCount: 1 });
  const other = await c.channel();
  await other.consume(q, () => {}, { noAck: false });
  await assertCounts(ch, q, 0, 2);
  await other.close();
  await consumer.close();
  // Closing the channels returned the unacked messages.
  await assertCounts(ch, q, 3, 0);
  await ch.close();
});

amqpTest("queue: passive declare of a missing queue is 404", async (env) => {
  const c = await env.client();
  const q = env.queue("missing");
  await assertFails(c, (ch) => ch.checkQueue(q), 404, noQueue(q));
});

amqpTest("queue: redeclare with different properties", async (env, t) => {
  const c = await env.client();
  const q = env.queue();
  await assertSucceeds(
    c,
    (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-max-length": 10 } }),
  );
  const same = { durable: false, arguments: { "x-max-length": 10 } };

  await t.step("equivalent redeclare succeeds, unknown x-args are not compared", async () => {
    await assertSucceeds(c, (ch) => ch.assertQueue(q, same));
    await assertSucceeds(
      c,
      (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-max-length": 10, "x-foo": 1 } }),
    );
  });
  await t.step("durable is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertQueue(q, { ...same, durable: true }),
      406,
      inequivalent("queue", q, "durable", "received 'true' but current is 'false'"),
    );
  });
  await t.step("auto-delete is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertQueue(q, { ...same, autoDelete: true }),
      406,
      inequivalent("queue", q, "auto_delete", "received 'true' but current is 'false'"),
    );
  });
  await t.step("exclusive is 405 RESOURCE_LOCKED (even on the same connection)", async () => {
    await assertFails(c, (ch) => ch.assertQueue(q, { ...same, exclusive: true }), 405, locked(q));
  });
  await t.step("an integer argument compares by value across integer widths", async () => {
    // amqplib sends 10 as a byte; other clients send it as long ('l') or int ('I').
    for (const width of ["short", "int", "long"]) {
      await assertSucceeds(
        c,
        (ch) =>
          ch.assertQueue(q, {
            durable: false,
            arguments: { "x-max-length": { "!": width, value: 10 } },
          }),
      );
    }
  });
  await t.step("argument changed is 406 (both values present: no types in the text)", async () => {
    await assertFails(
      c,
      (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-max-length": 20 } }),
      406,
      inequivalent("queue", q, "x-max-length", "received '20' but current is '10'"),
    );
  });
  await t.step("argument of another type class is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertQueue(q, { durable: false, arguments: { "x-max-length": "10" } }),
      406,
      inequivalent("queue", q, "x-max-length", "received '10' but current is '10'"),
    );
  });
  await t.step("argument removed is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.assertQueue(q, QUEUE),
      406,
      inequivalent(
        "queue",
        q,
        "x-max-length",
        "received none but current is the value '10' of type 'byte'",
      ),
    );
  });
  await t.step("argument added is 406", async () => {
    await assertFails(
      c,
      (ch) =>
        ch.assertQueue(q, {
          durable: false,
          arguments: { "x-max-length": 10, "x-message-ttl": 1000 },
        }),
      406,
      inequivalent(
        "queue",
        q,
        "x-message-ttl",
        "received the value '1000' of type 'short' but current is none",
      ),
    );
  });
});

amqpTest("queue: amq.* names are reserved (403)", async (env) => {
  const c = await env.client();
  for (const name of ["amq.gen-foo", uniqueName("amq.custom")]) {
    await assertFails(
      c,
      (ch) => ch.assertQueue(name, QUEUE),
      403,
      `ACCESS_REFUSED - queue name '${name}' contains reserved prefix 'amq.*'`,
    );
    await assertFails(c, (ch) => ch.checkQueue(name), 404, noQueue(name));
  }
});

amqpTest("queue: exclusive queue is locked to its connection", async (env, t) => {
  const owner = await env.client();
  const other = await env.client();
  const q = env.queue("excl");
  const och = await owner.channel();
  await och.assertQueue(q, { durable: false, exclusive: true });
  och.sendToQueue(q, Buffer.from("mine"));

  const ops: [string, (ch: AmqpChannel) => Promise<unknown>][] = [
    ["declare", (ch) => ch.assertQueue(q, { durable: false, exclusive: true })],
    ["declare non-exclusive", (ch) => ch.assertQueue(q, QUEUE)],
    ["passive declare", (ch) => ch.checkQueue(q)],
    ["consume", (ch) => ch.consume(q, () => {})],
    ["get", (ch) => ch.get(q)],
    ["purge", (ch) => ch.purgeQueue(q)],
    ["bind", (ch) => ch.bindQueue(q, "amq.direct", q)],
    ["delete", (ch) => ch.deleteQueue(q)],
  ];
  for (const [name, op] of ops) {
    await t.step(`${name} from another connection is 405`, async () => {
      await assertFails(other, op, 405, locked(q));
    });
  }
  await t.step("the owner still has it, message intact", async () => {
    await assertCounts(och, q, 1, 0);
    assert.equal(await getText(och, q), "mine");
  });
  await t.step("the default exchange still routes to it from another connection", async () => {
    const ch = await other.channel();
    ch.sendToQueue(q, Buffer.from("from other"));
    await ch.close();
    assert.equal(await getText(och, q), "from other");
  });
});

amqpTest("queue: exclusive queue is deleted when its connection closes", async (env) => {
  const owner = await env.client();
  const watcher = await env.client();
  const ch = await owner.channel();
  const named = env.queue("excl");
  await ch.assertQueue(named, { durable: false, exclusive: true });
  const { queue: generated } = await ch.assertQueue("", { durable: false, exclusive: true });
  // Closing only the channel keeps it.
  await ch.close();
  await assertSucceeds(owner, (ch) => ch.checkQueue(named));
  await owner.close();
  assert.ok(await queueGone(watcher, named), `${named} still exists`);
  assert.ok(await queueGone(watcher, generated), `${generated} still exists`);
  await assertSucceeds(watcher, (ch) => ch.assertQueue(named, { durable: false, exclusive: true }));
});

amqpTest("queue: auto-delete queue goes when its last consumer cancels", async (env, t) => {
  const c = await env.client();

  await t.step("never consumed: it stays", async () => {
    const q = env.queue("ad");
    const ch = await c.channel();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    ch.sendToQueue(q, Buffer.from("x"));
    assert.equal(await getText(ch, q), "x");
    await ch.close();
    await assertSucceeds(c, (ch) => ch.checkQueue(q));
  });

  await t.step("cancelling one of two consumers keeps it, the last deletes it", async () => {
    const q = env.queue("ad");
    const ch = await c.channel();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    const a = await ch.consume(q, () => {});
    const b = await ch.consume(q, () => {});
    await ch.cancel(a.consumerTag);
    assert.deepEqual(await ch.checkQueue(q), { queue: q, messageCount: 0, consumerCount: 1 });
    await ch.cancel(b.consumerTag);
    await ch.close();
    assert.ok(await queueGone(c, q), `${q} still exists`);
  });

  await t.step("closing the consumer's channel deletes it", async () => {
    const q = env.queue("ad");
    const ch = await c.channel();
    await ch.assertQueue(q, { durable: false, autoDelete: true });
    await ch.consume(q, () => {});
    await ch.close();
    assert.ok(await queueGone(c, q), `${q} still exists`);
  });
});

amqpTest("queue: purge and delete return message counts", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const q = env.queue();
  await ch.assertQueue(q, QUEUE);

  await t.step("purge", async () => {
    for (const b of ["1", "2", "3"]) ch.sendToQueue(q, Buffer.from(b));
    assert.deepEqual(await ch.purgeQueue(q), { messageCount: 3 });
    assert.deepEqual(await ch.purgeQueue(q), { messageCount: 0 });
    assert.equal(await getText(ch, q), null);
  });

  await t.step("purge of a missing queue is 404", async () => {
    const missing = env.queue("missing");
    await assertFails(c, (ch) => ch.purgeQueue(missing), 404, noQueue(missing));
  });

  await t.step("delete", async () => {
    for (const b of ["1", "2"]) ch.sendToQueue(q, Buffer.from(b));
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 2 });
    await assertFails(c, (ch) => ch.checkQueue(q), 404, noQueue(q));
  });
  await ch.close();
});

amqpTest("queue: delete if-empty / if-unused", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const q = env.queue();
  await ch.assertQueue(q, QUEUE);
  ch.sendToQueue(q, Buffer.from("keep"));
  await ch.checkQueue(q);

  await t.step("if-empty on a queue with a message is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.deleteQueue(q, { ifEmpty: true }),
      406,
      `PRECONDITION_FAILED - queue '${q}' in ${VHOST} not empty`,
    );
  });

  const consumerCh = await c.channel();
  await consumerCh.prefetch(1);
  // Drain the message into the consumer (unacked), so the queue is empty of ready messages.
  const gotOne = new Promise<void>((resolve) => {
    consumerCh.consume(q, () => resolve());
  });
  await gotOne;

  await t.step("if-unused on a queue with a consumer is 406", async () => {
    await assertFails(
      c,
      (ch) => ch.deleteQueue(q, { ifUnused: true }),
      406,
      `PRECONDITION_FAILED - queue '${q}' in ${VHOST} in use`,
    );
    await assertFails(
      c,
      (ch) => ch.deleteQueue(q, { ifUnused: true, ifEmpty: true }),
      406,
      `PRECONDITION_FAILED - queue '${q}' in ${VHOST} in use`,
    );
  });

  await consumerCh.close();
  await t.step("once unused and empty, both flags delete it", async () => {
    assert.deepEqual(await ch.purgeQueue(q), { messageCount: 1 });
    assert.deepEqual(await ch.deleteQueue(q, { ifUnused: true, ifEmpty: true }), {
      messageCount: 0,
    });
    await assertFails(c, (ch) => ch.checkQueue(q), 404, noQueue(q));
  });
  await ch.close();
});

amqpTest(
  "queue: deleting a missing queue succeeds (RabbitMQ 3.10 replies delete-ok)",
  async (env) => {
    const c = await env.client();
    const q = env.queue("never");
    const ch = await c.channel();
    assert.deepEqual(await ch.deleteQueue(q), { messageCount: 0 });
    assert.deepEqual(await ch.deleteQueue(q, { ifEmpty: true, ifUnused: true }), {
      messageCount: 0,
    });
    await ch.close();
  },
);

amqpTest("queue: operations on a missing queue are 404", async (env, t) => {
  const c = await env.client();
  const q = env.queue("missing");
  const ops: [string, (ch: AmqpChannel) => Promise<unknown>][] = [
    ["get", (ch) => ch.get(q)],
    ["consume", (ch) => ch.consume(q, () => {})],
  ];
  for (const [name, op] of ops) {
    await t.step(name, async () => {
      await assertFails(c, op, 404, noQueue(q));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Bindings

amqpTest("bindings: bind to a missing queue or exchange is 404", async (env, t) => {
  const c = await env.client();
  const x = env.exchange();
  const q = env.queue();
  await assertSucceeds(c, async (ch) => {
    await ch.assertExchange(x, "direct", EXCHANGE);
    await ch.assertQueue(q, QUEUE);
  });
  const mq = env.queue("missing");
  const mx = env.exchange("missing");

  await t.step("missing queue", async () => {
    await assertFails(c, (ch) => ch.bindQueue(mq, x, "k"), 404, noQueue(mq));
  });
  await t.step("missing exchange", async () => {
    await assertFails(c, (ch) => ch.bindQueue(q, mx, "k"), 404, noExchange(mx));
  });
  await t.step("both missing: the exchange is reported", async () => {
    await assertFails(c, (ch) => ch.bindQueue(mq, mx, "k"), 404, noExchange(mx));
  });
});

amqpTest("bindings: unbind", async (env, t) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange();
  const q = env.queue();
  await ch.assertExchange(x, "direct", EXCHANGE);
  await ch.assertQueue(q, QUEUE);

  await t.step("unbind stops routing for that key only", async () => {
    await ch.bindQueue(q, x, "a");
    await ch.bindQueue(q, x, "b");
    // Rebinding the same key is idempotent.
    await ch.bindQueue(q, x, "a");
    assert.deepEqual(await routedTo(ch, x, "a", { q }), ["q"]);
    await ch.unbindQueue(q, x, "a");
    assert.deepEqual(await routedTo(ch, x, "a", { q }), []);
    assert.deepEqual(await routedTo(ch, x, "b", { q }), ["q"]);
  });

  // RabbitMQ 3.10 replies unbind-ok for bindings that do not exist, even when the queue or the
  // exchange does not exist either.
  await t.step("unbind of a key never bound succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindQueue(q, x, "never-bound"));
  });
  await t.step("unbind of an already removed binding succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindQueue(q, x, "a"));
  });
  await t.step("unbind from a missing queue succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindQueue(env.queue("missing"), x, "a"));
  });
  await t.step("unbind from a missing exchange succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindQueue(q, env.exchange("missing"), "a"));
  });
  await t.step("exchange unbind of a binding that does not exist succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindExchange(x, "amq.direct", "never-bound"));
  });
  await t.step("exchange unbind with a missing destination succeeds", async () => {
    await assertSucceeds(c, (ch) => ch.unbindExchange(env.exchange("missing"), x, "k"));
  });
  await t.step("the remaining binding is untouched", async () => {
    assert.deepEqual(await routedTo(ch, x, "b", { q }), ["q"]);
  });
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Publishing

amqpTest("publish: to a missing exchange closes the channel with 404", async (env) => {
  const c = await env.client();
  const x = env.exchange("missing");
  await assertFails(c, (ch) => publishAndSync(ch, x, "k", "lost"), 404, noExchange(x));
});

amqpTest("publish: mandatory unroutable message comes back as basic.return 312", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  const x = env.exchange();
  await ch.assertExchange(x, "direct", EXCHANGE);
  const returned: AmqpMessage[] = [];
  ch.on("return", (m) => returned.push(m as AmqpMessage));

  const properties = {
    contentType: "text/plain",
    contentEncoding: "utf-8",
    headers: { h1: "v1", n: 42 },
    deliveryMode: 2,
    priority: 3,
    correlationId: "corr-1",
    replyTo: "reply-q",
    expiration: "60000",
    messageId: "msg-1",
    timestamp: 1700000000,
    type: "kind",
    appId: "interop",
  };
  const { deliveryMode: _, ...publishProps } = properties;
  ch.publish(x, "nobody", Buffer.from("bounce"), {
    mandatory: true,
    persistent: true,
    ...publishProps,
  });
  ch.publish("", env.queue("absent"), Buffer.from("bounce-default"), { mandatory: true });
  await ch.checkExchange(x);
  // The return precedes the reply on the same channel.
  assert.equal(returned.length, 2);
  const [r, r2] = returned;
  assert.equal(r.content.toString(), "bounce");
  assert.equal(r.fields.replyCode, 312);
  assert.equal(r.fields.replyText, "NO_ROUTE");
  assert.equal(r.fields.exchange, x);
  assert.equal(r.fields.routingKey, "nobody");
  for (const [k, v] of Object.entries(properties)) {
    assert.deepEqual((r.properties as Record<string, unknown>)[k], v, `property ${k}`);
  }
  assert.equal(r2.content.toString(), "bounce-default");
  assert.equal(r2.fields.replyCode, 312);
  assert.equal(r2.fields.exchange, "");

  // A routable mandatory message is delivered, not returned.
  const q = env.queue();
  await ch.assertQueue(q, QUEUE);
  await ch.bindQueue(q, x, "somebody");
  ch.publish(x, "somebody", Buffer.from("ok"), { mandatory: true });
  assert.equal(await getText(ch, q), "ok");
  assert.equal(returned.length, 2);
  await ch.close();
});

amqpTest("publish: non-mandatory unroutable message is dropped silently", async (env) => {
  const c = await env.client();
  const ch = await c.channel();
  let closed = false;
  ch.on("close", () => closed = true);
  const returned: unknown[] = [];
  ch.on("return", (m) => returned.push(m));
  const x = env.exchange();
  await ch.assertExchange(x, "fanout", EXCHANGE);
  ch.publish(x, "k", Buffer.from("void"));
  ch.publish("", env.queue("absent"), Buffer.from("void"));
  await ch.checkExchange(x);
  assert.deepEqual(returned, []);
  assert.equal(closed, false);
  // The channel keeps working: a later bound queue gets only later messages.
  const q = env.queue();
  await ch.assertQueue(q, QUEUE);
  await ch.bindQueue(q, x, "");
  ch.publish(x, "k", Buffer.from("kept"));
  assert.deepEqual(await drain(ch, q), ["kept"]);
  await ch.close();
});

// ---------------------------------------------------------------------------------------------
// Channels

amqpTest("channels: a channel error closes only that channel", async (env) => {
  const c = await env.client();
  const good = await c.channel();
  const bad = await c.channel();
  let badClosed = false;
  let goodClosed = false;
  bad.on("close", () => badClosed = true);
  good.on("close", () => goodClosed = true);
  const q = env.queue();
  await good.assertQueue(q, QUEUE);

  const missing = env.queue("missing");
  await assert.rejects(bad.checkQueue(missing), (err: Error & { code?: number }) => {
    assert.equal(err.code, 404);
    assert.ok(err.message.includes(noQueue(missing)), err.message);
    return true;
  });
  assert.equal(badClosed, true);
  assert.throws(() => bad.sendToQueue(q, Buffer.from("after close")), /Channel closed/);

  assert.equal(goodClosed, false);
  assert.equal(c.closed, false);
  good.sendToQueue(q, Buffer.from("still fine"));
  assert.equal(await getText(good, q), "still fine");
  // A new channel works too.
  const fresh = await c.channel();
  assert.deepEqual(await fresh.checkQueue(q), { queue: q, messageCount: 0, consumerCount: 0 });
  await fresh.close();
  await good.close();
});

amqpTest("channels: 50 channels on one connection work independently", async (env) => {
  const c = await env.client();
  const n = 50;
  const channels = await Promise.all(Array.from({ length: n }, () => c.channel()));
  const names = channels.map(() => env.queue("multi"));
  await Promise.all(channels.map((ch, i) => ch.assertQueue(names[i], QUEUE)));
  for (let i = 0; i < n; i++) channels[i].sendToQueue(names[i], Buffer.from(`m${i}`));
  const got = await Promise.all(channels.map((ch, i) => getText(ch, names[i])));
  assert.deepEqual(got, names.map((_, i) => `m${i}`));

  // An error on every third channel leaves the others untouched.
  const outcomes = await Promise.all(channels.map(async (ch, i) => {
    if (i % 3 !== 0) return (await ch.checkQueue(names[i])).queue;
    try {
      await ch.checkQueue(`${names[i]}-missing`);
      return "unexpected success";
    } catch (err) {
      return (err as { code?: number }).code;
    }
  }));
  assert.deepEqual(outcomes, names.map((name, i) => i % 3 === 0 ? 404 : name));
  await Promise.all(channels.filter((_, i) => i % 3 !== 0).map((ch) => ch.close()));
  assert.equal(c.closed, false);
});
