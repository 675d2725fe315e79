/**
 * Durability, end to end, against the broker running as a child process (see
 * ../helpers/child_broker.ts) that the tests kill for real: SIGKILL mid-stream, SIGTERM/SIGINT
 * shutdown, restarts on the same data dir, and store files damaged before start.
 *
 * What is checked: confirmed (and tx-committed) persistent messages survive a kill -9, in order,
 * without duplicates; delivered-but-unacked ones come back redelivered; durable exchanges,
 * queues and bindings (with their arguments) survive, non-durable and exclusive ones and
 * transient messages do not; declare-ok means on disk; acked messages give their disk space
 * back; SIGTERM closes clients with 320 and exits 0; a torn or corrupt store file never stops
 * the broker from starting.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AMQPClient } from "@cloudamqp/amqp-client";
import {
  type AmqpChannel,
  type AmqpMessage,
  attempt,
  type Client,
  connect,
  delay,
  guard,
  uniqueName,
  within,
} from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import {
  type ChildBroker,
  segmentFiles,
  startChildBroker,
  withDataDir,
} from "../helpers/child_broker.ts";

// ---------------------------------------------------------------------------------------------
// Harness

interface Ctx {
  dataDir: string;
  /** Starts a broker on this test's data dir; it is SIGKILLed at the end if still running. */
  start(): Promise<ChildBroker>;
  /** An amqplib connection, closed at the end. */
  connect(broker: ChildBroker): Promise<Client>;
  /** A @cloudamqp/amqp-client connection, closed at the end. */
  cloud(broker: ChildBroker): Promise<AMQPClient>;
}

/** No test here takes more than a few seconds; a stuck one fails with the brokers' logs. */
const TEST_DEADLINE_MS = 30_000;

function durabilityTest(name: string, fn: (t: Ctx) => Promise<void>): void {
  Deno.test({
    name,
    // amqplib keeps sockets and timers that outlive individual operations.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await withDataDir(async (dataDir) => {
        const brokers: ChildBroker[] = [];
        const clients: Client[] = [];
        const clouds: AMQPClient[] = [];
        const ctx: Ctx = {
          dataDir,
          async start() {
            const b = await startChildBroker({ dataDir });
            brokers.push(b);
            return b;
          },
          async connect(broker) {
            const c = await within(connect(broker.url), 5000, "connect");
            clients.push(c);
            return c;
          },
          async cloud(broker) {
            const c = new AMQPClient(broker.url);
            c.onerror = () => {};
            await within(c.connect(), 5000, "cloudamqp connect");
            clouds.push(c);
            return c;
          },
        };
        try {
          await within(fn(ctx), TEST_DEADLINE_MS, "the whole test");
        } catch (err) {
          // The brokers' logs explain most failures.
          for (const b of brokers) {
            console.error(`--- broker log (port ${b.port}) ---\n${b.output}`);
          }
          throw err;
        } finally {
          // amqplib's close() never settles if the socket dies while it waits for close-ok.
          for (const c of clients) await within(c.close(), 2000, "close").catch(() => {});
          for (const c of clouds) {
            if (!c.closed) await within(c.close(), 2000, "close").catch(() => {});
          }
          for (const b of brokers) await b.stop();
        }
      });
    },
  });
}

const bytes = (s: string) => Buffer.from(s, "utf8");
const text = (m: AmqpMessage) => m.content.toString("utf8");

/** Publishes persistent messages on a confirm channel and waits for every confirm. */
async function publishConfirmed(
  ch: AmqpChannel,
  queue: string,
  bodies: string[],
  options: { persistent?: boolean } = { persistent: true },
): Promise<void> {
  for (const b of bodies) ch.sendToQueue(queue, bytes(b), options);
  await within(ch.waitForConfirms(), 10_000, "confirms");
}

/** Takes everything from a queue with no-ack gets: [body, redelivered] in order. */
async function drain(ch: AmqpChannel, queue: string): Promise<[string, boolean][]> {
  const out: [string, boolean][] = [];
  for (;;) {
    const m = await within(ch.get(queue, { noAck: true }), 5000, "basic.get");
    if (m === false) return out;
    out.push([text(m), m.fields.redelivered]);
  }
}

/**
 * Consumes until `count` messages arrived (acking each unless `noAck`); returns them in arrival
 * order. Faster than gets for thousands of messages.
 */
