/**
 * The management HTTP API, request by request, as RabbitMQ 3.10's management plugin answers:
 * authentication and the management tags, the loopback rule, overview, whoami, nodes and health
 * checks; exchanges, queues (get, purge, conditional deletes), bindings, users (passwords and
 * RabbitMQ-made password hashes), vhosts, permissions, connections (closed with 320 and the
 * X-Reason text); pagination, filtering and sorting; 404 and 405; 10,000 queues.
 *
 * Every status code and error body asserted here was checked against RabbitMQ 3.10.8 with the
 * management plugin:
 *
 *   TEST_ADMIN_URL=http://127.0.0.1:15760 TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5760/ \
 *     deno test -A tests/admin/api_test.ts
 *
 * In that mode each test works in vhosts and users of its own and deletes them again; what needs
 * our server in-process (rate sampling on demand, the loopback rule's options, 10,000 queues made
 * through the control service) is skipped or done the slow way. RabbitMQ's statistics lag by about
 * 5 s, so counters are read with `eventually`.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { Client, replyText } from "../helpers/amqp_client.ts";
import type { AmqpConnection } from "../helpers/amqp_client.ts";
import {
  AdminApi,
  AdminTarget,
  enc,
  type Json,
  REFERENCE,
  startAdminTarget,
  startInProcess,
  unique,
} from "../helpers/http.ts";
import { authenticate } from "../../src/admin/auth.ts";
import { HttpError } from "../../src/admin/http.ts";

const REALM = 'Basic realm="RabbitMQ Management"';
const NOT_FOUND = { error: "Object Not Found", reason: "Not Found" };
const ALL = { configure: ".*", write: ".*", read: ".*" };

/** A test with a fresh target, closed (and everything it made deleted) at the end. */
function apiTest(
  name: string,
  fn: (t: AdminTarget) => Promise<void>,
  opts: { inProcessOnly?: boolean } = {},
): void {
  Deno.test({
    name: `admin api: ${name}`,
    ignore: opts.inProcessOnly === true && REFERENCE,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const target = await startAdminTarget();
      try {
        await fn(target);
      } finally {
        await target.close();
      }
    },
  });
}

/** An amqplib connection (named, so that it can be found in /api/connections), closed at end. */
async function amqpClient(t: AdminTarget, url: string, name?: string): Promise<Client> {
  const options = name ? { clientProperties: { connection_name: name } } : {};
  const client = new Client(await amqp.connect(url, options) as AmqpConnection);
  t.onClose(() => client.close());
  return client;
}

/** The names of a listing's rows. */
const names = (rows: Json[]) => rows.map((r) => r.name);

// ---------------------------------------------------------------------------------------------
// Authentication and tags

apiTest(
  "no credentials, a wrong password or an unknown user: 401 with a Basic challenge",
  async (t) => {
    const anonymous = await t.api.call("GET", "/overview", undefined, { anonymous: true });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), REALM);
    // RabbitMQ 3.10 sends no body here; a JSON body must still be its error shape.
    if (anonymous.body !== undefined) {
      assert.equal(
        (anonymous.body as Json).error,
        "not_authorized",
      );
    }

    for (const [user, password] of [["guest", "wrong"], [unique("nobody"), "x"]]) {
      const r = await t.api.call("GET", "/overview", undefined, { user, password });
      assert.equal(r.status, 401, user);
      assert.equal(r.headers.get("www-authenticate"), REALM);
      assert.equal((r.body as Json).error, "not_authorized");
    }
    const garbled = await t.api.call("GET", "/whoami", undefined, {
      anonymous: true,
      headers: { authorization: "Basic !!!" },
    });
    // (RabbitMQ: 400 with no body; ours: 401)
    assert.ok(garbled.status === 400 || garbled.status === 401, String(garbled.status));
  },
);

apiTest("a user without a management tag: 401 Not management user", async (t) => {
  const plain = await t.user("plain", "");
  for (const path of ["/overview", "/whoami", "/queues"]) {
    const r = await t.api.call("GET", path, undefined, { user: plain, password: "pw" });
    assert.equal(r.status, 401, path);
    assert.deepEqual(r.body, { error: "not_authorised", reason: "Not management user" });
  }
  // The same user with the wrong password fails authentication first.
  const wrong = await t.api.call("GET", "/whoami", undefined, { user: plain, password: "no" });
  assert.equal((wrong.body as Json).error, "not_authorized");
});

apiTest("management, monitoring and administrator tags", async (t) => {
  const mgmt = t.api.as(await t.user("mgmt", "management"), "pw");
  const mon = t.api.as(await t.user("mon", ["monitoring"]), "pw");
  const v = await t.vhost("tags");

  const notAdmin = { error: "not_authorised", reason: "Not administrator user" };
  for (const api of [mgmt, mon]) {
    for (
      const [method, path] of [
        ["GET", "/users"],
        ["GET", "/users/guest"],
        ["GET", "/permissions"],
        ["GET", "/definitions"],
        ["PUT", `/vhosts/${enc(unique("nope"))}`],
        ["PUT", `/users/${enc(unique("nope"))}`],
        ["DELETE", `/vhosts/${enc(v)}`],
      ]
    ) {
      const r = await api.call(
        method,
        path,
        method === "PUT" ? { password: "x", tags: "" } : undefined,
      );
      assert.equal(r.status, 401, `${api.user} ${method} ${path}`);
      assert.deepEqual(r.body, notAdmin, `${api.user} ${method} ${path}`);
    }
  }
  // Node data needs monitoring.
  const nodes = await mgmt.call("GET", "/nodes");
  assert.equal(nodes.status, 401);
  assert.deepEqual(nodes.body, { error: "not_authorised", reason: "Not monitor user" });
  assert.equal((await mon.list("/nodes")).length, 1);

  // Every management user reads the overview, whoami and the alarms check.
  assert.deepEqual(await mgmt.get("/whoami").then((w) => [w.name, w.tags]), [
    mgmt.user,
    ["management"],
  ]);
  assert.deepEqual(await mon.get("/whoami").then((w) => [w.name, w.tags]), [
    mon.user,
    ["monitoring"],
  ]);
  assert.equal(typeof (await mgmt.get("/overview")).rabbitmq_version, "string");
  assert.deepEqual(await mgmt.get("/health/checks/alarms"), { status: "ok" });

  // Monitoring sees every vhost and every user's connections; management only its own.
  assert.ok(names(await mon.list("/vhosts")).includes(v));
  assert.ok(!names(await mgmt.list("/vhosts")).includes(v));
  const conn = unique("tags-conn");
  await amqpClient(t, t.amqpUrl(v), conn);
  await t.eventually(async () => {
    const rows = await mon.list("/connections");
    assert.ok(
      rows.some((c) => c.user_provided_name === conn),
      "monitoring sees guest's connection",
    );
  });
  assert.ok(!(await mgmt.list("/connections")).some((c) => c.user_provided_name === conn));
  assert.ok(!(await mgmt.list("/channels")).some((c) => c.user === "guest"));
});

