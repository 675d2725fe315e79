/**
 * Definitions (RabbitMQ's JSON of users, vhosts, permissions, queues, exchanges and bindings)
 * through the management API and the CLI:
 *
 * - export from one broker, import into a fresh one: the same users (password hashes included),
 *   vhosts, permissions, and durable queues, exchanges and bindings with their arguments;
 * - a file in RabbitMQ 3.10's format, written here in the shape of a real export (users with
 *   hashing_algorithm, tags lists and limits; vhosts with metadata and limits; topic permissions,
 *   parameters, global parameters and policies; queue arguments as numbers; bindings with
 *   destination_type), imports;
 * - per-vhost export and import, refusals, and the offline CLI round trip
 *   (`definitions export FILE --data-dir D`, `definitions import FILE --data-dir D2`).
 *
 * With TEST_ADMIN_URL (and TEST_AMQP_URL) pointing at a RabbitMQ 3.10 with the management plugin,
 * our export and the hand-written file are also imported into that RabbitMQ and checked there:
 *
 *   TEST_ADMIN_URL=http://127.0.0.1:15760 TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5760/ \
 *     deno test -A tests/admin/definitions_test.ts
 */
import assert from "node:assert/strict";
import amqp from "amqplib";
import { Client } from "../helpers/amqp_client.ts";
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
import type { TestBroker } from "../helpers/broker.ts";

/** RabbitMQ 3.10 made these: salted SHA-256 of "s3cret" and of "pw". */
const HASH_S3CRET = "5VZM6DW5Hid3nwJJDcQj/jQSGrG/9QkEpnbWQKm6bTh0ifuw";
const HASH_PW = "fZ7ffLgfZf7Q2FM7B5Kppbclb8apjaEiptplgvNnyLaZEbh+";
const ALL = { configure: ".*", write: ".*", read: ".*" };

/** The names one test uses (unique, so the reference RabbitMQ can be shared). */
interface Names {
  vhost: string;
  /** A vhost with a slash in its name. */
  slash: string;
  /** Password "pw", tags management and policymaker. */
  user: string;
  /** Password "s3cret", no tags. */
  hashcheck: string;
}

function namesFor(prefix: string): Names {
  const s = crypto.randomUUID().slice(0, 8);
  return {
    vhost: `${prefix}-${s}`,
    slash: `${prefix}-${s}/b`,
    user: `defuser-${s}`,
    hashcheck: `hashcheck-${s}`,
  };
}

const DQ_ARGS = {
  "x-dead-letter-exchange": "dlx",
  "x-dead-letter-routing-key": "dead",
  "x-max-length": 10,
  "x-message-ttl": 60000,
  "x-queue-mode": "lazy",
};
const HEADERS_ARGS = { "x-match": "all", a: 1, b: "s" };

/** Makes the test's entities through the API (of our broker). */
async function populate(api: AdminApi, n: Names): Promise<void> {
  const V = enc(n.vhost);
  const S = enc(n.slash);
  const put = async (path: string, body: unknown) => {
    const r = await api.put(path, body);
    assert.ok(r.status === 201 || r.status === 204, `PUT ${path}: ${r.status} ${r.body}`);
  };
  await put(`/vhosts/${V}`, { description: "definitions test", tags: ["t1", "t2"] });
  await put(`/vhosts/${S}`, {});
  await put(`/users/${enc(n.user)}`, { password: "pw", tags: "management,policymaker" });
  await put(`/users/${enc(n.hashcheck)}`, { password_hash: HASH_S3CRET, tags: "" });
  await put(`/permissions/${V}/guest`, ALL);
  await put(`/permissions/${S}/guest`, ALL);
  await put(`/permissions/${V}/${enc(n.hashcheck)}`, { configure: "^d", write: ".*", read: ".*" });
  await put(`/permissions/${S}/${enc(n.user)}`, ALL);

  await put(`/exchanges/${V}/ae`, { type: "fanout", durable: true, internal: true });
  await put(`/exchanges/${V}/dx`, {
    type: "topic",
    durable: true,
    arguments: { "alternate-exchange": "ae" },
  });
  await put(`/exchanges/${V}/dlx`, { type: "direct", durable: true });
  await put(`/exchanges/${V}/hx`, { type: "headers", durable: true });
  await put(`/exchanges/${V}/transient-x`, { type: "direct", durable: false });
  await put(`/queues/${V}/dq`, { durable: true, arguments: DQ_ARGS });
  await put(`/queues/${V}/pq`, { durable: true, arguments: { "x-max-priority": 5 } });
  await put(`/queues/${V}/transient-q`, { durable: false });
  await put(`/queues/${S}/sq`, { durable: true, auto_delete: false });

  const bind = async (path: string, body: unknown) => {
    const r = await api.post(`/bindings/${path}`, body);
    assert.equal(r.status, 201, `POST /bindings/${path}: ${JSON.stringify(r.body)}`);
  };
  await bind(`${V}/e/dx/q/dq`, { routing_key: "a.#", arguments: { k: "v", n: 5 } });
  await bind(`${V}/e/dx/e/ae`, { routing_key: "z" });
  await bind(`${V}/e/hx/q/dq`, { routing_key: "", arguments: HEADERS_ARGS });
  await bind(`${V}/e/dlx/q/pq`, { routing_key: "dead" });
  await bind(`${V}/e/dx/q/transient-q`, { routing_key: "t" });
  await bind(`${S}/e/amq.topic/q/sq`, { routing_key: "s.#" });
}

