/**
 * The Prometheus endpoint (rabbitmq_prometheus' /metrics and /metrics/per-object): every scrape
 * goes through the strict text-format parser in ../helpers/prometheus.ts, and the values are
 * checked against what real amqplib clients did: queue depths per queue and summed, connection,
 * channel, queue and consumer counts, the global message counters (which keep counting after
 * channels and connections close), memory and alarms.
 *
 * These tests reach into the in-process server (its metrics port, its alarm monitor), so they do
 * not run against TEST_AMQP_URL. With TEST_PROMETHEUS_REF_URL (e.g.
 * http://127.0.0.1:15702/metrics, a RabbitMQ 3.10 with rabbitmq_prometheus) the last test parses
 * the reference's output too and checks that the families both have agree in type and labels.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import type { AmqpChannel, AmqpConnection, AmqpMessage } from "../helpers/amqp_client.ts";
import { delay, uniqueName } from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import type { TestBroker } from "../helpers/broker.ts";
import { parsePrometheus } from "../helpers/prometheus.ts";
import type { PrometheusText } from "../helpers/prometheus.ts";
import type { ServerOptions } from "../../src/server/server.ts";
import { loadFails, loadText } from "../config/helpers.ts";

const EXTERNAL = Deno.env.get("TEST_AMQP_URL") !== undefined;
const REFERENCE_URL = Deno.env.get("TEST_PROMETHEUS_REF_URL");
const CLASSIC = { protocol: "amqp091", queue_type: "rabbit_classic_queue" };
const PROTOCOL = { protocol: "amqp091" };

function metricsTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name: `prometheus: ${name}`, ignore: EXTERNAL, fn });
}

function startWithMetrics(
  options: Partial<ServerOptions> = {},
  perObject = false,
): Promise<TestBroker> {
  return startBroker({
    prometheus: { enabled: true, port: 0, ip: "127.0.0.1", perObject },
    ...options,
  });
}

function metricsUrl(broker: TestBroker, path = "/metrics"): string {
  return `http://127.0.0.1:${broker.server.metrics!.port}${path}`;
}

/** GETs and parses a metrics page, checking the status and content type on the way. */
async function scrape(url: string): Promise<PrometheusText> {
  const res = await fetch(url);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4");
  return parsePrometheus(body);
}

/** Scrapes until `check` passes (what a connection close does lands a moment after close-ok). */
async function eventually(url: string, check: (m: PrometheusText) => void): Promise<void> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const m = await scrape(url);
    try {
      return check(m);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(20);
    }
  }
}

metricsTest("an idle broker: declared families, memory, limits, identity", async () => {
  const broker = await startWithMetrics();
  try {
    const m = await scrape(metricsUrl(broker));
    for (const name of ["rabbitmq_connections", "rabbitmq_channels", "rabbitmq_consumers"]) {
      assert.equal(m.family(name).type, "gauge", name);
      assert.equal(m.value(name), 0, name);
    }
    assert.equal(m.value("rabbitmq_queues"), 0);
    assert.equal(m.value("rabbitmq_queue_messages_ready"), 0);
    assert.equal(m.value("rabbitmq_connections_opened_total"), 0);
    assert.equal(m.family("rabbitmq_connections_opened_total").type, "counter");
    assert.ok(m.value("rabbitmq_process_resident_memory_bytes") > 1_000_000);
    assert.ok(m.value("rabbitmq_resident_memory_limit_bytes") > 0);
    assert.equal(m.value("rabbitmq_alarms_memory_used_watermark"), 0);
    assert.equal(m.value("rabbitmq_alarms_free_disk_space_watermark"), 0);
    assert.equal(m.family("rabbitmq_alarms_memory_used_watermark").type, "untyped");
    assert.ok(m.value("rabbitmq_erlang_uptime_seconds") >= 0);
    const [identity] = m.samples("rabbitmq_identity_info");
    assert.equal(identity.value, 1);
    assert.match(identity.labels.rabbitmq_node, /^broker@/);
    assert.equal(identity.labels.rabbitmq_cluster, broker.server.options.clusterName);
    assert.equal(m.value("rabbitmq_global_messages_received_total", PROTOCOL), 0);
    assert.equal(
      m.family("rabbitmq_global_messages_delivered_total").help,
      "Total number of messages delivered to consumers",
    );
  } finally {
    await broker.close();
  }
});