apiTest("a management user sees the queues of its own vhosts only", async (t) => {
  const a = await t.vhost("mine");
  const b = await t.vhost("theirs");
  const user = await t.user("scoped", "management");
  const mon = t.api.as(await t.user("watcher", "monitoring"), "pw");
  await t.api.expect("PUT", `/permissions/${enc(a)}/${enc(user)}`, 201, ALL);
  await t.api.expect("PUT", `/queues/${enc(a)}/qa`, 201, { durable: false });
  await t.api.expect("PUT", `/queues/${enc(b)}/qb`, 201, { durable: false });
  const api = t.api.as(user, "pw");

  const queues = await api.list("/queues");
  assert.deepEqual(queues.map((q) => [q.vhost, q.name]), [[a, "qa"]]);
  assert.deepEqual(names(await api.list("/vhosts")), [a]);
  assert.ok((await api.list("/exchanges")).every((e) => e.vhost === a));
  assert.equal((await api.get(`/queues/${enc(a)}/qa`)).name, "qa");
  for (const path of [`/queues/${enc(b)}`, `/queues/${enc(b)}/qb`, `/exchanges/${enc(b)}`]) {
    const r = await api.call("GET", path);
    assert.equal(r.status, 401, path);
    assert.deepEqual(r.body, {
      error: "not_authorised",
      reason: "User not authorised to access virtual host",
    });
  }
  // An administrator sees both; a monitoring user without permissions lists neither's queues.
  const all = await t.api.list("/queues");
  assert.ok(all.some((q) => q.vhost === a) && all.some((q) => q.vhost === b));
  assert.ok(!(await mon.list("/queues")).some((q) => q.vhost === a || q.vhost === b));
});

// ---------------------------------------------------------------------------------------------
// The loopback rule

/** A non-loopback IPv4 address of this machine. */
const LOCAL_ADDRESS = Deno.networkInterfaces().find((i) =>
  i.family === "IPv4" && !i.address.startsWith("127.")
)?.address;

Deno.test({
  name: "admin api: guest may log in from loopback addresses only (loopback_users)",
  ignore: LOCAL_ADDRESS === undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const refused = { error: "not_authorised", reason: "User can only log in via localhost" };
    if (REFERENCE) {
      const port = new URL(Deno.env.get("TEST_ADMIN_URL")!).port;
      const remote = new AdminApi(`http://${LOCAL_ADDRESS}:${port}`);
      const r = await remote.call("GET", "/whoami");
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, refused);
      return;
    }
    for (const loopbackUsers of [["guest"], []]) {
      const broker = await startInProcess({
        management: { enabled: true, port: 0, ip: LOCAL_ADDRESS! },
        loopbackUsers,
      });
      try {
        broker.server.service.addUser({ name: "remote", password: "pw", tags: ["administrator"] });
        const remote = new AdminApi(`http://${LOCAL_ADDRESS}:${broker.server.adminPort}`);
        const r = await remote.call("GET", "/whoami");
        if (loopbackUsers.length > 0) {
          assert.equal(r.status, 401);
          assert.deepEqual(r.body, refused);
        } else {
          assert.equal(r.status, 200, JSON.stringify(r.body));
        }
        assert.equal((await remote.as("remote", "pw").get("/whoami")).name, "remote");
      } finally {
        await broker.close();
      }
    }

    // The rule itself, for addresses a test cannot connect from.
    const broker = await startInProcess();
    try {
      const service = broker.server.service;
      const req = new Request("http://x/api/whoami", {
        headers: { authorization: `Basic ${btoa("guest:guest")}` },
      });
      for (const addr of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
        assert.equal(authenticate(req, addr, service, ["guest"]).name, "guest", addr);
      }
      for (const addr of ["10.1.2.3", "192.0.2.7", "::ffff:10.0.0.1", "fe80::1"]) {
        assert.throws(
          () => authenticate(req, addr, service, ["guest"]),
          (e) => e instanceof HttpError && e.status === 401 && e.reason === refused.reason,
          addr,
        );
        assert.equal(authenticate(req, addr, service, []).name, "guest", addr);
      }
    } finally {
      await broker.close();
    }
  },
});

// ---------------------------------------------------------------------------------------------
// Overview, whoami, nodes, health checks

apiTest("overview: totals, listeners, and the publish rate after publishing", async (t) => {
  const v = await t.vhost("overview");
  const before = await t.api.get("/overview");
  for (
    const k of [
      "management_version",
      "rabbitmq_version",
      "product_name",
      "product_version",
      "cluster_name",
      "node",
      "erlang_version",
      "rates_mode",
    ]
  ) {
    assert.equal(typeof before[k], "string", k);
  }
  const totals = before.object_totals as Json;
  for (const k of ["connections", "channels", "exchanges", "queues", "consumers"]) {
    assert.equal(typeof totals[k], "number", k);
  }
  const types = (before.exchange_types as Json[]).map((x) => x.name);
  for (const type of ["direct", "fanout", "topic", "headers"]) assert.ok(types.includes(type));
  const listeners = before.listeners as Json[];
  assert.ok(
    listeners.some((l) => l.protocol === "amqp" && l.port === t.amqpPort),
    JSON.stringify(listeners),
  );
  const contexts = before.contexts as Json[];
  assert.equal(contexts[0].port, new URL(t.api.base).port);

  await t.api.expect("PUT", `/queues/${enc(v)}/q`, 201, { durable: false });
  const client = await amqpClient(t, t.amqpUrl(v));
  const ch = await client.channel();
  for (let i = 0; i < 20; i++) ch.sendToQueue("q", Buffer.from(`m${i}`));
  await ch.checkQueue("q"); // a round trip: the publishes are in

  await t.eventually(async () => {
    const o = await t.api.get("/overview");
    const stats = o.message_stats as Json;
    assert.ok(Number(stats.publish) >= 20, JSON.stringify(stats));
    assert.ok(Number((stats.publish_details as Json).rate) > 0, JSON.stringify(stats));
    const queueTotals = o.queue_totals as Json;
    assert.ok(Number(queueTotals.messages) >= 20, JSON.stringify(queueTotals));
    assert.equal(typeof (queueTotals.messages_details as Json).rate, "number");
    const objects = o.object_totals as Json;
    assert.ok(Number(objects.queues) > Number(totals.queues));
    assert.ok(Number(objects.connections) >= 1);
    assert.ok(Number(objects.channels) >= 1);
  });
  // The vhost's own figures are exact.
  await t.eventually(async () => {
    const vh = await t.api.get(`/vhosts/${enc(v)}`);
    assert.equal(vh.messages, 20);
    assert.equal(vh.messages_ready, 20);
    assert.equal((vh.message_stats as Json).publish, 20);
  });
});

