/**
 * The broker's log, read from a child broker's stderr: with `log.console.formatter = json` every
 * line is one JSON object (time, level, msg and the line's fields); connection lines say who
 * (user, vhost, peer, client-given name) and, at the end, who closed the connection and why; a
 * refused login and a restart's recovery are logged. The same config file turns the Prometheus
 * endpoint to a free loopback port, which the test scrapes (prometheus.tcp.* through `serve`).
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import type { AmqpConnection } from "../helpers/amqp_client.ts";
import { freePort, startChildBroker, withDataDir } from "../helpers/child_broker.ts";
import type { ChildBroker } from "../helpers/child_broker.ts";
import { parsePrometheus } from "../helpers/prometheus.ts";
import { loadFails, loadText } from "../config/helpers.ts";

type Entry = Record<string, unknown>;

/** Writes a rabbitmq.conf beside the data dir and returns its path. */
async function writeConfig(dataDir: string, lines: string[]): Promise<string> {
  const path = `${dataDir}.conf`;
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** Every line of the log as JSON; fails on a line that is not one JSON object. */
function jsonLines(output: string): Entry[] {
  return output.split("\n").filter((l) => l !== "").map((line) => {
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      assert.fail(`not a JSON log line: ${line}`);
    }
    assert.ok(e !== null && typeof e === "object" && !Array.isArray(e), line);
    return e as Entry;
  });
}

