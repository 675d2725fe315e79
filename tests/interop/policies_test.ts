/**
 * Policies (issue 6) end to end: set through the admin API, the CLI and the service, seen by
 * amqplib clients. RabbitMQ's rules, checked against RabbitMQ 3.10 with rabbitmqctl set_policy:
 * a policy applies at once to matching existing queues (a lower max-length trims from the head),
 * the lower of policy and argument wins for max-length (and message-ttl, expires,
 * max-length-bytes), the argument wins for dead-letter-exchange and overflow, a new message-ttl
 * counts for messages arriving afterwards, only the highest-priority matching policy applies,
 * apply-to limits it to queues or exchanges, and clearing it restores the arguments' settings.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type AmqpChannel, connect, delay, drain, within } from "../helpers/amqp_client.ts";
import type { Client } from "../helpers/amqp_client.ts";
import { AdminApi, enc } from "../helpers/http.ts";
import { startServer } from "../../src/server/server.ts";
import type { BrokerServer } from "../../src/server/server.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

function serve(dataDir?: string): Promise<BrokerServer> {
  return startServer({
    dataDir,
    port: 0,
    hostname: "127.0.0.1",
    logLevel: "error",
    management: { enabled: true, port: 0, ip: "127.0.0.1" },
  });
}

async function withBroker(
  fn: (ctx: { server: BrokerServer; api: AdminApi; ch: AmqpChannel }) => Promise<void>,
  dataDir?: string,
): Promise<void> {
  const server = await serve(dataDir);
  let client: Client | undefined;
  try {
    client = await within(connect(`amqp://guest:guest@127.0.0.1:${server.port}/`), 5000, "conn");
    const ch = await client.channel();
    await fn({ server, api: new AdminApi(`http://127.0.0.1:${server.adminPort}`), ch });
  } finally {
    await client?.close();
    await server.close();
  }
}

async function fill(ch: AmqpChannel, queue: string, bodies: string[]): Promise<void> {
  for (const b of bodies) ch.sendToQueue(queue, Buffer.from(b));
  await ch.checkQueue(queue); // a round trip: the publishes before it have been routed
}

const putPolicy = (api: AdminApi, name: string, body: Record<string, unknown>, vhost = "/") =>
  api.expect("PUT", `/policies/${enc(vhost)}/${enc(name)}`, 201, body);

Deno.test("policies: apply to existing and new queues; lower limit wins; clearing restores", async () => {
  await withBroker(async ({ api, ch }) => {
    await ch.assertQueue("pol.a", { durable: false });
    await ch.assertQueue("pol.b", { durable: false, arguments: { "x-max-length": 1 } });
    await ch.assertQueue("other.c", { durable: false });
    await fill(ch, "pol.a", ["a1", "a2", "a3", "a4"]);
    await putPolicy(api, "len", { pattern: "^pol\\.", definition: { "max-length": 2 } });
    // The existing queue is trimmed from the head at once.
    assert.equal((await ch.checkQueue("pol.a")).messageCount, 2);
    assert.deepEqual(await drain(ch, "pol.a"), ["a3", "a4"]);
    // The argument (1) is lower than the policy (2): it wins.
    await fill(ch, "pol.b", ["b1", "b2", "b3"]);
    assert.deepEqual(await drain(ch, "pol.b"), ["b3"]);
    // Not matching: unlimited. A queue declared later picks the policy up.
    await fill(ch, "other.c", ["c1", "c2", "c3"]);
    assert.equal((await ch.checkQueue("other.c")).messageCount, 3);
    await ch.assertQueue("pol.new", { durable: false });
    await fill(ch, "pol.new", ["n1", "n2", "n3"]);
    assert.deepEqual(await drain(ch, "pol.new"), ["n2", "n3"]);

    const queues = await api.list("/queues/%2F");
    const a = queues.find((q) => q.name === "pol.a")!;
    assert.equal(a.policy, "len");
    assert.deepEqual(a.effective_policy_definition, { "max-length": 2 });
    assert.equal(queues.find((q) => q.name === "other.c")!.policy, null);

    // Cleared: back to the arguments (pol.a unlimited, pol.b still 1).
    assert.equal((await api.del("/policies/%2F/len")).status, 204);
    assert.equal((await api.del("/policies/%2F/len")).status, 404);
    await fill(ch, "pol.a", ["x1", "x2", "x3"]);
    assert.equal((await ch.checkQueue("pol.a")).messageCount, 3);
    await fill(ch, "pol.b", ["y1", "y2"]);
    assert.deepEqual(await drain(ch, "pol.b"), ["y2"]);
  });
});

Deno.test("policies: message-ttl for later messages; argument wins for dead-lettering", async () => {
  await withBroker(async ({ api, ch }) => {
    await ch.assertQueue("ttl.q", { durable: false });
    await ch.assertQueue("dead.policy", { durable: false });
    await ch.assertQueue("dead.arg", { durable: false });
    await ch.assertQueue("dlx.q", {
      durable: false,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead.arg" },
    });
    await fill(ch, "ttl.q", ["old"]);
    await putPolicy(api, "ttl", {
      pattern: "^(ttl|dlx)\\.q$",
      definition: {
        "message-ttl": 50,
        "dead-letter-exchange": "",
        "dead-letter-routing-key": "dead.policy",
      },
      "apply-to": "queues",
    });
    await fill(ch, "ttl.q", ["new"]);
    await delay(200);
    // The old message keeps no TTL; it sits at the head, so nothing behind it expires yet
    // (RabbitMQ expires from the head only); once it is taken, the expired one behind it goes.
    assert.equal((await ch.checkQueue("ttl.q")).messageCount, 2);
    assert.deepEqual(await drain(ch, "ttl.q"), ["old"]);
    assert.deepEqual(await drain(ch, "dead.policy"), ["new"]);
    await fill(ch, "ttl.q", ["expires"]);
    await delay(200);
    assert.equal((await ch.checkQueue("ttl.q")).messageCount, 0);
    assert.deepEqual(await drain(ch, "dead.policy"), ["expires"]);
    // dlx.q's own dead-letter arguments win over the policy's; the policy's TTL applies.
    await fill(ch, "dlx.q", ["d"]);
    await delay(200);
    assert.deepEqual(await drain(ch, "dead.arg"), ["d"]);
    assert.deepEqual(await drain(ch, "dead.policy"), []);
  });
});

Deno.test("policies: highest priority wins; apply-to; alternate-exchange on exchanges", async () => {
  await withBroker(async ({ api, ch }) => {
    await ch.assertQueue("prio.q", { durable: false });
    await putPolicy(api, "low", {
      pattern: "^prio\\.",
      definition: { "max-length": 1 },
      priority: 1,
    });
    await putPolicy(api, "high", {
      pattern: "^prio\\.q$",
      definition: { "max-length": 3 },
      priority: 5,
    });
    await fill(ch, "prio.q", ["1", "2", "3", "4"]);
    assert.deepEqual(await drain(ch, "prio.q"), ["2", "3", "4"]);
    // Raising the other above it switches at once.
    await api.expect("PUT", "/policies/%2F/low", 204, {
      pattern: "^prio\\.",
      definition: { "max-length": 1 },
      priority: 9,
    });
    await fill(ch, "prio.q", ["5", "6"]);
    assert.deepEqual(await drain(ch, "prio.q"), ["6"]);

    // apply-to exchanges: the alternate exchange applies to the exchange, not to a queue.
    await ch.assertExchange("ae.x", "direct", { durable: false });
    await ch.assertExchange("ae.target", "fanout", { durable: false });
    await ch.assertQueue("ae.catch", { durable: false });
    await ch.bindQueue("ae.catch", "ae.target", "");
    await putPolicy(api, "ae", {
      pattern: "^ae\\.",
      definition: { "alternate-exchange": "ae.target", "max-length": 0 },
      "apply-to": "exchanges",
    });
    ch.publish("ae.x", "nowhere", Buffer.from("lost"));
    await ch.checkQueue("ae.catch");
    // max-length 0 did not apply to the queue ae.catch (apply-to exchanges).
    assert.deepEqual(await drain(ch, "ae.catch"), ["lost"]);
    const ex = (await api.list("/exchanges/%2F")).find((e) => e.name === "ae.x")!;
    assert.equal(ex.policy, "ae");

    // The admin API's shape, and a refused definition.
    const one = await api.get("/policies/%2F/high");
    assert.deepEqual(one, {
      vhost: "/",
      name: "high",
      pattern: "^prio\\.q$",
      "apply-to": "all",
      definition: { "max-length": 3 },
      priority: 5,
    });
    assert.deepEqual((await api.list("/policies/%2F")).map((p) => p.name), ["ae", "high", "low"]);
    assert.equal((await api.list("/policies")).length, 3);
    const bad = await api.put("/policies/%2F/bad", { pattern: "x", definition: { "nope": 1 } });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /not recognised policy settings/);
    const badRegex = await api.put("/policies/%2F/bad", { pattern: "(", definition: {} });
    assert.equal(badRegex.status, 400);
  });
});

Deno.test("policies: kept across a restart and in definitions", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "broker-policies-" });
  try {
    await withBroker(async ({ api, ch }) => {
      await putPolicy(api, "keep", {
        pattern: "^keep\\.",
        definition: { "max-length": 1 },
        "apply-to": "queues",
        priority: 2,
      });
      await ch.assertQueue("keep.q", { durable: true });
      const defs = await api.get("/definitions");
      assert.deepEqual(defs.policies, [{
        vhost: "/",
        name: "keep",
        pattern: "^keep\\.",
        "apply-to": "queues",
        definition: { "max-length": 1 },
        priority: 2,
      }]);
    }, dataDir);
    await withBroker(async ({ api, ch }) => {
      assert.deepEqual((await api.list("/policies/%2F")).map((p) => p.name), ["keep"]);
      await fill(ch, "keep.q", ["k1", "k2"]);
      assert.deepEqual(await drain(ch, "keep.q"), ["k2"]);
      // Import adds policies in RabbitMQ's format.
      const imported = await api.call("POST", "/definitions", {
        policies: [{
          vhost: "/",
          name: "imported",
          pattern: "^imp$",
          "apply-to": "queues",
          definition: { "max-length": 1 },
          priority: 0,
        }],
      });
      assert.ok(imported.status < 300, JSON.stringify(imported.body));
      assert.equal((await api.get("/policies/%2F/imported")).pattern, "^imp$");
      await ch.deleteQueue("keep.q");
    }, dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

async function cli(dataDir: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "main.ts", ...args, "--data-dir", dataDir],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("policies: CLI set, list, clear (offline, then live through the control socket)", async () => {
  const base = await Deno.makeTempDir({ prefix: "broker-policy-cli-" });
  const d = `${base}/data`;
  try {
    let r = await cli(d, [
      "policy",
      "set",
      "cap",
      "^cap\\.",
      '{"max-length":2}',
      "--apply-to",
      "queues",
      "--priority",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "policy 'cap' set");
    r = await cli(d, ["policy", "list", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [{
      vhost: "/",
      name: "cap",
      pattern: "^cap\\.",
      "apply-to": "queues",
      definition: { "max-length": 2 },
      priority: 3,
    }]);
    r = await cli(d, ["policy", "set", "bad", ".*", "{nope"]);
    assert.equal(r.code, 2);
    r = await cli(d, ["policy", "set", "bad", ".*", '{"max-length":-1}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /max-length/);

    const server = await startServer({
      dataDir: d,
      port: 0,
      hostname: "127.0.0.1",
      logLevel: "warn",
    });
    let client: Client | undefined;
    try {
      client = await connect(`amqp://guest:guest@127.0.0.1:${server.port}/`);
      const ch = await client.channel();
      await ch.assertQueue("cap.q", { durable: false });
      await fill(ch, "cap.q", ["1", "2", "3"]);
      assert.deepEqual(await drain(ch, "cap.q"), ["2", "3"]);
      r = await cli(d, ["policy", "clear", "cap"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), "policy 'cap' cleared");
      await fill(ch, "cap.q", ["1", "2", "3"]);
      assert.deepEqual(await drain(ch, "cap.q"), ["1", "2", "3"]);
      r = await cli(d, ["policy", "clear", "cap"]);
      assert.equal(r.code, 1);
      r = await cli(d, ["policy", "list", "--format", "json"]);
      assert.deepEqual(JSON.parse(r.stdout), []);
    } finally {
      await client?.close();
      await server.close();
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("policies: max-priority counts only when the queue is declared", async () => {
  await withBroker(async ({ api, ch }) => {
    await ch.assertQueue("mp.before", { durable: false });
    await putPolicy(api, "mp", { pattern: "^mp\\.", definition: { "max-priority": 5 } });
    await ch.assertQueue("mp.after", { durable: false });
    for (const q of ["mp.before", "mp.after"]) {
      ch.sendToQueue(q, Buffer.from("low"), { priority: 1 });
      ch.sendToQueue(q, Buffer.from("high"), { priority: 5 });
    }
    await ch.checkQueue("mp.after");
    assert.deepEqual(await drain(ch, "mp.before"), ["low", "high"]);
    assert.deepEqual(await drain(ch, "mp.after"), ["high", "low"]);
  });
});