apiTest("whoami, nodes, the alarms check and the aliveness test", async (t) => {
  const me = await t.api.get("/whoami");
  assert.equal(me.name, "guest");
  assert.deepEqual(me.tags, ["administrator"]);

  const overview = await t.api.get("/overview");
  const nodes = await t.api.list("/nodes");
  assert.equal(nodes.length, 1);
  const node = nodes[0];
  assert.equal(node.name, overview.node);
  assert.equal(node.running, true);
  assert.equal(node.type, "disc");
  assert.equal(node.mem_alarm, false);
  assert.equal(node.disk_free_alarm, false);
  for (
    const k of [
      "mem_used",
      "mem_limit",
      "disk_free",
      "disk_free_limit",
      "fd_used",
      "fd_total",
      "sockets_used",
      "proc_used",
      "uptime",
      "processors",
    ]
  ) {
    assert.equal(typeof node[k], "number", k);
  }
  assert.equal((await t.api.get(`/nodes/${enc(node.name as string)}`)).name, node.name);

  assert.deepEqual(await t.api.get("/health/checks/alarms"), { status: "ok" });
  assert.deepEqual(await t.api.get("/aliveness-test/%2F"), { status: "ok" });
  const v = await t.vhost("alive");
  assert.deepEqual(await t.api.get(`/aliveness-test/${enc(v)}`), { status: "ok" });
  const missing = await t.api.call("GET", `/aliveness-test/${enc(unique("novhost"))}`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, NOT_FOUND);
});

// ---------------------------------------------------------------------------------------------
// Exchanges

apiTest("exchanges: declare, redeclare, inequivalent, list, delete", async (t) => {
  const v = await t.vhost("ex");
  const x = `/exchanges/${enc(v)}/x1`;
  assert.equal((await t.api.put(x, { type: "topic", durable: true })).status, 201);
  assert.equal((await t.api.put(x, { type: "topic", durable: true })).status, 204);

  const type = await t.api.put(x, { type: "direct", durable: true });
  assert.equal(type.status, 400);
  assert.deepEqual(type.body, {
    error: "bad_request",
    reason:
      `inequivalent arg 'type' for exchange 'x1' in vhost '${v}': received 'direct' but current is 'topic'`,
  });
  const durable = await t.api.put(x, { type: "topic", durable: false });
  assert.equal(durable.status, 400);
  assert.deepEqual(durable.body, {
    error: "bad_request",
    reason:
      `inequivalent arg 'durable' for exchange 'x1' in vhost '${v}': received 'false' but current is 'true'`,
  });
  const unknown = await t.api.put(`/exchanges/${enc(v)}/x2`, { type: "nope" });
  assert.equal(unknown.status, 400);
  assert.deepEqual(unknown.body, { error: "bad_request", reason: "unknown exchange type 'nope'" });
  // The type defaults to direct.
  assert.equal((await t.api.put(`/exchanges/${enc(v)}/x3`, {})).status, 201);
  assert.equal((await t.api.get(`/exchanges/${enc(v)}/x3`)).type, "direct");
  // amq.* names are reserved: refused as not_authorised.
  const reserved = await t.api.put(`/exchanges/${enc(v)}/amq.mine`, { type: "direct" });
  assert.equal(reserved.status, 401);
  assert.equal((reserved.body as Json).error, "not_authorised");

  const args = { "alternate-exchange": "ae" };
  await t.api.expect("PUT", `/exchanges/${enc(v)}/x4`, 201, {
    type: "fanout",
    durable: false,
    auto_delete: true,
    internal: true,
    arguments: args,
  });
  const x4 = await t.api.get(`/exchanges/${enc(v)}/x4`);
  assert.deepEqual(
    [x4.name, x4.vhost, x4.type, x4.durable, x4.auto_delete, x4.internal, x4.arguments],
    ["x4", v, "fanout", false, true, true, args],
  );
  const defaults = await t.api.get(`/exchanges/${enc(v)}/amq.default`);
  assert.deepEqual([defaults.name, defaults.type, defaults.durable], ["", "direct", true]);

  const listed = names(await t.api.list(`/exchanges/${enc(v)}`));
  for (const n of ["", "amq.direct", "amq.fanout", "amq.headers", "amq.match", "amq.topic"]) {
    assert.ok(listed.includes(n), n);
  }
  assert.ok(["x1", "x3", "x4"].every((n) => listed.includes(n)));

  // Deleting: in use (bound as a source) with if-unused, then for real; the default exchange and
  // amq.* ones cannot be deleted.
  await t.api.expect("PUT", `/queues/${enc(v)}/q`, 201, {});
  await t.api.expect("POST", `/bindings/${enc(v)}/e/x1/q/q`, 201, { routing_key: "k" });
  const inUse = await t.api.del(`${x}?if-unused=true`);
  assert.equal(inUse.status, 400);
  assert.deepEqual(inUse.body, {
    error: "bad_request",
    reason: `exchange 'x1' in vhost '${v}' in use`,
  });
  assert.equal((await t.api.del(x)).status, 204);
  assert.equal((await t.api.del(x)).status, 404);
  assert.deepEqual((await t.api.call("GET", x)).body, NOT_FOUND);
  assert.equal((await t.api.del(`/exchanges/${enc(v)}/x3?if-unused=true`)).status, 204);
  for (const name of ["amq.default", "amq.direct"]) {
    const r = await t.api.del(`/exchanges/${enc(v)}/${name}`);
    assert.equal(r.status, 401, name);
    assert.equal((r.body as Json).error, "not_authorised");
  }
  // A vhost that does not exist.
  const novhost = await t.api.put(`/exchanges/${enc(unique("novhost"))}/x`, { type: "direct" });
  assert.equal(novhost.status, 404);
});