/** Waits until a JSON line satisfies `match`, and returns it. */
async function waitForEntry(b: ChildBroker, match: (e: Entry) => boolean): Promise<Entry> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = jsonLines(b.output).find(match);
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`no such log line in:\n${b.output}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("log: JSON lines; connection opened/closed with who and why; metrics via config", async () => {
  await withDataDir(async (dataDir) => {
    const metricsPort = freePort();
    const configFile = await writeConfig(dataDir, [
      "log.console.formatter = json",
      "prometheus.tcp.ip = 127.0.0.1",
      `prometheus.tcp.port = ${metricsPort}`,
    ]);
    const b = await startChildBroker({ dataDir, configFile });
    let held: AmqpConnection | undefined;
    try {
      await waitForEntry(b, (e) => e.msg === "Prometheus metrics started");

      // A client that opens and closes normally.
      const conn: AmqpConnection = await amqp.connect(b.url, {
        clientProperties: { connection_name: 'log test "one"' },
      });
      await conn.createChannel();
      const opened = await waitForEntry(
        b,
        (e) => e.msg === "connection opened" && e.connection_name === 'log test "one"',
      );
      assert.equal(opened.level, "info");
      assert.equal(opened.user, "guest");
      assert.equal(opened.vhost, "/");
      assert.match(String(opened.peer), /^127\.0\.0\.1:\d+$/);
      assert.equal(opened.client_product, "amqplib");
      assert.match(String(opened.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      await conn.close();
      const closed = await waitForEntry(
        b,
        (e) => e.msg === "connection closed" && e.connection === opened.connection,
      );
      assert.deepEqual(
        [closed.level, closed.by, closed.code, closed.user, closed.vhost, closed.peer],
        ["info", "client", 200, "guest", "/", opened.peer],
      );

      // A refused login names the user and where it came from.
      await assert.rejects(amqp.connect(b.url.replace("guest:guest", "guest:wrong")));
      const refused = await waitForEntry(b, (e) => e.msg === "login refused");
      assert.equal(refused.level, "warning");
      assert.equal(refused.user, "guest");
      assert.equal(refused.reason, "invalid credentials");
      assert.match(String(refused.peer), /^127\.0\.0\.1:\d+$/);

      // The broker closes a connection that asks for a vhost that does not exist.
      await assert.rejects(amqp.connect(`${b.url}no-such-vhost`));
      const denied = await waitForEntry(
        b,
        (e) => e.msg === "connection closed" && e.by === "broker" && e.code === 530,
      );
      assert.equal(denied.reason, "NOT_ALLOWED - vhost no-such-vhost not found");
      assert.equal(denied.user, "guest");

      // A client that drops the socket mid-handshake.
      const raw = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
      await raw.write(new TextEncoder().encode("AMQP\x00\x00\x09\x01"));
      await raw.read(new Uint8Array(4096)); // connection.start
      raw.close();
      const dropped = await waitForEntry(
        b,
        (e) =>
          e.msg === "connection closed" && e.reason === "client unexpectedly closed TCP connection",
      );
      assert.equal(dropped.level, "warning");
      assert.equal(dropped.by, "client");

      // The metrics endpoint the config file placed, with what just happened.
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      const metrics = parsePrometheus(await res.text());
      assert.equal(metrics.value("rabbitmq_connections_opened_total"), 1);
      assert.equal(metrics.value("rabbitmq_connections_closed_total"), 1);

      // Shutdown closes a connection still open with 320, logged as the broker's doing.
      const last: AmqpConnection = await amqp.connect(b.url);
      held = last;
      last.on("error", () => {});
      await waitForEntry(
        b,
        (e) => e.msg === "connection opened" && e.connection_name === undefined,
      );
      b.kill("SIGTERM");
      assert.equal((await b.waitExit(10_000)).code, 0);
      const shutdown = jsonLines(b.output).find((e) =>
        e.msg === "connection closed" && e.code === 320
      );
      assert.ok(shutdown, b.output);
      assert.equal(shutdown.by, "broker");
      assert.match(String(shutdown.reason), /shutdown/);

      // Every line was JSON, with the three fields first.
      for (const e of jsonLines(b.output)) {
        assert.deepEqual(Object.keys(e).slice(0, 3), ["time", "level", "msg"]);
        assert.ok(["debug", "info", "warning", "error"].includes(String(e.level)));
      }
    } finally {
      await held?.close().catch(() => {});
      await b.stop();
      await Deno.remove(configFile).catch(() => {});
    }
  });
});

Deno.test("log: plaintext connection lines, and recovery lines on restart", async () => {
  await withDataDir(async (dataDir) => {
    const configFile = await writeConfig(dataDir, ["prometheus.enabled = false"]);
    try {
      const first = await startChildBroker({ dataDir, configFile });
      try {
        const conn: AmqpConnection = await amqp.connect(first.url);
        const ch = await conn.createChannel();
        await ch.assertQueue("log-recovery", { durable: true });
        await conn.close();
        await first.waitForLog(
          /\[info\] connection opened connection="127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+" user=guest vhost=\/ peer=127\.0\.0\.1:\d+ client_product=amqplib/,
        );
        await first.waitForLog(
          /\[info\] connection closed connection="[^"]+" user=guest vhost=\/ peer=127\.0\.0\.1:\d+ by=client code=200 reason="Cheers, thanks"/,
        );
        assert.doesNotMatch(first.output, /Prometheus metrics started/);
      } finally {
        first.kill("SIGTERM");
        await first.waitExit(10_000);
      }
      const second = await startChildBroker({ dataDir, configFile });
      try {
        await second.waitForLog(
          /\[info\] definitions recovered vhosts=1 users=1 durable_exchanges=\d+ durable_queues=1 bindings=\d+/,
        );
        await second.waitForLog(/\[info\] message store recovered messages=0/);
      } finally {
        await second.stop();
      }
    } finally {
      await Deno.remove(configFile).catch(() => {});
    }
  });
});

Deno.test("log: log.console.formatter takes plaintext or json", async () => {
  assert.equal((await loadText("")).config.logFormat, "plaintext");
  assert.equal((await loadText("log.console.formatter = json")).config.logFormat, "json");
  assert.equal((await loadText("log.console.formatter = plaintext")).config.logFormat, "plaintext");
  await loadFails(
    "log.console.formatter = xml",
    "FILE:1: log.console.formatter: 'xml' is not plaintext or json",
  );
});