/** An object with its keys sorted (RabbitMQ sorts binding arguments; we keep their order). */
function sortedKeys(o: unknown): Json {
  return Object.fromEntries(Object.entries(o as Json).sort(([a], [b]) => a < b ? -1 : 1));
}

/** The test's bindings in a vhost, comparable whatever the order. */
async function bindingsOf(api: AdminApi, vhost: string): Promise<string[]> {
  const rows = await api.list(`/bindings/${enc(vhost)}`);
  return rows.filter((b) => b.source !== "").map((b) =>
    JSON.stringify([
      b.source,
      b.destination_type,
      b.destination,
      b.routing_key,
      sortedKeys(b.arguments),
    ])
  ).sort();
}

const EXPECTED_BINDINGS = [
  ["dlx", "queue", "pq", "dead", {}],
  ["dx", "exchange", "ae", "z", {}],
  ["dx", "queue", "dq", "a.#", { k: "v", n: 5 }],
  ["hx", "queue", "dq", "", HEADERS_ARGS],
].map((b) => JSON.stringify([...b.slice(0, 4), sortedKeys(b[4])])).sort();

/** Checks that a broker (ours or RabbitMQ) has the durable part of what `populate` made. */
async function verify(api: AdminApi, amqpBase: string, n: Names): Promise<void> {
  const V = enc(n.vhost);
  // Users: the hashes as they were, and they work.
  const hashcheck = await api.get(`/users/${enc(n.hashcheck)}`);
  assert.deepEqual(
    [hashcheck.password_hash, hashcheck.hashing_algorithm, hashcheck.tags],
    [HASH_S3CRET, "rabbit_password_hashing_sha256", []],
  );
  const user = await api.get(`/users/${enc(n.user)}`);
  assert.deepEqual(user.tags, ["management", "policymaker"]);
  assert.equal(user.hashing_algorithm, "rabbit_password_hashing_sha256");
  assert.equal((await api.as(n.user, "pw").get("/whoami")).name, n.user);
  const u = new URL(amqpBase);
  const client = new Client(
    await amqp.connect(
      `amqp://${enc(n.hashcheck)}:s3cret@${u.host}/${enc(n.vhost)}`,
    ) as AmqpConnection,
  );
  await client.close();

  // Vhosts and permissions.
  const vhost = await api.get(`/vhosts/${V}`);
  assert.deepEqual([vhost.description, vhost.tags], ["definitions test", ["t1", "t2"]]);
  assert.equal((await api.get(`/vhosts/${enc(n.slash)}`)).name, n.slash);
  assert.deepEqual(await api.get(`/permissions/${V}/${enc(n.hashcheck)}`), {
    user: n.hashcheck,
    vhost: n.vhost,
    configure: "^d",
    write: ".*",
    read: ".*",
  });
  assert.deepEqual(await api.get(`/permissions/${enc(n.slash)}/${enc(n.user)}`), {
    user: n.user,
    vhost: n.slash,
    ...ALL,
  });

  // Queues, exchanges and bindings with their arguments.
  const dq = await api.get(`/queues/${V}/dq`);
  assert.deepEqual([dq.durable, dq.auto_delete, dq.arguments], [true, false, DQ_ARGS]);
  assert.deepEqual((await api.get(`/queues/${V}/pq`)).arguments, { "x-max-priority": 5 });
  assert.equal((await api.get(`/queues/${enc(n.slash)}/sq`)).durable, true);
  const dx = await api.get(`/exchanges/${V}/dx`);
  assert.deepEqual([dx.type, dx.durable, dx.arguments], ["topic", true, {
    "alternate-exchange": "ae",
  }]);
  const ae = await api.get(`/exchanges/${V}/ae`);
  assert.deepEqual([ae.type, ae.internal], ["fanout", true]);
  assert.equal((await api.get(`/exchanges/${V}/hx`)).type, "headers");
  for (const b of EXPECTED_BINDINGS) {
    assert.ok((await bindingsOf(api, n.vhost)).includes(b), b);
  }
  const slashBindings = await api.list(`/bindings/${enc(n.slash)}/e/amq.topic/q/sq`);
  assert.deepEqual(slashBindings.map((b) => b.routing_key), ["s.#"]);
}