apiTest("exchanges: publish answers routed true or false", async (t) => {
  const v = await t.vhost("pub");
  await t.api.expect("PUT", `/exchanges/${enc(v)}/x`, 201, { type: "topic" });
  await t.api.expect("PUT", `/queues/${enc(v)}/q`, 201, {});
  const msg = (routingKey: string) => ({
    routing_key: routingKey,
    properties: {},
    payload: "hi",
    payload_encoding: "string",
  });
  const publish = (exchange: string, body: unknown) =>
    t.api.expect("POST", `/exchanges/${enc(v)}/${exchange}/publish`, 200, body);

  assert.deepEqual(await publish("x", msg("a.b")), { routed: false });
  await t.api.expect("POST", `/bindings/${enc(v)}/e/x/q/q`, 201, { routing_key: "a.*" });
  assert.deepEqual(await publish("x", msg("a.b")), { routed: true });
  assert.deepEqual(await publish("x", msg("b.b")), { routed: false });
  assert.deepEqual(await publish("amq.default", msg("q")), { routed: true });
  assert.deepEqual(await publish("amq.default", msg("no-such-queue")), { routed: false });
  assert.deepEqual(
    await publish("amq.default", { ...msg("q"), payload: "AAEC/w==", payload_encoding: "base64" }),
    { routed: true },
  );
  await t.eventually(async () =>
    assert.equal((await t.api.get(`/queues/${enc(v)}/q`)).messages, 3)
  );

  const noEncoding = await t.api.post(`/exchanges/${enc(v)}/x/publish`, {
    routing_key: "a.b",
    properties: {},
    payload: "x",
  });
  assert.equal(noEncoding.status, 400);
  assert.deepEqual(noEncoding.body, {
    error: "bad_request",
    reason: "[{key_missing,payload_encoding}]",
  });
  const badBase64 = await t.api.post(`/exchanges/${enc(v)}/x/publish`, {
    ...msg("a.b"),
    payload: "!!!",
    payload_encoding: "base64",
  });
  assert.equal(badBase64.status, 400);
  // Publishing is a POST.
  const get = await t.api.call("GET", `/exchanges/${enc(v)}/x/publish`);
  assert.equal(get.status, 405);
  assert.match(get.headers.get("allow") ?? "", /POST/);
});

// ---------------------------------------------------------------------------------------------
// Queues

apiTest("queues: declare, inequivalent redeclare, fields and counts", async (t) => {
  const v = await t.vhost("q");
  const q = `/queues/${enc(v)}/q`;
  const args = { "x-message-ttl": 60000, "x-max-length": 100 };
  assert.equal((await t.api.put(q, { durable: true, arguments: args })).status, 201);
  assert.equal((await t.api.put(q, { durable: true, arguments: args })).status, 204);
  const ttl = await t.api.put(q, { durable: true, arguments: { ...args, "x-message-ttl": 5 } });
  assert.equal(ttl.status, 400);
  assert.deepEqual(ttl.body, {
    error: "bad_request",
    reason:
      `inequivalent arg 'x-message-ttl' for queue 'q' in vhost '${v}': received '5' but current is '60000'`,
  });
  const durable = await t.api.put(q, { durable: false, arguments: args });
  assert.equal(durable.status, 400);
  assert.deepEqual(durable.body, {
    error: "bad_request",
    reason:
      `inequivalent arg 'durable' for queue 'q' in vhost '${v}': received 'false' but current is 'true'`,
  });
  for (const [body, reason] of [["not json", "not_json"], ["[1]", "not_json"]]) {
    const r = await t.api.call("PUT", `/queues/${enc(v)}/bad`, undefined, { raw: body });
    assert.equal(r.status, 400, body);
    assert.deepEqual(r.body, { error: "bad_request", reason }, body);
  }
  const reserved = await t.api.put(`/queues/${enc(v)}/amq.q`, {});
  assert.equal(reserved.status, 401);

  const row = await t.api.get(q);
  assert.deepEqual(
    [row.name, row.vhost, row.durable, row.auto_delete, row.exclusive, row.arguments],
    ["q", v, true, false, false, args],
  );
  assert.equal(row.type, "classic");
  // (RabbitMQ fills in state and the counts with its first statistics event)
  await t.eventually(async () => {
    const r = await t.api.get(q);
    assert.equal(r.state, "running");
    assert.deepEqual(
      [r.messages, r.messages_ready, r.messages_unacknowledged, r.consumers],
      [0, 0, 0, 0],
    );
  });

  // Three messages; one fetched and left unacknowledged; then a consumer.
  const client = await amqpClient(t, t.amqpUrl(v));
  const ch = await client.channel();
  for (const m of ["a", "b", "c"]) ch.sendToQueue("q", Buffer.from(m));
  await ch.checkQueue("q");
  const got = await ch.get("q", { noAck: false });
  assert.ok(got);
  await t.eventually(async () => {
    const r = await t.api.get(q);
    assert.deepEqual(
      [r.messages, r.messages_ready, r.messages_unacknowledged, r.consumers],
      [3, 2, 1, 0],
    );
  });
  const consumerCh = await client.channel();
  await consumerCh.prefetch(1);
  await consumerCh.consume("q", () => {}, { noAck: false });
  await t.eventually(async () => {
    const r = await t.api.get(q);
    assert.equal(r.consumers, 1);
    assert.equal((r.consumer_details as Json[]).length, 1);
  });
  const listed = (await t.api.list(`/queues/${enc(v)}`)).find((r) => r.name === "q")!;
  assert.equal(listed.consumers, 1);

  // In use: if-unused refuses; if-empty too while messages are there.
  const inUse = await t.api.del(`${q}?if-unused=true`);
  assert.equal(inUse.status, 400);
  assert.deepEqual(inUse.body, {
    error: "bad_request",
    reason: `queue 'q' in vhost '${v}' in use`,
  });
  const notEmpty = await t.api.del(`${q}?if-empty=true`);
  assert.equal(notEmpty.status, 400);
  assert.deepEqual(notEmpty.body, {
    error: "bad_request",
    reason: `queue 'q' in vhost '${v}' not empty`,
  });
  await client.close();

  // Purge (DELETE …/contents) empties it; then the conditional deletes succeed.
  await t.eventually(async () => assert.equal((await t.api.get(q)).messages_unacknowledged, 0));
  assert.equal((await t.api.del(`${q}/contents`)).status, 204);
  await t.eventually(async () => assert.equal((await t.api.get(q)).messages, 0));
  assert.equal((await t.api.del(`${q}?if-empty=true&if-unused=true`)).status, 204);
  assert.equal((await t.api.del(q)).status, 404);
  assert.equal((await t.api.del(`${q}/contents`)).status, 404);
  assert.deepEqual((await t.api.call("GET", q)).body, NOT_FOUND);
});

