/**
 * Resource alarms with amqplib (which announces the connection.blocked capability): a connection
 * that publishes during a memory alarm gets connection.blocked "low on memory" and is no longer
 * read from, while a consumer on another connection keeps draining; when the alarm clears it gets
 * connection.unblocked and its held publishes go through. The alarm shows in the management API's
 * health checks (503 with RabbitMQ's body) and nodes, and in `broker status`.
 *
 * The alarm is raised with a tiny watermark (`memoryHighWatermark: { absolute: 1 }`) and cleared
 * through the server's monitor (`server.alarms.setMemoryHighWatermark`), so these tests need our
 * broker in-process and do not run against TEST_AMQP_URL.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import type { AmqpChannel, AmqpConnection, AmqpMessage } from "../helpers/amqp_client.ts";
import { delay, uniqueName, within } from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import { startInProcess } from "../helpers/http.ts";
import { AlarmMonitor } from "../../src/server/alarms.ts";

const EXTERNAL = Deno.env.get("TEST_AMQP_URL") !== undefined;
const TINY = { absolute: 1 };
const HUGE = { absolute: Number.MAX_SAFE_INTEGER };
const text = (m: AmqpMessage) => new TextDecoder().decode(m.content);

function alarmTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `alarms: ${name}`, ignore: EXTERNAL, fn });
}

/** Resolves with the argument of the next `event` the connection emits, bounded. */
function next<T>(conn: AmqpConnection, event: string, ms = 5000): Promise<T> {
  return within(new Promise<T>((resolve) => conn.on(event, (x: never) => resolve(x))), ms, event);
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

alarmTest(
  "a publisher is blocked while a consumer drains; unblocked, held publishes go through",
  async () => {
    const broker = await startBroker({ memoryHighWatermark: TINY, logLevel: "error" });
    const conns: AmqpConnection[] = [];
    try {
      const alarms = broker.server.alarms;
      assert.deepEqual(alarms.alarms, ["memory"]);
      const q = uniqueName("alarm");

      // Fill the queue while the alarm is off.
      alarms.setMemoryHighWatermark(HUGE);
      assert.deepEqual(alarms.alarms, []);
      const filler: AmqpConnection = await amqp.connect(broker.url);
      conns.push(filler);
      const fch: AmqpChannel = await filler.createConfirmChannel();
      await fch.assertQueue(q);
      for (let i = 1; i <= 5; i++) fch.sendToQueue(q, Buffer.from(`before-${i}`));
      await fch.waitForConfirms();

      alarms.setMemoryHighWatermark(TINY);
      assert.deepEqual(alarms.alarms, ["memory"]);

      // The publisher: blocked at its first publish, nothing it sends is taken in.
      const publisher: AmqpConnection = await amqp.connect(broker.url);
      conns.push(publisher);
      const pch: AmqpChannel = await publisher.createConfirmChannel();
      const blocked = next<string>(publisher, "blocked");
      const confirmed: string[] = [];
      for (const b of ["held-1", "held-2"]) {
        pch.sendToQueue(q, Buffer.from(b), {}, (err) => {
          if (!err) confirmed.push(b);
        });
      }
      assert.equal(await blocked, "low on memory");

      // A consumer on another connection still drains the queue, and its acks are read.
      const consumer: AmqpConnection = await amqp.connect(broker.url);
      conns.push(consumer);
      const cch: AmqpChannel = await consumer.createChannel();
      const got: string[] = [];
      await cch.consume(q, (m) => {
        if (!m) return;
        got.push(text(m));
        cch.ack(m);
      });
      await until(() => got.length >= 5, "the queued messages");
      await delay(300);
      assert.deepEqual(got, [1, 2, 3, 4, 5].map((i) => `before-${i}`));
      assert.deepEqual(confirmed, []);
      const ok = await cch.checkQueue(q);
      assert.equal(ok.messageCount, 0);

      // The alarm clears: connection.unblocked, then the held publishes are routed and confirmed.
      const unblocked = next<void>(publisher, "unblocked");
      alarms.setMemoryHighWatermark(HUGE);
      await unblocked;
      await within(pch.waitForConfirms(), 5000, "confirms of the held publishes");
      assert.deepEqual(confirmed, ["held-1", "held-2"]);
      await until(() => got.length >= 7, "the held publishes");
      assert.deepEqual(got.slice(5), ["held-1", "held-2"]);

      // Not blocked any more: a new publish goes straight through.
      pch.sendToQueue(q, Buffer.from("after"));
      await pch.waitForConfirms();
      await until(() => got.length >= 8, "the publish after the alarm");
      await cch.deleteQueue(q);
    } finally {
      for (const c of conns) await c.close().catch(() => {});
      await broker.close();
    }
  },
);

alarmTest("a connection that does not publish is neither blocked nor told", async () => {
  const broker = await startBroker({ memoryHighWatermark: TINY, logLevel: "error" });
  const conn: AmqpConnection = await amqp.connect(broker.url);
  try {
    let events = 0;
    conn.on("blocked", () => events++);
    const ch: AmqpChannel = await conn.createChannel();
    const q = uniqueName("alarm-idle");
    await ch.assertQueue(q);
    assert.equal(await ch.get(q), false);
    await ch.deleteQueue(q);
    assert.equal(events, 0);
  } finally {
    await conn.close();
    await broker.close();
  }
});

alarmTest("health checks, nodes and status show the alarm as RabbitMQ does", async () => {
  const broker = await startInProcess({ memoryHighWatermark: TINY, logLevel: "error" });
  const base = `http://127.0.0.1:${broker.server.adminPort}`;
  const headers = { authorization: `Basic ${btoa("guest:guest")}` };
  const get = async (path: string) => {
    const res = await fetch(base + path, { headers });
    return { status: res.status, body: await res.json() };
  };
  try {
    const node = broker.server.service.nodeName;
    assert.deepEqual(await get("/api/health/checks/alarms"), {
      status: 503,
      body: {
        status: "failed",
        reason: "There are alarms in effect in the cluster",
        alarms: [{ node, resource: "memory" }],
      },
    });
    assert.deepEqual(await get("/api/health/checks/local-alarms"), {
      status: 503,
      body: {
        status: "failed",
        reason: "There are alarms in effect on the node",
        alarms: [{ node, resource: "memory" }],
      },
    });
    const nodes = await get("/api/nodes");
    assert.equal(nodes.body[0].mem_alarm, true);
    assert.equal(nodes.body[0].disk_free_alarm, false);
    assert.deepEqual(broker.server.service.status().alarms, ["memory"]);

    broker.server.alarms.setMemoryHighWatermark(HUGE);
    assert.deepEqual(await get("/api/health/checks/alarms"), {
      status: 200,
      body: { status: "ok" },
    });
    assert.deepEqual(await get("/api/health/checks/local-alarms"), {
      status: 200,
      body: { status: "ok" },
    });
    assert.equal((await get("/api/nodes")).body[0].mem_alarm, false);
    assert.deepEqual(broker.server.service.status().alarms, []);
  } finally {
    await broker.close();
  }
});

Deno.test("alarms: disk alarm below disk_free_limit, reasons worded as RabbitMQ's", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const monitor = new AlarmMonitor({
      memoryHighWatermark: HUGE,
      diskFreeLimit: { absolute: Number.MAX_SAFE_INTEGER },
      dataDir: dir,
    });
    monitor.check();
    assert.deepEqual(monitor.alarms, ["disk"]);
    assert.equal(monitor.reason, "low on disk");
    monitor.setMemoryHighWatermark(TINY);
    assert.deepEqual(monitor.alarms, ["memory", "disk"]);
    assert.equal(monitor.reason, "low on memory & low on disk");
    monitor.setDiskFreeLimit({ absolute: 0 });
    monitor.setMemoryHighWatermark({ relative: 1 });
    assert.deepEqual(monitor.alarms, []);
    assert.equal(monitor.blocked, false);

    // Without a data dir nothing is written to disk: no disk alarm.
    const inMemory = new AlarmMonitor({
      memoryHighWatermark: HUGE,
      diskFreeLimit: { absolute: Number.MAX_SAFE_INTEGER },
      dataDir: undefined,
    });
    inMemory.check();
    assert.deepEqual(inMemory.alarms, []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

alarmTest("a blocked publisher is still closed promptly when the broker shuts down", async () => {
  const broker = await startBroker({ memoryHighWatermark: TINY, logLevel: "error" });
  const conn: AmqpConnection = await amqp.connect(broker.url);
  conn.on("error", () => {});
  const closed = next<unknown>(conn, "close");
  const ch: AmqpChannel = await conn.createChannel();
  ch.on("error", () => {});
  const blocked = next<string>(conn, "blocked");
  ch.sendToQueue("nowhere", Buffer.from("x"));
  assert.equal(await blocked, "low on memory");
  const started = Date.now();
  await broker.close();
  await closed;
  assert.ok(Date.now() - started < 2500, `shutdown took ${Date.now() - started} ms`);
});