/** Deletes what a test made on the reference RabbitMQ. */
async function cleanUp(api: AdminApi, n: Names): Promise<void> {
  for (const v of [n.vhost, n.slash]) await api.del(`/vhosts/${enc(v)}`);
  for (const user of [n.user, n.hashcheck]) await api.del(`/users/${enc(user)}`);
}

/** The reference RabbitMQ's API and AMQP URL base (in reference mode). */
function referenceTarget(): { api: AdminApi; amqpBase: string } {
  const amqpUrl = new URL(Deno.env.get("TEST_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672/");
  return {
    api: new AdminApi(Deno.env.get("TEST_ADMIN_URL")!.replace(/\/+$/, "")),
    amqpBase: `amqp://guest:guest@${amqpUrl.host}`,
  };
}

/** A list sorted by its entries' JSON, for order-insensitive comparison. */
function sortedSections(doc: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(doc)) {
    out[k] = Array.isArray(v)
      ? [...v].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
      : v;
  }
  return out;
}

async function withBroker<T>(
  fn: (broker: TestBroker, api: AdminApi) => Promise<T>,
  options = {},
): Promise<T> {
  const broker = await startInProcess({ logLevel: "error", ...options });
  try {
    return await fn(broker, new AdminApi(`http://127.0.0.1:${broker.server.adminPort}`));
  } finally {
    await broker.close();
  }
}

const amqpBaseOf = (broker: TestBroker) => `amqp://guest:guest@127.0.0.1:${broker.port}`;

const testOptions = { sanitizeOps: false, sanitizeResources: false };

// ---------------------------------------------------------------------------------------------

Deno.test({
  name: "definitions: export, import into a fresh broker, the same definitions",
  ...testOptions,
  async fn(t) {
    const n = namesFor("defs");
    const exported = await withBroker(async (_broker, api) => {
      await populate(api, n);
      return await api.get("/definitions");
    });

    // The format: RabbitMQ's sections and fields.
    for (const k of ["rabbit_version", "rabbitmq_version", "product_name", "product_version"]) {
      assert.equal(typeof exported[k], "string", k);
    }
    for (const k of ["users", "vhosts", "permissions", "queues", "exchanges", "bindings"]) {
      assert.ok(Array.isArray(exported[k]), k);
    }
    for (const k of ["topic_permissions", "parameters", "global_parameters", "policies"]) {
      assert.ok(Array.isArray(exported[k]), k);
    }
    const users = exported.users as Json[];
    const hashcheck = users.find((u) => u.name === n.hashcheck)!;
    assert.deepEqual(hashcheck, {
      name: n.hashcheck,
      password_hash: HASH_S3CRET,
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: [],
      limits: {},
    });
    const vhost = (exported.vhosts as Json[]).find((v) => v.name === n.vhost)!;
    assert.deepEqual(vhost.metadata, { description: "definitions test", tags: ["t1", "t2"] });
    const dq = (exported.queues as Json[]).find((q) => q.name === "dq")!;
    assert.deepEqual(dq, {
      name: "dq",
      vhost: n.vhost,
      durable: true,
      auto_delete: false,
      arguments: DQ_ARGS,
    });
    const queueNames = (exported.queues as Json[]).map((q) => q.name).sort();
    assert.deepEqual(queueNames.filter((q) => q !== "transient-q"), ["dq", "pq", "sq"]);
    const exchangeNames = (exported.exchanges as Json[]).map((e) => e.name);
    assert.ok(!exchangeNames.some((e) => e === "" || String(e).startsWith("amq.")));
    assert.ok(["ae", "dx", "dlx", "hx"].every((e) => exchangeNames.includes(e)));
    const binding = (exported.bindings as Json[]).find((b) => b.source === "hx")!;
    assert.deepEqual(binding, {
      source: "hx",
      vhost: n.vhost,
      destination: "dq",
      destination_type: "queue",
      routing_key: "",
      arguments: HEADERS_ARGS,
    });

    await t.step("a fresh broker takes it, and exports the same document", async () => {
      await withBroker(async (broker, api) => {
        await api.expect("POST", "/definitions", 204, exported);
        await verify(api, amqpBaseOf(broker), n);
        const again = await api.get("/definitions");
        assert.deepEqual(sortedSections(again), sortedSections(exported));
        // Importing twice changes nothing.
        await api.expect("POST", "/definitions", 204, exported);
        assert.deepEqual(sortedSections(await api.get("/definitions")), sortedSections(exported));
      });
    });

    await t.step({
      name: "RabbitMQ takes it too",
      ignore: !REFERENCE,
      fn: async () => {
        const ref = referenceTarget();
        try {
          await ref.api.expect("POST", "/definitions", 204, exported);
          await verify(ref.api, ref.amqpBase, n);
          // Our hash of guest's password works there as well.
          assert.equal((await ref.api.get("/whoami")).name, "guest");
        } finally {
          await cleanUp(ref.api, n);
        }
      },
    });
  },
});