apiTest("queues and exchanges: invalid x-arguments are refused with 400", async (t) => {
  const v = await t.vhost("args");
  const cases: [string, Json][] = [
    ["x-message-ttl", { "x-message-ttl": "abc" }],
    ["x-message-ttl", { "x-message-ttl": -5 }],
    ["x-message-ttl", { "x-message-ttl": 1.5 }],
    ["x-expires", { "x-expires": 0 }],
    ["x-max-length", { "x-max-length": "x" }],
    ["x-max-priority", { "x-max-priority": 300 }],
    ["x-overflow", { "x-overflow": "nope" }],
    ["x-dead-letter-exchange", { "x-dead-letter-exchange": 5 }],
  ];
  for (const [i, [arg, args]] of cases.entries()) {
    const r = await t.api.put(`/queues/${enc(v)}/bad-${i}`, { arguments: args });
    const what = JSON.stringify(args);
    assert.equal(r.status, 400, `${what}: ${r.status}`);
    assert.equal((r.body as Json).error, "bad_request", what);
    // e.g. "invalid arg 'x-expires' for queue 'bad-3' in vhost 'V': {value_zero,0}"
    assert.match(String((r.body as Json).reason), new RegExp(`'${arg}'.*queue 'bad-${i}'`), what);
    assert.equal((await t.api.call("GET", `/queues/${enc(v)}/bad-${i}`)).status, 404, what);
  }
  const ae = await t.api.put(`/exchanges/${enc(v)}/bad-x`, {
    arguments: { "alternate-exchange": 5 },
  });
  assert.equal(ae.status, 400);
  assert.match(String((ae.body as Json).reason), /'alternate-exchange'.*exchange 'bad-x'/);
});

apiTest("queues: get with each ackmode, and string or base64 payloads", async (t) => {
  const v = await t.vhost("get");
  const q = `/queues/${enc(v)}/q`;
  await t.api.expect("PUT", q, 201, {});
  const properties = {
    delivery_mode: 2,
    headers: { h: "v", n: 3 },
    content_type: "text/plain",
    message_id: "m1",
  };
  const publish = (body: Json) =>
    t.api.expect("POST", `/exchanges/${enc(v)}/amq.default/publish`, 200, {
      routing_key: "q",
      ...body,
    });
  await publish({ properties, payload: "hello", payload_encoding: "string" });
  await publish({ properties: {}, payload: "AAEC/w==", payload_encoding: "base64" });
  const get = (ackmode: string, extra: Json = {}) =>
    t.api.expect<Json[]>("POST", `${q}/get`, 200, {
      count: 5,
      ackmode,
      encoding: "auto",
      ...extra,
    });

  // auto: text as a string, binary as base64; ack_requeue_true puts them back.
  const first = await get("ack_requeue_true");
  assert.equal(first.length, 2);
  assert.deepEqual(
    first.map((
      m,
    ) => [m.payload, m.payload_encoding, m.payload_bytes, m.redelivered, m.message_count]),
    [["hello", "string", 5, false, 1], ["AAEC/w==", "base64", 4, false, 0]],
  );
  assert.equal(first[0].exchange, "");
  assert.equal(first[0].routing_key, "q");
  assert.deepEqual(first[0].properties, properties);

  // base64 for everything; redelivered now.
  const again = await get("ack_requeue_true", { encoding: "base64" });
  assert.deepEqual(again.map((m) => [m.payload, m.payload_encoding, m.redelivered]), [
    ["aGVsbG8=", "base64", true],
    ["AAEC/w==", "base64", true],
  ]);

  // reject_requeue_true keeps it; truncate cuts the payload, not payload_bytes.
  const truncated = await get("reject_requeue_true", { count: 1, truncate: 3 });
  assert.deepEqual(truncated.map((m) => [m.payload, m.payload_bytes]), [["hel", 5]]);
  await t.eventually(async () => assert.equal((await t.api.get(q)).messages, 2));

  // ack_requeue_false takes one; reject_requeue_false the other; then there is nothing.
  assert.deepEqual((await get("ack_requeue_false", { count: 1 })).map((m) => m.payload), [
    "hello",
  ]);
  assert.deepEqual((await get("reject_requeue_false", { count: 1 })).map((m) => m.payload), [
    "AAEC/w==",
  ]);
  assert.deepEqual(await get("ack_requeue_false"), []);
  await t.eventually(async () => assert.equal((await t.api.get(q)).messages, 0));

  const badEncoding = await t.api.post(`${q}/get`, {
    count: 1,
    ackmode: "ack_requeue_true",
    encoding: "utf-16",
  });
  assert.equal(badEncoding.status, 400);
  assert.equal((badEncoding.body as Json).error, "bad_request");
  const missing = await t.api.post(`/queues/${enc(v)}/nope/get`, {
    count: 1,
    ackmode: "ack_requeue_true",
    encoding: "auto",
  });
  assert.equal(missing.status, 404);
});

// ---------------------------------------------------------------------------------------------
// Bindings

apiTest("bindings: create (201 + Location), list, get and delete by properties key", async (t) => {
  const v = await t.vhost("bind");
  const V = enc(v);
  await t.api.expect("PUT", `/queues/${V}/bq`, 201, {});
  await t.api.expect("PUT", `/exchanges/${V}/bx`, 201, { type: "topic" });
  await t.api.expect("PUT", `/exchanges/${V}/hx`, 201, { type: "headers" });

  const simple = await t.api.post(`/bindings/${V}/e/bx/q/bq`, { routing_key: "a.*" });
  assert.equal(simple.status, 201);
  assert.equal(simple.headers.get("location"), "bq/a.%252A");
  const empty = await t.api.post(`/bindings/${V}/e/bx/q/bq`, {});
  assert.equal(empty.headers.get("location"), "bq/~");
  const e2e = await t.api.post(`/bindings/${V}/e/bx/e/hx`, { routing_key: "k k/2" });
  assert.equal(e2e.status, 201);
  assert.equal(e2e.headers.get("location"), "hx/k%2Bk%252F2");
  const withArgs = await t.api.post(`/bindings/${V}/e/hx/q/bq`, {
    routing_key: "k",
    arguments: { "x-match": "any", h: 1 },
  });
  assert.equal(withArgs.status, 201);
  // The arguments' hash differs from RabbitMQ's; the Location must lead to the binding anyway.
  const location = withArgs.headers.get("location")!;
  assert.match(location, /^bq\/k~[A-Za-z0-9_-]+$/);

  const between = await t.api.list(`/bindings/${V}/e/bx/q/bq`);
  const sorted = (rows: Json[]) =>
    rows.map((b) => [b.routing_key, b.properties_key]).sort((a, b) =>
      String(a[0]).localeCompare(String(b[0]))
    );
  assert.deepEqual(sorted(between), [["", "~"], ["a.*", "a.%2A"]]);
  assert.deepEqual(between.find((b) => b.routing_key === "a.*"), {
    source: "bx",
    vhost: v,
    destination: "bq",
    destination_type: "queue",
    routing_key: "a.*",
    arguments: {},
    properties_key: "a.%2A",
  });
  const byArgs = await t.api.get(`/bindings/${V}/e/hx/q/${location}`);
  assert.deepEqual([byArgs.routing_key, byArgs.arguments], ["k", { "x-match": "any", h: 1 }]);
  const ex = await t.api.list(`/bindings/${V}/e/bx/e/hx`);
  assert.deepEqual(ex.map((b) => [b.destination_type, b.routing_key, b.properties_key]), [
    ["exchange", "k k/2", "k+k%2F2"],
  ]);

  // The other listings.
  const ofQueue = await t.api.list(`/queues/${V}/bq/bindings`);
  assert.equal(ofQueue.length, 4);
  assert.ok(ofQueue.some((b) => b.source === "" && b.routing_key === "bq"), "default binding");
  assert.equal((await t.api.list(`/exchanges/${V}/bx/bindings/source`)).length, 3);
  assert.equal((await t.api.list(`/exchanges/${V}/hx/bindings/destination`)).length, 1);
  assert.equal((await t.api.list(`/bindings/${V}`)).length, 5);
  assert.deepEqual(
    (await t.api.list(`/bindings/${V}/e/amq.default/q/bq`)).map((b) => b.properties_key),
    ["bq"],
  );

  // Deleting by properties key (percent-encoded once more in the path).
  const del = (path: string) => t.api.del(`/bindings/${V}/e/${path}`);
  assert.equal((await del(`bx/q/bq/${enc("a.%2A")}`)).status, 204);
  assert.equal((await del(`bx/q/bq/${enc("a.%2A")}`)).status, 404);
  assert.equal((await del("bx/q/bq/~")).status, 204);
  assert.equal((await del(`bx/e/hx/${enc("k+k%2F2")}`)).status, 204);
  assert.equal((await del(`hx/q/${location}`)).status, 204);
  assert.deepEqual((await t.api.call("GET", `/bindings/${V}/e/bx/q/bq/~`)).body, NOT_FOUND);
  assert.equal((await t.api.list(`/bindings/${V}`)).length, 1);

  // Binding to a queue that does not exist; binding the default exchange.
  const noQueue = await t.api.post(`/bindings/${V}/e/bx/q/nope`, { routing_key: "k" });
  assert.equal(noQueue.status, 404);
  const dflt = await t.api.post(`/bindings/${V}/e/amq.default/q/bq`, { routing_key: "z" });
  assert.equal(dflt.status, 401);
});

