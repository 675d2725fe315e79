/**
 * A quick pass over the management HTTP API against an in-process broker: auth and tags, the
 * overview, declaring a queue and exchange and binding them, publishing and getting a message
 * over HTTP, an amqplib connection listed and closed with 320 CONNECTION_FORCED, pagination,
 * definitions export and import, and rates after a sample. The thorough suite lives beside it.
 */
import assert from "node:assert/strict";
import { startBroker } from "../helpers/broker.ts";
import type { TestBroker } from "../helpers/broker.ts";
import { connect } from "../helpers/amqp_client.ts";
import { Buffer } from "node:buffer";

type Json = Record<string, unknown>;

async function withAdmin(fn: (api: Api, broker: TestBroker) => Promise<void>): Promise<void> {
  const broker = await startBroker({
    management: { enabled: true, port: 0, ip: "127.0.0.1" },
  });
  try {
    await fn(new Api(`http://127.0.0.1:${broker.server.adminPort}/api`), broker);
  } finally {
    await broker.close();
  }
}

class Api {
  constructor(readonly base: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    opts: { user?: string; password?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const auth = btoa(`${opts.user ?? "guest"}:${opts.password ?? "guest"}`);
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Basic ${auth}`, ...opts.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === "" ? undefined : JSON.parse(text),
      headers: res.headers,
    };
  }

  async get(path: string): Promise<Json & Json[]> {
    const r = await this.call("GET", path);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    return r.body as Json & Json[];
  }
}

Deno.test("admin smoke: auth, overview, whoami, unknown paths", async () => {
  await withAdmin(async (api) => {
    const noAuth = await fetch(`${api.base}/overview`);
    assert.equal(noAuth.status, 401);
    assert.deepEqual(await noAuth.json(), { error: "not_authorized", reason: "Not_Authorized" });
    const wrong = await api.call("GET", "/overview", undefined, { password: "nope" });
    assert.equal(wrong.status, 401);

    const overview = await api.get("/overview");
    assert.equal(typeof overview.rabbitmq_version, "string");
    assert.equal(typeof overview.management_version, "string");
    const totals = overview.object_totals as Json;
    for (const k of ["connections", "channels", "exchanges", "queues", "consumers"]) {
      assert.equal(typeof totals[k], "number", k);
    }
    assert.deepEqual((overview.message_stats as Json).publish_details, { rate: 0 });
    const listeners = overview.listeners as Json[];
    assert.equal(listeners[0].protocol, "amqp");

    assert.deepEqual(await api.get("/whoami"), {
      name: "guest",
      tags: ["administrator"],
      is_internal_user: true,
    });
    assert.deepEqual(await api.get("/health/checks/alarms"), { status: "ok" });
    assert.deepEqual(await api.get("/aliveness-test/%2F"), { status: "ok" });
    assert.equal((await api.get("/nodes")).length, 1);

    const missing = await api.call("GET", "/no-such-thing");
    assert.equal(missing.status, 404);
    assert.equal((missing.body as Json).error, "Object Not Found");
    assert.equal((await api.call("PATCH", "/queues")).status, 405);

    // A user without a management tag may not use the API.
    assert.equal((await api.call("PUT", "/users/app", { password: "pw", tags: "" })).status, 201);
    const app = await api.call("GET", "/overview", undefined, { user: "app", password: "pw" });
    assert.equal(app.status, 401);
    assert.deepEqual(app.body, { error: "not_authorised", reason: "Not management user" });
  });
});

Deno.test("admin smoke: queue, exchange, binding, publish and get", async () => {
  await withAdmin(async (api) => {
    assert.equal((await api.call("PUT", "/queues/%2F/smoke", { durable: true })).status, 201);
    assert.equal((await api.call("PUT", "/queues/%2F/smoke", { durable: true })).status, 204);
    const inequivalent = await api.call("PUT", "/queues/%2F/smoke", { durable: false });
    assert.equal(inequivalent.status, 400);
    assert.equal((await api.call("PUT", "/exchanges/%2F/smoke.x", { type: "topic" })).status, 201);

    const bind = await api.call("POST", "/bindings/%2F/e/smoke.x/q/smoke", {
      routing_key: "a.*",
      arguments: {},
    });
    assert.equal(bind.status, 201);
    assert.equal(bind.headers.get("location"), "smoke/a.%252A");
    const bindings = await api.get("/bindings/%2F/e/smoke.x/q/smoke");
    assert.equal(bindings.length, 1);
    assert.equal(bindings[0].properties_key, "a.%2A");

    const publish = await api.call("POST", "/exchanges/%2F/smoke.x/publish", {
      routing_key: "a.b",
      properties: { delivery_mode: 2, headers: { n: 1 } },
      payload: "hello",
      payload_encoding: "string",
    });
    assert.deepEqual(publish.body, { routed: true });
    const queue = await api.get("/queues/%2F/smoke");
    assert.equal(queue.messages, 1);
    assert.equal((queue.message_stats as Json).publish, 1);

    const got = await api.call("POST", "/queues/%2F/smoke/get", {
      count: 5,
      ackmode: "ack_requeue_false",
      encoding: "auto",
    });
    const messages = got.body as Json[];
    assert.equal(messages.length, 1);
    assert.equal(messages[0].payload, "hello");
    assert.equal(messages[0].payload_encoding, "string");
    assert.equal(messages[0].routing_key, "a.b");
    assert.deepEqual(messages[0].properties, { delivery_mode: 2, headers: { n: 1 } });
    assert.equal((await api.get("/queues/%2F/smoke")).messages, 0);

    const props = encodeURIComponent("a.%2A");
    const del = await api.call("DELETE", `/bindings/%2F/e/smoke.x/q/smoke/${props}`);
    assert.equal(del.status, 204);
    assert.equal((await api.call("DELETE", "/queues/%2F/smoke")).status, 204);
    assert.equal((await api.call("DELETE", "/queues/%2F/smoke")).status, 404);
    assert.equal((await api.call("DELETE", "/exchanges/%2F/smoke.x")).status, 204);
  });
});

Deno.test("admin smoke: connections listed and closed, pagination, rates", async () => {
  await withAdmin(async (api, broker) => {
    const client = await connect(broker.url);
    try {
      const ch = await client.channel();
      await ch.assertQueue("smoke.rates", { durable: false });
      for (let i = 0; i < 20; i++) ch.sendToQueue("smoke.rates", Buffer.from("m"));
      await ch.checkQueue("smoke.rates"); // a round trip: the publishes before it are in
      const conns = await api.get("/connections");
      assert.equal(conns.length, 1);
      assert.equal(conns[0].user, "guest");
      assert.equal((await api.get("/channels")).length, 1);

      broker.server.admin!.rates.tick();
      const page = await api.get("/queues?page=1&page_size=1&columns=name,messages");
      assert.equal(page.page, 1);
      assert.equal(page.item_count, 1);
      assert.equal(page.total_count, 1);
      assert.deepEqual(page.items, [{ name: "smoke.rates", messages: 20 }]);

      const name = encodeURIComponent(conns[0].name as string);
      const closed = await api.call("DELETE", `/connections/${name}`, undefined, {
        headers: { "x-reason": "smoke test" },
      });
      assert.equal(closed.status, 204);
      assert.ok(await client.waitClosed());
      assert.match(String(client.closeError?.message), /320.*smoke test/);
    } finally {
      await client.close();
    }
  });
});

Deno.test("admin smoke: definitions export and import", async () => {
  await withAdmin(async (api) => {
    const defs = {
      users: [{ name: "imported", password_hash: "", tags: "management,monitoring" }],
      vhosts: [{ name: "smoke" }],
      permissions: [{ user: "imported", vhost: "smoke", configure: ".*", write: ".*", read: ".*" }],
      policies: [],
      queues: [{ name: "dq", vhost: "smoke", durable: true, auto_delete: false, arguments: {} }],
      exchanges: [{
        name: "dx",
        vhost: "smoke",
        type: "fanout",
        durable: true,
        auto_delete: false,
        internal: false,
        arguments: {},
      }],
      bindings: [{
        source: "dx",
        vhost: "smoke",
        destination: "dq",
        destination_type: "queue",
        routing_key: "",
        arguments: {},
      }],
    };
    assert.equal((await api.call("POST", "/definitions", defs)).status, 204);
    const out = await api.get("/definitions");
    assert.ok((out.users as Json[]).some((u) => u.name === "imported"));
    assert.deepEqual((out.queues as Json[]).map((q) => q.name), ["dq"]);
    assert.deepEqual((out.exchanges as Json[]).map((e) => e.name), ["dx"]);
    assert.equal((out.bindings as Json[]).length, 1);
    const user = (out.users as Json[]).find((u) => u.name === "imported")!;
    assert.deepEqual(user.tags, ["management", "monitoring"]);

    const bad = await api.call("POST", "/definitions", { queues: [{ name: "x", vhost: "nope" }] });
    assert.equal(bad.status, 400);
  });
});