metricsTest("queue depths, object counts and message totals follow the clients", async () => {
  const broker = await startWithMetrics();
  const conns: AmqpConnection[] = [];
  try {
    const q1 = uniqueName("metrics");
    // A name that needs escaping in a label value.
    const q2 = `${uniqueName('we"ird')}\\q`;
    const publisher: AmqpConnection = await amqp.connect(broker.url, {
      clientProperties: { connection_name: "metrics publisher" },
    });
    conns.push(publisher);
    const pch: AmqpChannel = await publisher.createConfirmChannel();
    await pch.assertQueue(q1, { durable: false });
    await pch.assertQueue(q2, { durable: false });
    for (let i = 0; i < 5; i++) pch.sendToQueue(q1, Buffer.from(`m${i}`));
    pch.sendToQueue(q2, Buffer.from("x"));
    // Unroutable: one returned (mandatory), one dropped.
    pch.publish("", uniqueName("nowhere"), Buffer.from("r"), { mandatory: true });
    pch.publish("", uniqueName("nowhere"), Buffer.from("d"));
    await pch.waitForConfirms();

    const consumer: AmqpConnection = await amqp.connect(broker.url);
    conns.push(consumer);
    const cch: AmqpChannel = await consumer.createChannel();
    const got: AmqpMessage[] = [];
    for (let i = 0; i < 2; i++) {
      const msg = await cch.get(q1);
      assert.ok(msg);
      got.push(msg);
    }
    cch.ack(got[0]);
    await cch.consume(q2, () => {}, { noAck: false });
    await cch.checkQueue(q1); // a round trip: the ack and the delivery are done

    const perObject = await scrape(metricsUrl(broker, "/metrics/per-object"));
    const at = (queue: string) => ({ vhost: "/", queue });
    assert.equal(perObject.value("rabbitmq_queue_messages_ready", at(q1)), 3);
    assert.equal(perObject.value("rabbitmq_queue_messages_unacked", at(q1)), 1);
    assert.equal(perObject.value("rabbitmq_queue_messages", at(q1)), 4);
    assert.equal(perObject.value("rabbitmq_queue_consumers", at(q1)), 0);
    assert.equal(perObject.value("rabbitmq_queue_messages_ready", at(q2)), 0);
    assert.equal(perObject.value("rabbitmq_queue_messages_unacked", at(q2)), 1);
    assert.equal(perObject.value("rabbitmq_queue_consumers", at(q2)), 1);
    assert.equal(perObject.value("rabbitmq_queue_messages_ready_bytes", at(q1)), 6);
    assert.equal(perObject.samples("rabbitmq_queue_messages_ready").length, 2);

    const m = await scrape(metricsUrl(broker));
    assert.equal(m.value("rabbitmq_queue_messages_ready"), 3);
    assert.equal(m.value("rabbitmq_queue_messages_unacked"), 2);
    assert.equal(m.value("rabbitmq_queue_messages"), 5);
    assert.equal(m.value("rabbitmq_queues"), 2);
    assert.equal(m.value("rabbitmq_connections"), 2);
    assert.equal(m.value("rabbitmq_channels"), 2);
    assert.equal(m.value("rabbitmq_consumers"), 1);
    assert.equal(m.value("rabbitmq_global_consumers", PROTOCOL), 1);
    assert.equal(m.value("rabbitmq_connections_opened_total"), 2);
    assert.equal(m.value("rabbitmq_channels_opened_total"), 2);
    assert.equal(m.value("rabbitmq_global_messages_received_total", PROTOCOL), 8);
    assert.equal(m.value("rabbitmq_global_messages_routed_total", PROTOCOL), 6);
    assert.equal(m.value("rabbitmq_global_messages_unroutable_returned_total", PROTOCOL), 1);
    assert.equal(m.value("rabbitmq_global_messages_unroutable_dropped_total", PROTOCOL), 1);
    assert.equal(m.value("rabbitmq_global_messages_confirmed_total", PROTOCOL), 8);
    assert.equal(m.value("rabbitmq_global_messages_delivered_get_manual_ack_total", CLASSIC), 2);
    assert.equal(
      m.value("rabbitmq_global_messages_delivered_consume_manual_ack_total", CLASSIC),
      1,
    );
    assert.equal(m.value("rabbitmq_global_messages_delivered_total", CLASSIC), 3);
    assert.equal(m.value("rabbitmq_global_messages_acknowledged_total", CLASSIC), 1);
    assert.equal(m.value("rabbitmq_global_messages_redelivered_total", CLASSIC), 0);
    // Aggregated, queue metrics carry no labels at all.
    assert.equal(m.samples("rabbitmq_queue_messages_ready").length, 1);

    // The consumer goes away: its unacked messages are requeued (q1's get is redelivered
    // later), the counters keep what it did, and the churn counters count it.
    await consumer.close();
    conns.pop();
    await eventually(metricsUrl(broker), (m) => {
      assert.equal(m.value("rabbitmq_connections"), 1);
      assert.equal(m.value("rabbitmq_connections_closed_total"), 1);
      assert.equal(m.value("rabbitmq_connections_opened_total"), 2);
      assert.equal(m.value("rabbitmq_channels_closed_total"), 1);
      assert.equal(m.value("rabbitmq_channels_opened_total"), 2);
      assert.equal(m.value("rabbitmq_global_messages_acknowledged_total", CLASSIC), 1);
      assert.equal(m.value("rabbitmq_global_messages_delivered_total", CLASSIC), 3);
      assert.equal(m.value("rabbitmq_queue_messages_ready"), 5);
      assert.equal(m.value("rabbitmq_queue_messages_unacked"), 0);
    });

    // Redeliveries count, by basic.get as by a consumer (as in RabbitMQ).
    const again: AmqpChannel = await publisher.createChannel();
    const redelivered = await again.get(q1, { noAck: true });
    assert.ok(redelivered && redelivered.fields.redelivered);
    assert.equal(redelivered.content.toString(), "m1");
    await again.consume(q2, () => {}, { noAck: true });
    await again.checkQueue(q2);
    await eventually(metricsUrl(broker), (m) => {
      assert.equal(m.value("rabbitmq_global_messages_redelivered_total", CLASSIC), 2);
      assert.equal(m.value("rabbitmq_global_messages_delivered_get_auto_ack_total", CLASSIC), 1);
      assert.equal(
        m.value("rabbitmq_global_messages_delivered_consume_auto_ack_total", CLASSIC),
        1,
      );
      assert.equal(m.value("rabbitmq_global_messages_delivered_total", CLASSIC), 5);
    });
  } finally {
    for (const c of conns) await c.close().catch(() => {});
    await broker.close();
  }
});