// ---------------------------------------------------------------------------------------------
// Users, vhosts, permissions

apiTest("users: password, RabbitMQ password hash, tags, delete", async (t) => {
  const v = await t.vhost("users");
  const name = unique("u");
  const path = `/users/${enc(name)}`;
  t.onClose(() => t.api.del(path));
  assert.equal(
    (await t.api.put(path, { password: "pw1", tags: "management,monitoring" })).status,
    201,
  );
  let row = await t.api.get(path);
  assert.deepEqual(row.tags, ["management", "monitoring"]);
  assert.equal(row.hashing_algorithm, "rabbit_password_hashing_sha256");
  assert.equal(atob(row.password_hash as string).length, 36, "4-byte salt + SHA-256");
  assert.deepEqual(row.limits, {});
  assert.equal((await t.api.as(name, "pw1").get("/whoami")).name, name);

  assert.equal((await t.api.put(path, { password: "pw2", tags: ["management"] })).status, 204);
  row = await t.api.get(path);
  assert.deepEqual(row.tags, ["management"]);
  assert.equal((await t.api.as(name, "pw1").call("GET", "/whoami")).status, 401);
  assert.deepEqual((await t.api.as(name, "pw2").get("/whoami")).tags, ["management"]);
  const listed = (await t.api.list("/users")).find((u) => u.name === name)!;
  assert.deepEqual(Object.keys(listed).sort(), [
    "hashing_algorithm",
    "limits",
    "name",
    "password_hash",
    "tags",
  ]);

  // A hash RabbitMQ made (salted SHA-256 of "s3cret"): kept as given, and it logs in over AMQP.
  const hash = "5VZM6DW5Hid3nwJJDcQj/jQSGrG/9QkEpnbWQKm6bTh0ifuw";
  const hashcheck = unique("hashcheck");
  const hpath = `/users/${enc(hashcheck)}`;
  t.onClose(() => t.api.del(hpath));
  assert.equal((await t.api.put(hpath, { password_hash: hash, tags: "" })).status, 201);
  const hrow = await t.api.get(hpath);
  assert.deepEqual(
    [hrow.password_hash, hrow.hashing_algorithm, hrow.tags],
    [hash, "rabbit_password_hashing_sha256", []],
  );
  await t.api.expect("PUT", `/permissions/${enc(v)}/${enc(hashcheck)}`, 201, ALL);
  const ok = await amqpClient(t, t.amqpUrl(v, hashcheck, "s3cret"));
  await (await ok.channel()).assertQueue("", { exclusive: true }); // a working session
  await ok.close();
  await assert.rejects(amqp.connect(t.amqpUrl(v, hashcheck, "wrong")), /ACCESS_REFUSED|403/);
  // Over HTTP the password is right too; only the tag is missing.
  const http = await t.api.as(hashcheck, "s3cret").call("GET", "/whoami");
  assert.deepEqual(http.body, { error: "not_authorised", reason: "Not management user" });

  // Both a password and a hash, or a hash that is not one: 400.
  const both = await t.api.put(`/users/${enc(unique("x"))}`, {
    password: "a",
    password_hash: hash,
    tags: "",
  });
  assert.equal(both.status, 400);
  const notBase64 = await t.api.put(`/users/${enc(unique("x"))}`, {
    password_hash: "abc",
    tags: "",
  });
  assert.equal(notBase64.status, 400);
  // An empty hash: the user cannot log in with any password.
  const locked = await t.user("locked", "management");
  await t.api.expect("PUT", `/users/${enc(locked)}`, 204, {
    password_hash: "",
    tags: "management",
  });
  assert.equal((await t.api.as(locked, "pw").call("GET", "/whoami")).status, 401);
  assert.equal((await t.api.as(locked, "").call("GET", "/whoami")).status, 401);

  // Deleting.
  assert.equal((await t.api.del(path)).status, 204);
  assert.equal((await t.api.del(path)).status, 404);
  assert.deepEqual((await t.api.call("GET", path)).body, NOT_FOUND);
  assert.equal((await t.api.as(name, "pw2").call("GET", "/whoami")).status, 401);
});

apiTest("vhosts: create, update, %2F in names, delete with its queues", async (t) => {
  const name = `${unique("a")}/b`;
  const path = `/vhosts/${enc(name)}`;
  t.onClose(() => t.api.del(path));
  assert.match(path, /%2Fb$/);
  assert.equal((await t.api.put(path, { description: "d", tags: "t1,t2" })).status, 201);
  assert.equal((await t.api.put(path, { description: "d2", tags: ["t3"] })).status, 204);
  const row = await t.api.get(path);
  assert.deepEqual(
    [row.name, row.description, row.tags, row.metadata],
    [name, "d2", ["t3"], { description: "d2", tags: ["t3"] }],
  );
  assert.equal(row.tracing, false);
  assert.ok(names(await t.api.list("/vhosts")).includes(name));
  assert.deepEqual((await t.api.get("/vhosts/%2F")).name, "/");

  await t.api.put(`/permissions/${enc(name)}/guest`, ALL);
  await t.api.expect("PUT", `/queues/${enc(name)}/q`, 201, { durable: true });
  assert.deepEqual(names(await t.api.list(`/queues/${enc(name)}`)), ["q"]);
  const client = await amqpClient(t, t.amqpUrl(name));
  assert.equal((await (await client.channel()).checkQueue("q")).queue, "q");
  await client.close();

  assert.equal((await t.api.del(path)).status, 204);
  assert.deepEqual((await t.api.call("GET", path)).body, NOT_FOUND);
  assert.equal((await t.api.call("GET", `/queues/${enc(name)}/q`)).status, 404);
  assert.equal((await t.api.del(path)).status, 404);
});

