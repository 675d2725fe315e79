/**
 * Connection and queue limits through real clients: per-vhost max-connections and max-queues
 * (set through the management API, as `rabbitmqctl set_vhost_limits` sets them) seen by amqplib,
 * and the node-wide connection_max seen by raw sockets.
 *
 * The vhost-limit tests were checked against RabbitMQ 3.10.8 with the management plugin:
 *
 *   TEST_ADMIN_URL=http://127.0.0.1:15701 TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5701/ \
 *     deno test -A tests/interop/limits_test.ts
 *
 * What RabbitMQ does, and so do we: connection.open past max-connections is refused with 530 and
 * "access to vhost 'V' refused for user 'U': connection limit (N) is reached" (before the user's
 * permissions are looked at); queue.declare of a new queue past max-queues is refused with 406
 * and "cannot declare queue 'Q': queue limit in vhost 'V' (N) is reached" (exclusive,
 * auto-delete and server-named queues count; redeclaring or passively declaring an existing queue
 * is fine; the reserved `amq.` prefix is refused first, argument validation after); 0 allows
 * none, a negative value none at all; lowering a limit leaves what exists alone.
 *
 * connection_max is ours only (the reference cannot be reconfigured): past it a new TCP connection
 * is closed before any AMQP byte, with a log line, and open connections carry on.
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { attempt, type Client, connect, delay, within } from "../helpers/amqp_client.ts";
import { type AdminTarget, enc, REFERENCE, startAdminTarget } from "../helpers/http.ts";
import { AMQP_HEADER, RawAmqp } from "../helpers/raw_amqp.ts";
import * as spec from "../../src/amqp/spec.ts";
import { ChildBroker, freePort } from "../helpers/child_broker.ts";
import { startServer } from "../../src/server/server.ts";
import { loadFails, loadText } from "../config/helpers.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;

/** A test with a fresh target whose clients and objects are closed and deleted at the end. */
function limitsTest(name: string, fn: (t: LimitsEnv) => Promise<void>): void {
  Deno.test({
    name: `vhost limits: ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const env = new LimitsEnv(await startAdminTarget());
      try {
        await fn(env);
      } finally {
        await env.close();
      }
    },
  });
}

class LimitsEnv {
  private readonly clients: Client[] = [];
  constructor(readonly target: AdminTarget) {}

  /** A fresh vhost (guest has every permission on it), deleted at the end. */
  vhost(): Promise<string> {
    return this.target.vhost("limits");
  }

  /** Sets one limit, as `rabbitmqctl set_vhost_limits` or the management UI does. */
  async setLimit(vhost: string, name: string, value: number): Promise<void> {
    await this.target.api.expect("PUT", `/vhost-limits/${enc(vhost)}/${name}`, 204, { value });
  }

  async clearLimit(vhost: string, name: string): Promise<void> {
    await this.target.api.expect("DELETE", `/vhost-limits/${enc(vhost)}/${name}`, 204);
  }

  /** An amqplib connection to `vhost` (closed at the end). */
  async connect(vhost: string, user = "guest", password = "guest"): Promise<Client> {
    const c = await within(connect(this.target.amqpUrl(vhost, user, password)), 5000, "connect");
    this.clients.push(c);
    return c;
  }

  /**
   * How connection.open of `vhost` ends: "open", or the server's connection.close (amqplib
   * does not tell its reply, so the handshake is done on a raw socket).
   */
  async open(vhost: string, user = "guest", password = "guest"): Promise<OpenResult> {
    const c = await RawAmqp.open(this.target.amqpPort, new URL(this.target.amqpBase).hostname);
    try {
      await c.send(AMQP_HEADER);
      await c.expectMethod(0, spec.CONNECTION_START);
      await c.sendMethod(0, {
        id: spec.CONNECTION_START_OK,
        clientProperties: { capabilities: { authentication_failure_close: true } },
        mechanism: "PLAIN",
        response: new TextEncoder().encode(`\0${user}\0${password}`),
        locale: "en_US",
      });
      const tune = await c.expectMethod(0, spec.CONNECTION_TUNE);
      await c.sendMethod(0, { ...tune, id: spec.CONNECTION_TUNE_OK, heartbeat: 0 });
      await c.sendMethod(0, {
        id: spec.CONNECTION_OPEN,
        virtualHost: vhost,
        capabilities: "",
        insist: false,
      });
      const reply = await c.readMethod();
      if (reply?.method.id === spec.CONNECTION_OPEN_OK) {
        await c.closeGracefully();
        return "open";
      }
      if (reply?.method.id !== spec.CONNECTION_CLOSE) {
        throw new Error(`connection.open answered ${JSON.stringify(reply?.method)}`);
      }
      const { replyCode: code, replyText: text, classId, methodId } = reply.method;
      await c.sendMethod(0, { id: spec.CONNECTION_CLOSE_OK });
      return { code, text, classId, methodId };
    } finally {
      await c.dispose();
    }
  }

  /**
   * Connects once a slot is free: RabbitMQ forgets a closed connection asynchronously, so right
   * after a close the reference may still count it for a moment (ours does not).
   */
  async connectEventually(vhost: string): Promise<Client> {
    const deadline = Date.now() + (REFERENCE ? 10_000 : 0);
    for (;;) {
      try {
        return await this.connect(vhost);
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await delay(200);
      }
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) await c.close();
    await this.target.close();
  }
}

type OpenResult = "open" | { code: number; text: string; classId: number; methodId: number };

/** RabbitMQ's refusal of connection.open (class 10, method 40) past max-connections. */
const connectionLimit = (vhost: string, user: string, n: number) => ({
  code: 530,
  text:
    `NOT_ALLOWED - access to vhost '${vhost}' refused for user '${user}': connection limit (${n}) is reached`,
  classId: 10,
  methodId: 40,
});

const queueLimitText = (queue: string, vhost: string, n: number) =>
  `PRECONDITION_FAILED - cannot declare queue '${queue}': queue limit in vhost '${vhost}' (${n}) is reached`;

limitsTest("max-connections refuses connection.open past the limit with 530", async (env) => {
  const v = await env.vhost();
  await env.setLimit(v, "max-connections", 2);
  const first = await env.connect(v);
  await env.connect(v);
  assert.deepEqual(await env.open(v), connectionLimit(v, "guest", 2));
  // Other vhosts are not affected; the open ones carry on.
  await (await env.connect("/")).close();
  assert.equal(await attempt(first, (ch) => ch.checkExchange("amq.direct")), null);
  // A closed connection frees its slot.
  await first.close();
  await env.connectEventually(v);
  assert.deepEqual(await env.open(v), connectionLimit(v, "guest", 2));
  // Clearing the limit (or a negative one) lets everyone in.
  await env.setLimit(v, "max-connections", -1);
  await env.connect(v);
  await env.clearLimit(v, "max-connections");
  await env.connect(v);
});

limitsTest("max-connections 0 allows none, checked before the user's permissions", async (env) => {
  const v = await env.vhost();
  const open = await env.connect(v);
  await env.setLimit(v, "max-connections", 0);
  assert.deepEqual(await env.open(v), connectionLimit(v, "guest", 0));
  // A user without any permission on the vhost hears about the limit, not about access.
  const user = await env.target.user("limits-noperm", "", "pw");
  assert.deepEqual(await env.open(v, user, "pw"), connectionLimit(v, user, 0));
  // Lowering the limit leaves the connection that was open alone.
  assert.equal(await attempt(open, (ch) => ch.checkExchange("amq.direct")), null);
  assert.equal(open.closed, false);
});

limitsTest(
  "max-queues refuses new queues with 406; existing ones may be redeclared",
  async (env) => {
    const v = await env.vhost();
    await env.setLimit(v, "max-queues", 2);
    const c = await env.connect(v);
    assert.equal(await attempt(c, (ch) => ch.assertQueue("q1", { durable: false })), null);
    // Exclusive queues count.
    assert.equal(await attempt(c, (ch) => ch.assertQueue("q2", { exclusive: true })), null);
    assert.deepEqual(await attempt(c, (ch) => ch.assertQueue("q3", { durable: false })), {
      code: 406,
      text: queueLimitText("q3", v, 2),
      connectionClosed: false,
    });
    // So do auto-delete and server-named ones (named in the text by their generated name).
    assert.equal(
      (await attempt(c, (ch) => ch.assertQueue("q3", { autoDelete: true })))?.text,
      queueLimitText("q3", v, 2),
    );
    const named = await attempt(c, (ch) => ch.assertQueue("", { exclusive: true }));
    assert.equal(named?.code, 406);
    assert.match(
      named!.text,
      new RegExp(`^PRECONDITION_FAILED - cannot declare queue 'amq\\.gen-[\\w-]{22}': queue limit`),
    );
    // Redeclaring or checking an existing queue at the limit is fine.
    assert.equal(await attempt(c, (ch) => ch.assertQueue("q1", { durable: false })), null);
    assert.equal(await attempt(c, (ch) => ch.checkQueue("q1")), null);
    // The reserved prefix is refused before the limit, invalid arguments after it.
    assert.deepEqual(await attempt(c, (ch) => ch.assertQueue("amq.x", { durable: false })), {
      code: 403,
      text: "ACCESS_REFUSED - queue name 'amq.x' contains reserved prefix 'amq.*'",
      connectionClosed: false,
    });
    assert.equal(
      (await attempt(
        c,
        (ch) => ch.assertQueue("q4", { durable: false, arguments: { "x-max-length": "abc" } }),
      ))?.text,
      queueLimitText("q4", v, 2),
    );
    // A deleted queue frees its place.
    assert.equal(
      await attempt(c, (ch) => ch.deleteQueue("q1")),
      null,
    );
    assert.equal(await attempt(c, (ch) => ch.assertQueue("q3", { durable: false })), null);
    await attempt(c, (ch) => ch.deleteQueue("q3"));
  },
);

limitsTest("max-queues 0 allows none; clearing it allows them again", async (env) => {
  const v = await env.vhost();
  const c = await env.connect(v);
  assert.equal(await attempt(c, (ch) => ch.assertQueue("kept", { durable: false })), null);
  await env.setLimit(v, "max-queues", 0);
  assert.equal(
    (await attempt(c, (ch) => ch.assertQueue("new", { durable: false })))?.text,
    queueLimitText("new", v, 0),
  );
  // The queue that was there stays, and may still be redeclared (or refused as inequivalent).
  assert.equal(await attempt(c, (ch) => ch.assertQueue("kept", { durable: false })), null);
  assert.equal(
    (await attempt(c, (ch) => ch.assertQueue("kept", { durable: true })))?.text,
    `PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'kept' in vhost '${v}': ` +
      "received 'true' but current is 'false'",
  );
  await env.setLimit(v, "max-queues", -3);
  assert.equal(await attempt(c, (ch) => ch.assertQueue("new", { durable: false })), null);
  await env.setLimit(v, "max-queues", 2);
  await env.clearLimit(v, "max-queues");
  assert.equal(await attempt(c, (ch) => ch.assertQueue("new2", { durable: false })), null);
  for (const q of ["kept", "new", "new2"]) await attempt(c, (ch) => ch.deleteQueue(q));
});

limitsTest("max-queues applies to queues declared over the management API", async (env) => {
  const v = await env.vhost();
  const api = env.target.api;
  await env.setLimit(v, "max-queues", 1);
  await api.expect("PUT", `/queues/${enc(v)}/a`, 201, { durable: false });
  assert.deepEqual(await api.expect("PUT", `/queues/${enc(v)}/b`, 400, { durable: false }), {
    error: "bad_request",
    reason: `cannot declare queue 'b': queue limit in vhost '${v}' (1) is reached`,
  });
  await api.expect("PUT", `/queues/${enc(v)}/a`, 204, { durable: false });
});

// ---------------------------------------------------------------------------------------------
// connection_max (ours only)

/** Whether the server closes a fresh TCP connection without a word (it answers no header). */
async function closedWithoutAWord(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    try {
      await conn.write(AMQP_HEADER);
    } catch {
      return true; // reset before the header went out
    }
    const buf = new Uint8Array(64);
    try {
      return await within(conn.read(buf), 5000, "the server's answer") === null;
    } catch (err) {
      if (err instanceof Deno.errors.ConnectionReset) return true;
      throw err;
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test({
  name: "connection_max: past it new connections are closed at once, open ones carry on",
  ignore: REFERENCE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const server = await startServer({
      port: 0,
      hostname: "127.0.0.1",
      logLevel: "none",
      management: { enabled: false, port: 0, ip: "127.0.0.1" },
      connectionMax: 2,
    });
    const url = `amqp://guest:guest@127.0.0.1:${server.port}/`;
    const clients: Client[] = [];
    try {
      clients.push(await connect(url), await connect(url));
      assert.equal(await closedWithoutAWord(server.port), true);
      await assert.rejects(within(amqp.connect(url), 5000, "connect"));
      // The two open connections work as before.
      for (const c of clients) {
        assert.equal(await attempt(c, (ch) => ch.checkExchange("amq.direct")), null);
      }
      // Once one closes, a new one is taken.
      await clients.shift()!.close();
      clients.push(await connect(url));
      assert.equal(await attempt(clients[1], (ch) => ch.checkExchange("amq.fanout")), null);
    } finally {
      for (const c of clients) await c.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "connection_max: read from rabbitmq.conf; each refusal is logged; 0 refuses all",
  ignore: REFERENCE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "broker-limits-" });
    const run = async (conf: string, check: (b: ChildBroker) => Promise<void>) => {
      // No metrics listener on the shared default port.
      await Deno.writeTextFile(`${dir}/rabbitmq.conf`, `${conf}prometheus.enabled = false\n`);
      const broker = await spawnWithConfig(dir, `${dir}/rabbitmq.conf`);
      try {
        await check(broker);
      } finally {
        await broker.stop();
      }
    };
    try {
      await run("connection_max = 1\n", async (broker) => {
        const client = await connect(broker.url);
        try {
          assert.equal(await closedWithoutAWord(broker.port), true);
          await broker.waitForLog(/connection refused: connection limit \(1\) reached/);
          assert.equal(await attempt(client, (ch) => ch.checkExchange("amq.direct")), null);
        } finally {
          await client.close();
        }
      });
      await run("connection_max = 0\n", async (broker) => {
        assert.equal(await closedWithoutAWord(broker.port), true);
        await broker.waitForLog(/connection refused: connection limit \(0\) reached/);
      });
      await run("connection_max = infinity\n", async (broker) => {
        const clients = [await connect(broker.url), await connect(broker.url)];
        for (const c of clients) await c.close();
        assert.doesNotMatch(broker.output, /connection refused/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("connection_max: infinity (the default) or a non-negative integer", async () => {
  assert.equal((await loadText("")).config.connectionMax, Infinity);
  assert.equal((await loadText("connection_max = infinity\n")).config.connectionMax, Infinity);
  assert.equal((await loadText("connection_max = 0\n")).config.connectionMax, 0);
  assert.equal((await loadText("connection_max = 5000\n")).config.connectionMax, 5000);
  for (const bad of ["-1", "lots", "1.5"]) {
    await loadFails(
      `connection_max = ${bad}\n`,
      `FILE:1: connection_max: '${bad}' should be a non-negative integer or infinity`,
    );
  }
});

/** `main.ts serve --config FILE` as a child process, ready once its listener is up. */
async function spawnWithConfig(dataDir: string, config: string): Promise<ChildBroker> {
  const port = freePort();
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--config",
      config,
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--admin-port",
      String(freePort()),
      "--admin-bind",
      "127.0.0.1",
      "--metrics-port",
      String(freePort()),
      "--metrics-bind",
      "127.0.0.1",
      "--data-dir",
      `${dataDir}/data`,
      "--log-level",
      "info",
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", BROKER_DATA_DIR: "", RABBITMQ_NODE_PORT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const broker = new ChildBroker(process, port, `${dataDir}/data`);
  try {
    await broker.waitForLog(/AMQP listener started/, 20_000);
  } catch (err) {
    await broker.stop();
    throw err;
  }
  return broker;
}