async function consumeAll(
  ch: AmqpChannel,
  queue: string,
  count: number,
  noAck: boolean,
): Promise<AmqpMessage[]> {
  const got: AmqpMessage[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => done = r);
  if (count === 0) done();
  if (!noAck) await ch.prefetch(1000);
  await ch.consume(queue, (m) => {
    if (!m) return;
    got.push(m);
    if (!noAck) ch.ack(m);
    if (got.length === count) done();
  }, { noAck });
  await within(finished, 15_000, `${count} deliveries`).catch((err) => {
    throw new Error(`${(err as Error).message}; got ${got.length}`);
  });
  return got;
}

/** `p`, unless the broker process exits first (then a rejection saying how it ended). */
function whileAlive<T>(broker: ChildBroker, p: Promise<T>): Promise<T> {
  const died = broker.exited.then((s): never => {
    throw new Error(`the broker exited first: ${JSON.stringify(s)} (its log follows)`);
  });
  died.catch(() => {});
  return Promise.race([p, died]);
}

/** The reply code (and text) an operation fails with on a fresh channel, or null. */
async function failure(client: Client, op: (ch: AmqpChannel) => Promise<unknown>) {
  const f = await attempt(client, op);
  return f && { code: f.code, text: f.text };
}

/** Waits until `cond` holds, polling every 20 ms; throws with `what` after `ms`. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await delay(20);
  }
}

/** The `message store recovered` line of a broker's log, as numbers. */
async function recoveryLine(b: ChildBroker): Promise<Record<string, number>> {
  const [line] = await b.waitForLog(/\[info\] message store recovered .*/);
  const fields: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) fields[m[1]] = Number(m[2]);
  return fields;
}

// ---------------------------------------------------------------------------------------------
// kill -9 while publishing and consuming