apiTest("vhosts: the user who creates one gets full permissions on it", async (t) => {
  const name = unique("mine");
  await t.api.expect("PUT", `/vhosts/${enc(name)}`, 201, {});
  t.onClose(() => t.api.del(`/vhosts/${enc(name)}`));
  const perms = await t.api.call("GET", `/permissions/${enc(name)}/guest`);
  assert.equal(perms.status, 200, "RabbitMQ grants the creator .* .* .*");
  assert.deepEqual(perms.body, { user: "guest", vhost: name, ...ALL });
  assert.equal((await t.api.put(`/queues/${enc(name)}/q`, {})).status, 201);
});

apiTest("permissions: set, update, list, delete", async (t) => {
  const v = await t.vhost("perm");
  const user = await t.user("perm", "management");
  const path = `/permissions/${enc(v)}/${enc(user)}`;
  const perms = { configure: "^c", write: "^w", read: "^r" };
  assert.equal((await t.api.put(path, perms)).status, 201);
  assert.deepEqual(await t.api.get(path), { user, vhost: v, ...perms });
  assert.equal((await t.api.put(path, ALL)).status, 204);
  assert.deepEqual(await t.api.get(path), { user, vhost: v, ...ALL });

  assert.deepEqual(await t.api.list(`/users/${enc(user)}/permissions`), [
    { user, vhost: v, ...ALL },
  ]);
  const ofVhost = await t.api.list(`/vhosts/${enc(v)}/permissions`);
  assert.deepEqual(ofVhost.map((p) => p.user).sort(), ["guest", user].sort());
  assert.ok((await t.api.list("/permissions")).some((p) => p.user === user && p.vhost === v));
  // The user now sees the vhost.
  assert.deepEqual(names(await t.api.as(user, "pw").list("/vhosts")), [v]);

  const missing = await t.api.put(path, { configure: ".*" });
  assert.equal(missing.status, 400);
  assert.match(String((missing.body as Json).reason), /key_missing,write/);
  for (
    const p of [
      `/permissions/${enc(v)}/${enc(unique("nobody"))}`,
      `/permissions/${enc(unique("nov"))}/${enc(user)}`,
    ]
  ) {
    const r = await t.api.put(p, ALL);
    assert.equal(r.status, 400, p);
    assert.deepEqual(r.body, { error: "bad_request", reason: "vhost_or_user_not_found" });
  }

  assert.equal((await t.api.del(path)).status, 204);
  assert.equal((await t.api.del(path)).status, 404);
  assert.deepEqual((await t.api.call("GET", path)).body, NOT_FOUND);
  assert.deepEqual(await t.api.list(`/users/${enc(user)}/permissions`), []);
});

// ---------------------------------------------------------------------------------------------
// Connections

apiTest("connections: listed, and DELETE closes them with 320 and the X-Reason text", async (t) => {
  const v = await t.vhost("conn");
  const label = unique("conn");
  const client = await amqpClient(t, t.amqpUrl(v), label);
  await client.channel();
  const row = await t.eventually(async () => {
    const rows = (await t.api.list("/connections")).filter((c) => c.user_provided_name === label);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].channels, 1);
    return rows[0];
  });
  assert.deepEqual(
    [row.user, row.vhost, row.protocol, row.state, row.type, row.port],
    ["guest", v, "AMQP 0-9-1", "running", "network", t.amqpPort],
  );
  assert.equal(typeof row.peer_port, "number");
  assert.equal(typeof row.peer_host, "string");
  assert.equal((row.client_properties as Json).connection_name, label);
  const name = row.name as string;
  assert.match(name, / -> /);
  const cpath = `/connections/${enc(name)}`;
  assert.equal((await t.api.get(cpath)).user_provided_name, label);
  assert.deepEqual(names(await t.api.list(`/vhosts/${enc(v)}/connections`)), [name]);
  const channels = await t.api.list(`${cpath}/channels`);
  assert.equal(channels.length, 1);
  assert.equal((channels[0].connection_details as Json).name, name);

  const closed = await t.api.del(cpath, { headers: { "X-Reason": "bye from the test" } });
  assert.equal(closed.status, 204);
  assert.ok(await client.waitClosed(5000), "the client saw the connection close");
  assert.equal(client.closeError?.code, 320);
  assert.equal(replyText(client.closeError), "CONNECTION_FORCED - bye from the test");
  await t.eventually(async () => assert.equal((await t.api.call("GET", cpath)).status, 404));

  // Without X-Reason, RabbitMQ's default text.
  const other = await amqpClient(t, t.amqpUrl(v), `${label}-2`);
  const second = await t.eventually(async () => {
    const rows = await t.api.list(`/vhosts/${enc(v)}/connections`);
    assert.equal(rows.length, 1);
    return rows[0].name as string;
  });
  assert.equal((await t.api.del(`/connections/${enc(second)}`)).status, 204);
  assert.ok(await other.waitClosed(5000));
  assert.equal(replyText(other.closeError), "CONNECTION_FORCED - Closed via management plugin");
  assert.equal((await t.api.del(`/connections/${enc("1.2.3.4:5 -> 6.7.8.9:10")}`)).status, 404);
});

// ---------------------------------------------------------------------------------------------
// Pagination, filtering, sorting