metricsTest("the memory alarm shows while it is in effect", async () => {
  const broker = await startWithMetrics({
    memoryHighWatermark: { absolute: 1 },
    logLevel: "error",
  });
  try {
    let m = await scrape(metricsUrl(broker));
    assert.equal(m.value("rabbitmq_alarms_memory_used_watermark"), 1);
    assert.equal(m.value("rabbitmq_resident_memory_limit_bytes"), 1);
    broker.server.alarms.setMemoryHighWatermark({ absolute: Number.MAX_SAFE_INTEGER });
    m = await scrape(metricsUrl(broker));
    assert.equal(m.value("rabbitmq_alarms_memory_used_watermark"), 0);
    assert.equal(m.value("rabbitmq_resident_memory_limit_bytes"), Number.MAX_SAFE_INTEGER);
  } finally {
    await broker.close();
  }
});

metricsTest("a broker on a data dir reports its disk space and limit", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "broker-metrics-" });
  const broker = await startWithMetrics({ dataDir, diskFreeLimit: { absolute: 1234 } });
  try {
    const m = await scrape(metricsUrl(broker));
    assert.ok(m.value("rabbitmq_disk_space_available_bytes") > 0);
    assert.equal(m.value("rabbitmq_disk_space_available_limit_bytes"), 1234);
    assert.equal(m.value("rabbitmq_alarms_free_disk_space_watermark"), 0);
  } finally {
    await broker.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

metricsTest("HTTP: paths, methods and prometheus.return_per_object_metrics", async () => {
  const broker = await startWithMetrics({}, true);
  try {
    const conn: AmqpConnection = await amqp.connect(broker.url);
    const q = uniqueName("per-object");
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(q, { durable: false });
      // Per-object on /metrics too, and a trailing slash is the same path.
      const m = await scrape(metricsUrl(broker, "/metrics/"));
      assert.equal(m.value("rabbitmq_queue_messages_ready", { vhost: "/", queue: q }), 0);
    } finally {
      await conn.close();
    }
    const head = await fetch(metricsUrl(broker), { method: "HEAD" });
    assert.equal(head.status, 204);
    const post = await fetch(metricsUrl(broker), { method: "POST", body: "" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "HEAD, GET, OPTIONS");
    await post.body?.cancel();
    const missing = await fetch(metricsUrl(broker, "/api/overview"));
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "Object Not Found", reason: "Not Found" });
  } finally {
    await broker.close();
  }
});