durabilityTest("kill -9 mid-stream: every confirmed message is back once, in order", async (t) => {
  const q = uniqueName("dur-stream");
  const b1 = await t.start();
  const c1 = await t.connect(b1);
  const ch = guard(await c1.raw.createConfirmChannel());
  await ch.assertQueue(q, { durable: true });

  const pad = "x".repeat(200);
  const confirmed = new Set<number>();
  let sent = 0;
  let nacked = 0;
  let settled = 0;
  let stop = false;
  const pump = (async () => {
    while (!stop && !c1.closed) {
      // At most 2000 unconfirmed at a time, at most ~20 k/s (bounds the consuming afterwards),
      // and respect the socket's backpressure.
      if (sent - settled > 2000) {
        await delay(1);
        continue;
      }
      const id = sent;
      let ok: boolean;
      try {
        ok = ch.sendToQueue(q, bytes(`${String(id).padStart(8, "0")}:${pad}`), {
          persistent: true,
        }, (err) => {
          settled++;
          if (err) nacked++;
          else confirmed.add(id);
        });
      } catch {
        break; // the channel is gone
      }
      sent++;
      if (!ok) {
        await Promise.race([new Promise((r) => ch.once("drain", r)), c1.waitClosed(2000)]);
      } else if (sent % 100 === 0) await delay(5);
    }
  })();

  await delay(1500);
  const confirmedBeforeKill = confirmed.size;
  const nackedBeforeKill = nacked; // (amqplib fails the unconfirmed ones once the socket dies)
  b1.kill("SIGKILL");
  const status = await b1.waitExit();
  assert.equal(status.signal, "SIGKILL");
  assert.ok(await c1.waitClosed(5000), "the client noticed the broker died");
  stop = true;
  await pump;
  assert.ok(confirmedBeforeKill > 100, `only ${confirmedBeforeKill} confirms in 1.5 s`);
  assert.equal(nackedBeforeKill, 0, "no publish was nacked");

  const b2 = await t.start();
  const c2 = await t.connect(b2);
  const reader = await c2.channel();
  const { messageCount } = await reader.checkQueue(q);
  const got = await whileAlive(b2, consumeAll(reader, q, messageCount, false));
  const ids = got.map((m) => Number(text(m).slice(0, 8)));
  console.log(
    `  sent ${sent}, confirmed ${confirmed.size}, recovered ${ids.length} after kill -9`,
  );
  for (let i = 1; i < ids.length; i++) {
    assert.ok(ids[i] > ids[i - 1], `ascending without duplicates: ${ids[i - 1]} then ${ids[i]}`);
  }
  const present = new Set(ids);
  const lost = [...confirmed].filter((id) => !present.has(id));
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} confirmed messages lost`);
  assert.ok(ids.every((id) => id < sent), "nothing that was never sent");
  assert.ok(got.every((m) => !m.fields.redelivered), "never delivered, so not redelivered");
  assert.ok(got.every((m) => m.properties.deliveryMode === 2), "still persistent");
});

durabilityTest(
  "after a restart, no-ack consuming across segment boundaries delivers everything",
  async (t) => {
    // Recovered messages' bodies stay on disk until delivered. With no-ack, the delivery settles
    // the message, which may empty (and delete) its segment before the body has been read from it.
    const q = uniqueName("dur-noack");
    const count = 300; // × 64 KiB: two 16 MiB segments
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const pub = guard(await c1.raw.createConfirmChannel());
    await pub.assertQueue(q, { durable: true });
    const payload = (i: number) => Buffer.alloc(64 * 1024, i % 256);
    for (let i = 0; i < count; i++) {
      const ok = pub.sendToQueue(q, payload(i), { persistent: true, messageId: String(i) });
      if (!ok) await new Promise((r) => pub.once("drain", r));
    }
    await within(pub.waitForConfirms(), 20_000, "confirms");
    assert.ok(segmentFiles(t.dataDir).length >= 2, "the messages span segments");
    b1.kill("SIGTERM");
    assert.equal((await b1.waitExit()).code, 0);

    const b2 = await t.start();
    const c2 = await t.connect(b2);
    const got = await whileAlive(b2, consumeAll(await c2.channel(), q, count, true));
    assert.deepEqual(got.map((m) => m.properties.messageId), [...Array(count).keys()].map(String));
    assert.ok(got.every((m, i) => m.content.equals(payload(i))), "bodies intact");
    assert.equal(b2.status, undefined, "the broker is still running");
  },
);

durabilityTest(
  "kill -9: delivered-but-unacked messages come back redelivered, in order",
  async (t) => {
    const q = uniqueName("dur-redeliver");
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const pub = guard(await c1.raw.createConfirmChannel());
    await pub.assertQueue(q, { durable: true });
    const bodies = Array.from({ length: 20 }, (_, i) => `m${String(i).padStart(2, "0")}`);
    await publishConfirmed(pub, q, bodies);

    const consumer = await c1.channel();
    await consumer.prefetch(5);
    const delivered: string[] = [];
    await consumer.consume(q, (m) => m && delivered.push(text(m)), { noAck: false });
    await until(() => delivered.length === 5, 5000, "5 deliveries");
    // A confirmed persistent publish: its fsync covers the delivery records written before it.
    await pub.assertQueue(`${q}-sync`, { durable: true });
    await publishConfirmed(pub, `${q}-sync`, ["sync"]);
    assert.deepEqual(delivered, bodies.slice(0, 5), "no deliveries beyond the prefetch window");
    b1.kill("SIGKILL");
    await b1.waitExit();

    const b2 = await t.start();
    const c2 = await t.connect(b2);
    const expected = bodies.map((b, i): [string, boolean] => [b, i < 5]);
    assert.deepEqual(await drain(await c2.channel(), q), expected);
  },
);

durabilityTest(
  "acks, rejects, nacks, purges and deletes are remembered across kill -9",
  async (t) => {
    const n = (tag: string) => uniqueName(`dur-settle-${tag}`);
    const [qa, qPurge, qDel, qD, qE, qSync] = ["a", "purge", "del", "d", "e", "sync"].map(n);
    const fan = n("fan");
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const ch = guard(await c1.raw.createConfirmChannel());
    for (const q of [qa, qPurge, qDel, qD, qE, qSync]) await ch.assertQueue(q, { durable: true });
    await ch.assertExchange(fan, "fanout", { durable: true });
    await ch.bindQueue(qD, fan, "");
    await ch.bindQueue(qE, fan, "");
    await publishConfirmed(ch, qa, ["a0", "a1", "a2", "a3", "a4", "a5", "a6"]);
    await publishConfirmed(ch, qPurge, ["p0", "p1", "p2"]);
    await publishConfirmed(ch, qDel, ["x0", "x1", "x2"]);
    for (const b of ["f0", "f1"]) ch.publish(fan, "", bytes(b), { persistent: true });
    await within(ch.waitForConfirms(), 5000, "confirms");

    const get = async (q: string) => {
      const m = await ch.get(q, { noAck: false });
      assert.ok(m, `a message in ${q}`);
      return m;
    };
    ch.ack(await get(qa)); // a0
    ch.reject(await get(qa), false); // a1
    ch.nack(await get(qa), false, false); // a2
    ch.reject(await get(qa), true); // a3: back at the head, redelivered
    assert.equal(text((await ch.get(qa, { noAck: true })) as AmqpMessage), "a3"); // no-ack get
    const a4 = await get(qa); // delivered, left unacked
    assert.equal(text(a4), "a4");
    assert.equal((await ch.purgeQueue(qPurge)).messageCount, 3);
    assert.equal((await ch.deleteQueue(qDel)).messageCount, 3);
    await ch.assertQueue(qDel, { durable: true }); // the same name again, a new queue
    for (const m of [await get(qD), await get(qD)]) ch.ack(m); // acked in one of two queues
    assert.equal((await ch.checkQueue(qa)).messageCount, 2); // a round trip after the acks
    // Acks are not confirmed to anyone, so a crash right after one may bring its message back
    // (at least once). A confirmed persistent publish after them waits for an fsync that also
    // covers every settlement recorded before it (group commit).
    await publishConfirmed(ch, qSync, ["sync"]);
    b1.kill("SIGKILL");
    await b1.waitExit();

    const b2 = await t.start();
    const c2 = await t.connect(b2);
    const reader = await c2.channel();
    assert.deepEqual(await drain(reader, qa), [["a4", true], ["a5", false], ["a6", false]]);
    assert.deepEqual(await drain(reader, qPurge), []);
    assert.deepEqual(await drain(reader, qDel), []);
    assert.deepEqual(await drain(reader, qD), []);
    assert.deepEqual(await drain(reader, qE), [["f0", false], ["f1", false]]);
  },
);

// ---------------------------------------------------------------------------------------------
// Entities

for (const signal of ["SIGTERM", "SIGKILL"] as const) {
  durabilityTest(
    `${signal}: durable entities with their arguments survive, others and transient messages do not`,
    async (t) => {
      const n = (tag: string) => uniqueName(`dur-${tag}`);
      const [xDirect, xHeaders, xFanout, xTemp, ae] = ["xd", "xh", "xf", "xt", "ae"].map(n);
      const [q1, q2, qLast, qTemp, qExcl] = ["q1", "q2", "qlast", "qt", "qx"].map(n);
      const maxLen = { "!": "long", value: 3 }; // a typed value: must come back as a long
      const q1Args = { "x-max-length": maxLen, "x-custom": "hello" };
      const headerArgs = { "x-match": "all", color: "red", shape: "round" };

      const b1 = await t.start();
      const c1 = await t.connect(b1);
      const ch = guard(await c1.raw.createConfirmChannel());
      await ch.assertExchange(ae, "fanout", { durable: true });
      await ch.assertExchange(xDirect, "direct", {
        durable: true,
        arguments: { "alternate-exchange": ae },
      });
      await ch.assertExchange(xHeaders, "headers", { durable: true });
      await ch.assertExchange(xFanout, "fanout", { durable: true });
      await ch.assertExchange(xTemp, "direct", { durable: false });
      await ch.assertQueue(q1, { durable: true, arguments: q1Args });
      await ch.assertQueue(q2, { durable: true });
      await ch.assertQueue(qTemp, { durable: false });
      await ch.assertQueue(qExcl, { durable: true, exclusive: true });
      await ch.bindQueue(q1, xDirect, "rk1");
      await ch.bindQueue(q2, xHeaders, "", headerArgs);
      await ch.bindExchange(xDirect, xFanout, ""); // exchange to exchange
      await ch.bindQueue(q1, xTemp, "temp"); // gone with the non-durable exchange
      await ch.bindQueue(qTemp, xDirect, "rk1"); // gone with the non-durable queue
      ch.publish(xDirect, "rk1", bytes("p1"), { persistent: true });
      ch.publish(xDirect, "rk1", bytes("t1"), { persistent: false });
      ch.publish(xDirect, "rk1", bytes("p2"), { persistent: true });
      await within(ch.waitForConfirms(), 5000, "confirms");
      // The last thing before the signal: a declare and a bind, answered, so on disk.
      await ch.assertQueue(qLast, { durable: true });
      await ch.bindQueue(qLast, xDirect, "last");
      b1.kill(signal);
      const status = await b1.waitExit();
      if (signal === "SIGTERM") assert.equal(status.code, 0);

      const b2 = await t.start();
      const c2 = await t.connect(b2);
      for (const x of [ae, xDirect, xHeaders, xFanout]) {
        assert.equal(await failure(c2, (c) => c.checkExchange(x)), null, `exchange ${x}`);
      }
      for (const q of [q1, q2, qLast]) {
        assert.equal(await failure(c2, (c) => c.checkQueue(q)), null, `queue ${q}`);
      }
      assert.equal((await failure(c2, (c) => c.checkExchange(xTemp)))?.code, 404, "non-durable x");
      assert.equal((await failure(c2, (c) => c.checkQueue(qTemp)))?.code, 404, "non-durable q");
      assert.equal((await failure(c2, (c) => c.checkQueue(qExcl)))?.code, 404, "exclusive q");

      // Arguments: the same ones are equivalent, missing ones are not (and name the stored type).
      assert.equal(
        await failure(c2, (c) => c.assertQueue(q1, { durable: true, arguments: q1Args })),
        null,
      );
      const inequivalent = await failure(c2, (c) => c.assertQueue(q1, { durable: true }));
      assert.equal(inequivalent?.code, 406);
      assert.match(
        inequivalent!.text,
        /inequivalent arg 'x-max-length'.*received none but current is the value '3' of type 'long'/,
      );
      assert.equal(
        await failure(c2, (c) =>
          c.assertExchange(xDirect, "direct", {
            durable: true,
            arguments: { "alternate-exchange": ae },
          })),
        null,
      );
      assert.equal(
        (await failure(c2, (c) => c.assertExchange(xDirect, "direct", { durable: true })))?.code,
        406,
        "alternate-exchange was stored",
      );

      // Messages: the persistent ones, in order; the transient one is gone.
      const ch2 = guard(await c2.raw.createConfirmChannel());
      assert.deepEqual(await drain(ch2, q1), [["p1", false], ["p2", false]]);
      assert.deepEqual(await drain(ch2, qLast), []);

      // Routing through the restored bindings.
      ch2.publish(xDirect, "rk1", bytes("d"));
      ch2.publish(xFanout, "rk1", bytes("f")); // fanout → direct → q1
      ch2.publish(xTemp, "temp", bytes("gone")); // the exchange is gone: closes the channel
      await within(ch2.waitForConfirms(), 5000, "confirms").catch(() => {});
      const ch3 = guard(await c2.raw.createConfirmChannel());
      ch3.publish(xDirect, "last", bytes("l"));
      ch3.publish(xHeaders, "", bytes("h-match"), { headers: { color: "red", shape: "round" } });
      ch3.publish(xHeaders, "", bytes("h-part"), { headers: { color: "red" } });
      ch3.publish(xHeaders, "", bytes("h-blue"), { headers: { color: "blue", shape: "round" } });
      await within(ch3.waitForConfirms(), 5000, "confirms");
      assert.deepEqual(await drain(ch3, q1), [["d", false], ["f", false]]);
      assert.deepEqual(await drain(ch3, qLast), [["l", false]]);
      assert.deepEqual(await drain(ch3, q2), [["h-match", false]], "binding arguments kept");

      // Unbinding with the same arguments finds the restored binding (and that sticks).
      await ch3.unbindQueue(q2, xHeaders, "", headerArgs);
      b2.kill("SIGTERM");
      await b2.waitExit();
      const b3 = await t.start();
      const c3 = await t.connect(b3);
      const ch4 = guard(await c3.raw.createConfirmChannel());
      ch4.publish(xHeaders, "", bytes("h-match"), { headers: { color: "red", shape: "round" } });
      await within(ch4.waitForConfirms(), 5000, "confirms");
      assert.deepEqual(await drain(ch4, q2), []);
    },
  );
}

durabilityTest(
  "kill -9 right after declare-ok: the queue, exchange and binding exist",
  async (t) => {
    const q = uniqueName("dur-declared");
    const x = uniqueName("dur-declared-x");
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const ch = await c1.channel();
    await ch.assertExchange(x, "topic", { durable: true });
    await ch.assertQueue(q, { durable: true, arguments: { "x-message-ttl": 60_000 } });
    await ch.bindQueue(q, x, "a.#");
    b1.kill("SIGKILL");
    await b1.waitExit();

    const b2 = await t.start();
    const c2 = await t.connect(b2);
    assert.equal(
      await failure(
        c2,
        (c) => c.assertQueue(q, { durable: true, arguments: { "x-message-ttl": 60_000 } }),
      ),
      null,
    );
    const ch2 = guard(await c2.raw.createConfirmChannel());
    ch2.publish(x, "a.b.c", bytes("routed"));
    await within(ch2.waitForConfirms(), 5000, "confirms");
    assert.deepEqual(await drain(ch2, q), [["routed", false]]);
  },
);

// ---------------------------------------------------------------------------------------------
// Transactions

durabilityTest(
  "tx.commit-ok means on disk: committed persistent messages survive kill -9",
  async (t) => {
    const q = uniqueName("dur-tx");
    const b1 = await t.start();
    const client = await t.cloud(b1);
    const ch = await client.channel();
    await ch.queueDeclare(q, { durable: true });
    await ch.txSelect();
    for (let i = 0; i < 5; i++) await ch.basicPublish("", q, `tx${i}`, { deliveryMode: 2 });
    await within(ch.txCommit(), 5000, "tx.commit-ok");
    await ch.basicPublish("", q, "uncommitted", { deliveryMode: 2 });
    await ch.basicQos(0); // a round trip: the uncommitted publish reached the broker
    b1.kill("SIGKILL");
    await b1.waitExit();

    const b2 = await t.start();
    const c2 = await t.connect(b2);
    assert.deepEqual(
      await drain(await c2.channel(), q),
      ["tx0", "tx1", "tx2", "tx3", "tx4"].map((b) => [b, false]),
    );
  },
);

// ---------------------------------------------------------------------------------------------
// Confirms and commit-ok wait for the fsync (in-process broker, its store's sync held back)

Deno.test({
  name: "confirms and tx.commit-ok of persistent messages wait for the store's fsync",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (dataDir) => {
      const broker = await startBroker({ dataDir });
      const clients: Client[] = [];
      const cloud = new AMQPClient(broker.url);
      cloud.onerror = () => {};
      try {
        // Every sync() the channel waits on resolves only once the gate opens after the fsync.
        const store = broker.server.messages!;
        const sync = store.sync.bind(store);
        let open!: () => void;
        let gate = Promise.resolve();
        const close = () => gate = new Promise<void>((r) => open = r);
        const gated = new Map<Promise<void>, Promise<void>>();
        store.sync = () => {
          const fsynced = sync();
          let p = gated.get(fsynced);
          if (!p) gated.set(fsynced, p = fsynced.then(() => gate));
          return p;
        };

        const q = uniqueName("dur-gate");
        const qTemp = uniqueName("dur-gate-temp");
        const c = await within(connect(broker.url), 5000, "connect");
        clients.push(c);
        const ch = guard(await c.raw.createConfirmChannel());
        await ch.assertQueue(q, { durable: true });
        await ch.assertQueue(qTemp, { durable: false });
        close();
        let confirmed = false;
        ch.sendToQueue(q, bytes("persistent"), { persistent: true }, (err) => {
          confirmed = !err;
        });
        // Not stored (transient, or a non-durable queue): confirmed without waiting, on another
        // channel (confirms on one channel are in order).
        const other = guard(await c.raw.createConfirmChannel());
        other.sendToQueue(q, bytes("transient"), { persistent: false });
        other.sendToQueue(qTemp, bytes("to a non-durable queue"), { persistent: true });
        await within(other.waitForConfirms(), 2000, "confirms of messages not stored");
        await delay(200);
        assert.equal(confirmed, false, "confirmed before its fsync");
        open();
        await until(() => confirmed, 2000, "confirm after the fsync");

        await within(cloud.connect(), 5000, "cloudamqp connect");
        const tx = await cloud.channel();
        await tx.txSelect();
        await tx.basicPublish("", q, "in a transaction", { deliveryMode: 2 });
        close();
        let committed = false;
        const commit = tx.txCommit().then(() => committed = true);
        await delay(200);
        assert.equal(committed, false, "tx.commit-ok before the fsync");
        open();
        await within(commit, 2000, "tx.commit-ok after the fsync");
        // A commit with nothing persistent in it does not wait.
        close();
        await tx.basicPublish("", q, "transient in a transaction", { deliveryMode: 1 });
        await within(tx.txCommit(), 2000, "tx.commit-ok without persistent messages");
        open();
      } finally {
        for (const c of clients) await c.close();
        if (!cloud.closed) await cloud.close().catch(() => {});
        await broker.close();
      }
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Disk space

durabilityTest(
  "acking everything gives the disk space back (≈50 MB through one queue)",
  async (t) => {
    const q = uniqueName("dur-reclaim");
    const count = 800;
    const size = 64 * 1024;
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const pub = guard(await c1.raw.createConfirmChannel());
    await pub.assertQueue(q, { durable: true });
    const started = Date.now();
    const payload = Buffer.alloc(size, 0x61);
    for (let i = 0; i < count; i++) {
      const ok = pub.sendToQueue(q, payload, { persistent: true, messageId: String(i) });
      if (!ok) await new Promise((r) => pub.once("drain", r));
    }
    await within(pub.waitForConfirms(), 20_000, "confirms");
    const published = Date.now();
    const before = segmentFiles(t.dataDir);
    const bytesBefore = before.reduce((n, f) => n + f.size, 0);
    assert.ok(bytesBefore >= count * size, `only ${bytesBefore} bytes on disk`);

    const consumer = await c1.channel();
    await consumer.prefetch(100);
    let acked = 0;
    await consumer.consume(q, (m) => {
      if (!m) return;
      consumer.ack(m);
      acked++;
    }, { noAck: false });
    await until(() => acked === count, 20_000, `${count} acks (have ${acked})`);
    // Acks are one-way: a round trip on the consumer's channel makes sure they were processed.
    assert.equal((await consumer.checkQueue(q)).messageCount, 0);
    await until(() => segmentFiles(t.dataDir).length <= 1, 5000, "old segments deleted");
    const after = segmentFiles(t.dataDir);
    const bytesAfter = after.reduce((n, f) => n + f.size, 0);
    await delay(300);
    const later = segmentFiles(t.dataDir).reduce((n, f) => n + f.size, 0);
    console.log(
      `  ${before.length} segments / ${bytesBefore} bytes → ${after.length} / ${bytesAfter}; ` +
        `publish ${published - started} ms, consume ${Date.now() - published} ms`,
    );
    assert.ok(after.length <= 1, `segments left: ${JSON.stringify(after)}`);
    assert.ok(bytesAfter <= 17 * 1024 * 1024, `${bytesAfter} bytes left`);
    assert.equal(later, bytesAfter, "an idle, empty queue's files do not grow");

    // And nothing comes back.
    b1.kill("SIGTERM");
    assert.equal((await b1.waitExit()).code, 0);
    const b2 = await t.start();
    const c2 = await t.connect(b2);
    assert.equal((await (await c2.channel()).checkQueue(q)).messageCount, 0);
  },
);

// ---------------------------------------------------------------------------------------------
// Graceful shutdown

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  durabilityTest(
    `${signal}: clients get 320, the broker exits 0, confirmed messages stay`,
    async (t) => {
      const q = uniqueName("dur-shutdown");
      const b1 = await t.start();
      const c1 = await t.connect(b1);
      const other = await t.cloud(b1);
      const ch = guard(await c1.raw.createConfirmChannel());
      await ch.assertQueue(q, { durable: true });
      const bodies = Array.from({ length: 50 }, (_, i) => `s${i}`);
      await publishConfirmed(ch, q, bodies);
      let cloudClosed: string | undefined;
      other.onerror = (e) => cloudClosed = e.message;

      const sent = Date.now();
      b1.kill(signal);
      assert.ok(await c1.waitClosed(5000), "amqplib connection closed");
      assert.equal(c1.closeError?.code, 320, String(c1.closeError));
      assert.match(String(c1.closeError?.message), /CONNECTION_FORCED/);
      const status = await b1.waitExit(5000);
      const took = Date.now() - sent;
      assert.equal(status.code, 0, `exit status ${JSON.stringify(status)}`);
      assert.ok(took < 3000, `exit took ${took} ms`);
      await until(() => cloudClosed !== undefined, 2000, "cloudamqp client told");
      assert.match(cloudClosed!, /320/);
      assert.match(b1.output, /shutting down/);

      const b2 = await t.start();
      const c2 = await t.connect(b2);
      assert.deepEqual(await drain(await c2.channel(), q), bodies.map((b) => [b, false]));
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Damaged store files

/** The first offset of `needle` in `hay`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

durabilityTest(
  "a torn tail and a corrupt record in the store: logged, skipped, served",
  async (t) => {
    const q = uniqueName("dur-damaged");
    const b1 = await t.start();
    const c1 = await t.connect(b1);
    const ch = guard(await c1.raw.createConfirmChannel());
    await ch.assertQueue(q, { durable: true });
    const bodies = ["first-body-aaaaaaaaaaaa", "second-body-bbbbbbbbbbb", "third-body-ccccccccccc"];
    await publishConfirmed(ch, q, bodies);
    b1.kill("SIGTERM");
    assert.equal((await b1.waitExit()).code, 0);

    // Damage the one segment: a flipped bit in the second body, and half a record at the end.
    const [segment] = segmentFiles(t.dataDir);
    const path = `${t.dataDir}/messages/${segment.name}`;
    const data = Deno.readFileSync(path);
    const at = indexOf(data, bytes(bodies[1]));
    assert.ok(at > 0, "the body is in the segment");
    data[at + 5] ^= 0x04;
    const torn = new Uint8Array(20);
    new DataView(torn.buffer).setUint32(0, 1000); // claims 1000 bytes, has 11
    Deno.writeFileSync(path, new Uint8Array([...data, ...torn]));

    const b2 = await t.start();
    await b2.waitForLog(/\[warn\] message store: truncating a torn tail .*bytes=20/);
    await b2.waitForLog(/\[warn\] message store: skipping a corrupt record/);
    const report = await recoveryLine(b2);
    assert.equal(report.corrupt_records, 1);
    assert.equal(report.truncated_bytes, 20);
    assert.equal(Deno.statSync(path).size, data.length, "truncated to the last good record");
    const c2 = await t.connect(b2);
    const ch2 = guard(await c2.raw.createConfirmChannel());
    assert.deepEqual(await drain(ch2, q), [[bodies[0], false], [bodies[2], false]]);
    // It serves: new persistent messages are stored after the truncation point and survive.
    await publishConfirmed(ch2, q, ["after-recovery"]);
    b2.kill("SIGKILL");
    await b2.waitExit();

    const b3 = await t.start();
    assert.equal((await recoveryLine(b3)).truncated_bytes, 0);
    const c3 = await t.connect(b3);
    assert.deepEqual(await drain(await c3.channel(), q), [["after-recovery", false]]);
  },
);

durabilityTest("a store file of garbage does not stop a fresh broker from starting", async (t) => {
  Deno.mkdirSync(`${t.dataDir}/messages`, { recursive: true });
  const junk = new Uint8Array(3000);
  let s = 12345;
  for (let i = 0; i < junk.length; i++) junk[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  Deno.writeFileSync(`${t.dataDir}/messages/0000000001.log`, junk);
  Deno.writeFileSync(`${t.dataDir}/messages/0000000002.log`, junk.slice(0, 7));

  const b1 = await t.start();
  const report = await recoveryLine(b1);
  assert.equal(report.messages, 0);
  assert.ok(report.corrupt_records + report.truncated_bytes > 0, JSON.stringify(report));
  const q = uniqueName("dur-junk");
  const c1 = await t.connect(b1);
  const ch = guard(await c1.raw.createConfirmChannel());
  await ch.assertQueue(q, { durable: true });
  await publishConfirmed(ch, q, ["works"]);
  b1.kill("SIGKILL");
  await b1.waitExit();
  const b2 = await t.start();
  const c2 = await t.connect(b2);
  assert.deepEqual(await drain(await c2.channel(), q), [["works", false]]);
});