apiTest("pagination: pages, name filter, regex, sort, columns, bad parameters", async (t) => {
  const v = await t.vhost("page");
  const V = enc(v);
  for (let i = 1; i <= 25; i++) {
    await t.api.expect("PUT", `/queues/${V}/pq-${String(i).padStart(2, "0")}`, 201, {});
  }
  const page = async (query: string): Promise<Json & { items: unknown[] }> => {
    const body = await t.api.get(`/queues/${V}?${query}`);
    return { ...body, items: names(body.items as Json[]) };
  };
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `pq-${String(from + i).padStart(2, "0")}`);

  assert.deepEqual(await page("page=2&page_size=10"), {
    total_count: 25,
    item_count: 10,
    filtered_count: 25,
    page: 2,
    page_size: 10,
    page_count: 3,
    items: range(11, 20),
  });
  assert.deepEqual(await page("page=3&page_size=10"), {
    total_count: 25,
    item_count: 5,
    filtered_count: 25,
    page: 3,
    page_size: 10,
    page_count: 3,
    items: range(21, 25),
  });
  // The page just past the end is empty; the next one is out of range.
  assert.deepEqual((await page("page=6&page_size=5")).items, []);
  const outOfRange = await t.api.call("GET", `/queues/${V}?page=4&page_size=10`);
  assert.equal(outOfRange.status, 400);
  assert.deepEqual(outOfRange.body, {
    error: "page_out_of_range",
    reason: "Page out of range, page: 4 page size: 10, len: 25",
  });
  // The default page size is 100.
  const first = await page("page=1");
  assert.deepEqual([first.page_size, first.page_count, first.item_count], [100, 1, 25]);

  // name: a case-insensitive substring, or with use_regex a regular expression.
  const sub = await page("page=1&page_size=10&name=pq-1");
  assert.deepEqual(
    [sub.filtered_count, sub.total_count, sub.page_count, sub.items],
    [10, 25, 1, range(10, 19)],
  );
  assert.deepEqual((await page("page=1&page_size=10&name=PQ-2")).items, range(20, 25));
  const re = await page(`page=1&page_size=10&name=${enc("^pq-0[1-3]$")}&use_regex=true`);
  assert.deepEqual([re.filtered_count, re.items], [3, range(1, 3)]);
  const none = await page("page=1&name=zzz");
  assert.deepEqual([none.filtered_count, none.item_count, none.page_count, none.items], [
    0,
    0,
    0,
    [],
  ]);
  // Without page, name filters nothing and the answer is a plain list.
  assert.equal((await t.api.list(`/queues/${V}?name=pq-1`)).length, 25);

  // sort and sort_reverse; columns.
  assert.deepEqual((await page("page=1&page_size=5&sort=name&sort_reverse=true")).items, [
    "pq-25",
    "pq-24",
    "pq-23",
    "pq-22",
    "pq-21",
  ]);
  const cols = await t.api.list(`/queues/${V}?columns=name,vhost&sort=name&sort_reverse=true`);
  assert.equal(cols.length, 25);
  assert.deepEqual(cols[0], { name: "pq-25", vhost: v });
  // Sorting by a counter (messages), ties in name order.
  await t.api.expect("POST", `/exchanges/${V}/amq.default/publish`, 200, {
    routing_key: "pq-07",
    properties: {},
    payload: "x",
    payload_encoding: "string",
  });
  await t.eventually(async () => {
    const byMessages = await page("page=1&page_size=2&sort=messages&sort_reverse=true");
    assert.deepEqual(byMessages.items[0], "pq-07");
  });

  // Bad parameters.
  for (
    const [query, error] of [
      ["page=0", "invalid_pagination_parameters"],
      ["page=1&page_size=501", "invalid_pagination_parameters"],
      ["page=x", "bad_request"],
    ]
  ) {
    const r = await t.api.call("GET", `/queues/${V}?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal((r.body as Json).error, error, query);
  }
  const bad = await t.api.call("GET", `/queues/${V}?page=1&page_size=501`);
  assert.deepEqual(bad.body, {
    error: "invalid_pagination_parameters",
    reason: "Invalid pagination parameters: page number 1, page size 501",
  });
  assert.deepEqual((await t.api.call("GET", `/queues/${V}?page=x`)).body, {
    error: "bad_request",
    reason: "Pagination parameters are invalid",
  });
});

// ---------------------------------------------------------------------------------------------
// 404 and 405

apiTest("unknown paths and objects are 404 JSON; wrong methods 405 with Allow", async (t) => {
  const v = await t.vhost("nf");
  const V = enc(v);
  for (
    const path of [
      "/nothing",
      `/queues/${V}/nope`,
      `/queues/${enc(unique("nov"))}`,
      `/queues/${enc(unique("nov"))}/q`,
      `/exchanges/${V}/nope`,
      `/vhosts/${enc(unique("nov"))}`,
      `/users/${enc(unique("nobody"))}`,
      `/permissions/${V}/${enc(unique("nobody"))}`,
      `/connections/${enc("nope")}`,
      `/channels/${enc("nope (1)")}`,
    ]
  ) {
    const r = await t.api.call("GET", path);
    assert.equal(r.status, 404, path);
    assert.deepEqual(r.body, NOT_FOUND, path);
    assert.match(r.headers.get("content-type") ?? "", /application\/json/, path);
  }
  // Outside /api too, and without credentials.
  const root = await fetch(`${t.api.base}/no-such-page`);
  assert.equal(root.status, 404);
  await root.body?.cancel();
  assert.equal((await t.api.call("GET", "/nothing", undefined, { anonymous: true })).status, 404);

  for (
    const [method, path, allowed] of [
      ["PATCH", "/queues", "GET"],
      ["POST", "/queues/%2F/q", "PUT"],
      ["GET", "/exchanges/%2F/amq.default/publish", "POST"],
      ["PUT", "/overview", "GET"],
      ["DELETE", "/whoami", "GET"],
    ]
  ) {
    const r = await t.api.call(method, path);
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.ok((r.headers.get("allow") ?? "").includes(allowed), `${method} ${path}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Scale

apiTest("10,000 queues: a paginated listing answers quickly", async (t) => {
  const service = t.broker!.server.service;
  service.addVhost("many");
  service.setPermissions("guest", "many", ".*", ".*", ".*");
  const noArgs = { durable: false, autoDelete: false, arguments: {} };
  for (let i = 0; i < 10_000; i++) {
    service.declareQueue("many", `q-${String(i).padStart(5, "0")}`, noArgs);
  }
  const timed = async (path: string) => {
    const start = performance.now();
    const body = await t.api.get(path);
    const ms = performance.now() - start;
    assert.ok(ms < 2000, `${path}: ${ms.toFixed(0)} ms`);
    return body;
  };
  const p = await timed("/queues/many?page=50&page_size=100");
  assert.deepEqual([p.total_count, p.filtered_count, p.page_count, p.item_count], [
    10_000,
    10_000,
    100,
    100,
  ]);
  assert.equal((p.items as Json[])[0].name, "q-04900");
  const all = await timed("/queues?page=1&page_size=100&sort=messages&sort_reverse=true");
  assert.equal(all.total_count, 10_000);
  const re = await timed(`/queues/many?page=1&page_size=10&name=${enc("^q-0999")}&use_regex=true`);
  assert.equal(re.filtered_count, 10);
  assert.equal((await timed("/overview")).object_totals !== undefined, true);
  await timed("/queues/many?page=1&page_size=500&columns=name,messages");
}, { inProcessOnly: true });