/**
 * A definitions file as RabbitMQ 3.10 writes it (`rabbitmqctl export_definitions` and
 * GET /api/definitions), for the entities `populate` makes plus the sections this broker ignores.
 */
function rabbitmq310File(n: Names): Json {
  return {
    rabbit_version: "3.10.8",
    rabbitmq_version: "3.10.8",
    product_name: "RabbitMQ",
    product_version: "3.10.8",
    users: [
      {
        name: n.user,
        password_hash: HASH_PW,
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: ["management", "policymaker"],
        limits: { "max-channels": 5 },
      },
      {
        name: n.hashcheck,
        password_hash: HASH_S3CRET,
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: [],
        limits: {},
      },
    ],
    vhosts: [
      {
        name: n.vhost,
        limits: [["max-connections", 10], ["max-queues", 100]],
        metadata: { description: "definitions test", tags: ["t1", "t2"] },
      },
      { name: n.slash, limits: [], metadata: { description: "", tags: [] } },
    ],
    permissions: [
      { user: "guest", vhost: n.vhost, ...ALL },
      { user: "guest", vhost: n.slash, ...ALL },
      { user: n.hashcheck, vhost: n.vhost, configure: "^d", write: ".*", read: ".*" },
      { user: n.user, vhost: n.slash, ...ALL },
    ],
    topic_permissions: [
      { user: n.user, vhost: n.slash, exchange: "amq.topic", write: "^a", read: ".*" },
    ],
    parameters: [
      {
        value: { "max-connections": 10, "max-queues": 100 },
        vhost: n.vhost,
        component: "vhost-limits",
        name: "limits",
      },
    ],
    global_parameters: [],
    policies: [
      {
        vhost: n.vhost,
        name: "max-length",
        pattern: "^dq$",
        "apply-to": "queues",
        definition: { "max-length": 100 },
        priority: 1,
      },
    ],
    queues: [
      {
        name: "dq",
        vhost: n.vhost,
        durable: true,
        auto_delete: false,
        arguments: DQ_ARGS,
      },
      {
        name: "pq",
        vhost: n.vhost,
        durable: true,
        auto_delete: false,
        type: "classic",
        arguments: { "x-max-priority": 5 },
      },
      { name: "sq", vhost: n.slash, durable: true, auto_delete: false, arguments: {} },
    ],
    exchanges: [
      {
        name: "dx",
        vhost: n.vhost,
        type: "topic",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: { "alternate-exchange": "ae" },
      },
      {
        name: "ae",
        vhost: n.vhost,
        type: "fanout",
        durable: true,
        auto_delete: false,
        internal: true,
        arguments: {},
      },
      {
        name: "dlx",
        vhost: n.vhost,
        type: "direct",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
      {
        name: "hx",
        vhost: n.vhost,
        type: "headers",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      },
    ],
    bindings: [
      {
        source: "dx",
        vhost: n.vhost,
        destination: "dq",
        destination_type: "queue",
        routing_key: "a.#",
        arguments: { k: "v", n: 5 },
      },
      {
        source: "dx",
        vhost: n.vhost,
        destination: "ae",
        destination_type: "exchange",
        routing_key: "z",
        arguments: {},
      },
      {
        source: "hx",
        vhost: n.vhost,
        destination: "dq",
        destination_type: "queue",
        routing_key: "",
        arguments: HEADERS_ARGS,
      },
      {
        source: "dlx",
        vhost: n.vhost,
        destination: "pq",
        destination_type: "queue",
        routing_key: "dead",
        arguments: {},
      },
      {
        source: "amq.topic",
        vhost: n.slash,
        destination: "sq",
        destination_type: "queue",
        routing_key: "s.#",
        arguments: {},
      },
    ],
  };
}

Deno.test({
  name: "definitions: a RabbitMQ 3.10 definitions file imports",
  ...testOptions,
  async fn(t) {
    const n = namesFor("rmq310");
    const file = rabbitmq310File(n);
    await t.step("into our broker", () =>
      withBroker(async (broker, api) => {
        await api.expect("POST", "/definitions", 204, file);
        await verify(api, amqpBaseOf(broker), n);
        assert.deepEqual(await bindingsOf(api, n.vhost), EXPECTED_BINDINGS);
        // As RabbitMQ's UI uploads it: a multipart form with the file.
        const form = new FormData();
        form.append(
          "file",
          new Blob([JSON.stringify(rabbitmq310File(namesFor("form")))]),
          "d.json",
        );
        const res = await fetch(`${api.base}/api/definitions`, {
          method: "POST",
          headers: { authorization: `Basic ${btoa("guest:guest")}` },
          body: form,
        });
        await res.body?.cancel();
        assert.equal(res.status, 204);
      }));
    await t.step({
      name: "into RabbitMQ (the file is valid there)",
      ignore: !REFERENCE,
      fn: async () => {
        const ref = referenceTarget();
        try {
          await ref.api.expect("POST", "/definitions", 204, file);
          await verify(ref.api, ref.amqpBase, n);
        } finally {
          await cleanUp(ref.api, n);
        }
      },
    });
  },
});

Deno.test({
  name: "definitions: per-vhost export and import; refusals; administrators only",
  ...testOptions,
  async fn() {
    const target: AdminTarget = await startAdminTarget({ logLevel: "error" });
    try {
      const api = target.api;
      const src = await target.vhost("src");
      const dst = await target.vhost("dst");
      await api.expect("PUT", `/queues/${enc(src)}/q`, 201, {
        durable: true,
        arguments: { "x-message-ttl": 1000 },
      });
      await api.expect("PUT", `/exchanges/${enc(src)}/x`, 201, { type: "fanout", durable: true });
      await api.expect("POST", `/bindings/${enc(src)}/e/x/q/q`, 201, { routing_key: "r" });

      const doc = await api.get(`/definitions/${enc(src)}`);
      for (const k of ["users", "vhosts", "permissions"]) assert.ok(!(k in doc), k);
      assert.deepEqual(doc.queues, [{
        name: "q",
        durable: true,
        auto_delete: false,
        arguments: { "x-message-ttl": 1000 },
      }]);
      assert.deepEqual(doc.exchanges, [{
        name: "x",
        type: "fanout",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      }]);
      assert.deepEqual(doc.bindings, [{
        source: "x",
        destination: "q",
        destination_type: "queue",
        routing_key: "r",
        arguments: {},
      }]);
      await api.expect("POST", `/definitions/${enc(dst)}`, 204, doc);
      assert.deepEqual((await api.get(`/queues/${enc(dst)}/q`)).arguments, {
        "x-message-ttl": 1000,
      });
      assert.equal((await api.list(`/bindings/${enc(dst)}/e/x/q/q`)).length, 1);
      const download = await api.call("GET", "/definitions?download=defs.json");
      assert.match(download.headers.get("content-disposition") ?? "", /attachment; filename=/);

      // Not JSON, or not definitions: 400.
      const notJson = await api.call("POST", "/definitions", undefined, { raw: "{nope" });
      assert.equal(notJson.status, 400);
      assert.equal((notJson.body as Json).error, "bad_request");
      const badType = await api.post("/definitions", { queues: [{ name: 1, vhost: src }] });
      assert.equal(badType.status, 400);

      // Administrators only.
      const mgmt = api.as(await target.user("mgmt", "management"), "pw");
      for (const [method, path] of [["GET", "/definitions"], ["POST", "/definitions"]]) {
        const r = await mgmt.call(method, path, method === "POST" ? {} : undefined);
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.deepEqual(r.body, { error: "not_authorised", reason: "Not administrator user" });
      }
    } finally {
      await target.close();
    }
  },
});

Deno.test({
  name: "definitions: a refused import changes nothing",
  ...testOptions,
  async fn() {
    await withBroker(async (_broker, api) => {
      const before = await api.get("/definitions");
      const user = unique("half");
      const doc = {
        users: [{ name: user, password_hash: HASH_PW, tags: [] }],
        vhosts: [{ name: unique("half") }],
        queues: [{ name: "q", vhost: unique("no-such-vhost"), durable: true, arguments: {} }],
      };
      const r = await api.post("/definitions", doc);
      assert.equal(r.status, 400);
      assert.equal((r.body as Json).error, "bad_request");
      assert.deepEqual(await api.get("/definitions"), before);
      assert.equal((await api.call("GET", `/users/${enc(user)}`)).status, 404);

      // A RabbitMQ export with a quorum queue: refused whole, the user before it not created.
      const quorum = {
        users: [{ name: user, password_hash: HASH_PW, tags: [] }],
        queues: [{
          name: "orders",
          vhost: "/",
          durable: true,
          auto_delete: false,
          arguments: { "x-queue-type": "quorum" },
        }],
      };
      const q = await api.post("/definitions", quorum);
      assert.equal(q.status, 400);
      assert.match(String((q.body as Json).reason), /queue type 'quorum' is not supported/);
      assert.deepEqual(await api.get("/definitions"), before);
      assert.equal((await api.call("GET", `/users/${enc(user)}`)).status, 404);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// The CLI, offline

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test({
  name: "definitions: CLI export from a data dir, import into another, offline",
  ...testOptions,
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "defs-cli-" });
    try {
      const n = namesFor("cli");
      const d1 = `${tmp}/d1`;
      const d2 = `${tmp}/d2`;
      const file = `${tmp}/defs.json`;
      const before = await withBroker(async (_broker, api) => {
        await populate(api, n);
        return await api.get("/definitions");
      }, { dataDir: d1 });

      await t.step("export to a file and to stdout, import into a new data dir", async () => {
        const exp = await cli("definitions", "export", file, "--data-dir", d1);
        assert.equal(exp.code, 0, exp.stderr);
        const written = JSON.parse(await Deno.readTextFile(file));
        assert.deepEqual(sortedSections(written), sortedSections(before));
        const stdout = await cli("definitions", "export", "-", "--data-dir", d1);
        assert.equal(stdout.code, 0, stdout.stderr);
        assert.deepEqual(sortedSections(JSON.parse(stdout.stdout)), sortedSections(before));

        const imp = await cli("definitions", "import", file, "--data-dir", d2);
        assert.equal(imp.code, 0, imp.stderr);
        await withBroker(async (broker, api) => {
          await verify(api, amqpBaseOf(broker), n);
          assert.deepEqual(await bindingsOf(api, n.vhost), EXPECTED_BINDINGS);
          assert.deepEqual(sortedSections(await api.get("/definitions")), sortedSections(before));
        }, { dataDir: d2 });
      });

      await t.step("a section that is not a list is refused (exit 1), as over HTTP", async () => {
        await Deno.writeTextFile(`${tmp}/bad.json`, JSON.stringify({ queues: "nope" }));
        const bad = await cli("definitions", "import", `${tmp}/bad.json`, "--data-dir", d2);
        assert.equal(bad.code, 1, `exit ${bad.code}: ${bad.stdout}${bad.stderr}`);
      });

      await t.step("a refused file changes nothing, as over HTTP", async () => {
        const d3 = `${tmp}/d3`;
        const vhost = unique("half");
        await Deno.writeTextFile(
          `${tmp}/half.json`,
          JSON.stringify({
            vhosts: [{ name: vhost }],
            bindings: [{
              source: "amq.direct",
              vhost: "/",
              destination: "no-such-queue",
              destination_type: "queue",
              routing_key: "k",
              arguments: {},
            }],
          }),
        );
        const half = await cli("definitions", "import", `${tmp}/half.json`, "--data-dir", d3);
        assert.equal(half.code, 1, `exit ${half.code}: ${half.stdout}${half.stderr}`);
        const after = await cli("definitions", "export", "-", "--data-dir", d3);
        const vhosts = (JSON.parse(after.stdout).vhosts as Json[]).map((v) => v.name);
        assert.ok(!vhosts.includes(vhost), `vhost '${vhost}' was created: ${vhosts}`);
      });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