metricsTest("a busy metrics port is logged and AMQP is served anyway", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const broker = await startBroker({
      logLevel: "none",
      prometheus: { enabled: true, port, ip: "127.0.0.1", perObject: false },
    });
    try {
      assert.equal(broker.server.metrics, undefined);
      const conn: AmqpConnection = await amqp.connect(broker.url);
      await conn.close();
    } finally {
      await broker.close();
    }
  } finally {
    taken.close();
  }
});

Deno.test("prometheus: config keys", async () => {
  const defaults = await loadText("");
  assert.deepEqual(defaults.config.prometheus, {
    enabled: true,
    port: 15692,
    ip: "0.0.0.0",
    perObject: false,
  });
  const set = await loadText(
    "prometheus.tcp.port = 15693\nprometheus.tcp.ip = 127.0.0.1\n" +
      "prometheus.return_per_object_metrics = true\nprometheus.enabled = false\n" +
      "prometheus.path = /metrics\n",
  );
  assert.deepEqual(set.config.prometheus, {
    enabled: false,
    port: 15693,
    ip: "127.0.0.1",
    perObject: true,
  });
  // The rabbitmq_prometheus keys the broker does not use are accepted with a warning.
  assert.deepEqual(set.warnings, [
    `${set.file}:5: prometheus.path: accepted but not used by broker`,
  ]);
  await loadFails(
    "prometheus.tcp.port = 99999",
    "FILE:1: prometheus.tcp.port: '99999' is not a port number (0-65535)",
  );
  await loadFails(
    "prometheus.return_per_object_metrics = yes",
    "FILE:1: prometheus.return_per_object_metrics: 'yes' is not a boolean (true or false)",
  );
});

Deno.test({
  name: "prometheus: our families agree with RabbitMQ's in type and label names",
  ignore: EXTERNAL || REFERENCE_URL === undefined,
  async fn() {
    const base = REFERENCE_URL!.replace(/\/metrics\/?$/, "");
    const broker = await startWithMetrics();
    try {
      // Something in every family with labels: a queue, a connection.
      const conn: AmqpConnection = await amqp.connect(broker.url);
      try {
        const ch = await conn.createChannel();
        await ch.assertQueue(uniqueName("ref"), { durable: false });
        for (const path of ["/metrics", "/metrics/per-object"]) {
          const ref = await scrape(`${base}${path}`);
          const ours = await scrape(metricsUrl(broker, path));
          let shared = 0;
          for (const f of ours.families.values()) {
            const r = ref.families.get(f.name);
            if (!r) continue;
            shared++;
            assert.equal(f.type, r.type, `${path} ${f.name}`);
            assert.equal(f.help, r.help, `${path} ${f.name}`);
            // build_info and identity_info carry what each node has to say about itself.
            if (f.name === "rabbitmq_build_info" || f.name === "rabbitmq_identity_info") continue;
            if (f.samples.length > 0 && r.samples.length > 0) {
              const names = (s: { labels: Record<string, string> }) =>
                Object.keys(s.labels).sort().join(",");
              assert.equal(names(f.samples[0]), names(r.samples[0]), `${path} ${f.name}`);
            }
          }
          assert.ok(shared >= 30, `${path}: only ${shared} families in common`);
          const missing = [...ours.families.keys()].filter((n) => !ref.families.has(n));
          assert.deepEqual(missing, [], `${path}: families RabbitMQ does not have`);
        }
      } finally {
        await conn.close();
      }
    } finally {
      await broker.close();
    }
  },
});
