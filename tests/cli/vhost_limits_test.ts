/**
 * `broker vhost limits` (RabbitMQ's set_vhost_limits, clear_vhost_limits, list_vhost_limits) as a
 * subprocess: offline on a data dir's store, live through a running server's control socket, and
 * kept across a restart. Exit codes: 0 done, 1 refused, 2 usage.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import amqp from "amqplib";
import { attempt, type Client, connect, within } from "../helpers/amqp_client.ts";
import { startChildBroker } from "../helpers/child_broker.ts";
import { startServer } from "../../src/server/server.ts";
import { METADATA_FILE, MetadataStore } from "../../src/store/metadata.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `main.ts vhost ARGS --data-dir DIR`, asserting its exit code. */
async function vhost(dataDir: string, code: number, ...args: string[]): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "main.ts", "vhost", ...args, "--data-dir", dataDir],
    cwd: ROOT,
    env: { NO_COLOR: "1", BROKER_DATA_DIR: "", BROKER_CONFIG_FILE: "", RABBITMQ_CONFIG_FILE: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  const dec = new TextDecoder();
  const run = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  assert.equal(
    run.code,
    code,
    `broker vhost ${args.join(" ")}: exit ${run.code}\n${run.stdout}\n${run.stderr}`,
  );
  return run;
}

/** The limits rows as JSON. */
async function limits(dataDir: string, name?: string): Promise<unknown> {
  const args = ["limits", ...(name === undefined ? [] : [name]), "--format", "json"];
  return JSON.parse((await vhost(dataDir, 0, ...args)).stdout);
}

/** What the store holds, read directly (no server on the data dir). */
function storedLimits(dataDir: string): unknown {
  const store = new MetadataStore(`${dataDir}/${METADATA_FILE}`);
  try {
    return store.load().vhostLimits;
  } finally {
    store.close();
  }
}

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "broker-vhost-limits-" });
  try {
    await fn(`${base}/data`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("vhost limits offline: show, set, merge, remove one, clear", async () => {
  await withDataDir(async (d) => {
    assert.deepEqual(await limits(d), []);
    assert.deepEqual(await limits(d, "/"), [{ vhost: "/", limits: {} }]);
    await vhost(d, 0, "add", "dev");

    // Setting prints the vhost's limits afterwards, as a table by default.
    const set = await vhost(d, 0, "limits", "dev", "--max-connections", "2", "--max-queues", "10");
    const lines = set.stdout.trim().split("\n");
    assert.match(lines[0], /^vhost\s+limits$/);
    assert.match(lines[1], /^dev\s+\{"max-queues":10,"max-connections":2\}$/);
    assert.equal(lines.length, 2);
    assert.deepEqual(storedLimits(d), [
      { vhost: "dev", limits: { "max-queues": 10, "max-connections": 2 } },
    ]);

    // One flag changes one limit; 0 is kept (none allowed); -1 or none removes one.
    await vhost(d, 0, "limits", "dev", "--max-queues", "0");
    assert.deepEqual(await limits(d, "dev"), [
      { vhost: "dev", limits: { "max-queues": 0, "max-connections": 2 } },
    ]);
    await vhost(d, 0, "limits", "dev", "--max-connections=-1");
    assert.deepEqual(await limits(d), [{ vhost: "dev", limits: { "max-queues": 0 } }]);
    await vhost(d, 0, "limits", "/", "--max-queues", "5");
    await vhost(d, 0, "limits", "dev", "--max-queues", "none");
    assert.deepEqual(await limits(d), [{ vhost: "/", limits: { "max-queues": 5 } }]);

    await vhost(d, 0, "limits", "/", "--max-connections", "1");
    const cleared = await vhost(d, 0, "limits", "/", "--clear", "--format", "json");
    assert.deepEqual(JSON.parse(cleared.stdout), [{ vhost: "/", limits: {} }]);
    assert.deepEqual(await limits(d), []);
    assert.deepEqual(storedLimits(d), []);

    // Deleting a vhost takes its limits along.
    await vhost(d, 0, "limits", "dev", "--max-queues", "3");
    await vhost(d, 0, "delete", "dev");
    assert.deepEqual(storedLimits(d), []);
  });
});

Deno.test("vhost limits: refusals exit 1, usage errors 2", async () => {
  await withDataDir(async (d) => {
    assert.match(
      (await vhost(d, 1, "limits", "nope", "--max-queues", "1")).stderr,
      /no such vhost 'nope'/,
    );
    assert.match((await vhost(d, 1, "limits", "nope")).stderr, /no such vhost 'nope'/);
    const usage = [
      [["limits", "/", "--max-queues", "lots"], /--max-queues must be an integer or none/],
      [["limits", "/", "--max-queues", "1.5"], /--max-queues must be an integer/],
      [["limits", "/", "--max-queues", "-1"], /--max-queues=-XYZ/],
      [["limits", "--max-queues", "1"], /changing limits needs the vhost NAME/],
      [["limits", "/", "--clear", "--max-queues", "1"], /--clear cannot be combined/],
      [["limits", "/", "--max-things", "1"], /Unknown option '--max-things'/],
      [["limits", "/", "extra"], /expected: broker vhost limits/],
    ] as const;
    for (const [args, why] of usage) {
      const run = await vhost(d, 2, ...args);
      assert.match(run.stderr, why);
      assert.match(run.stderr, /Usage: broker vhost <action>/);
    }
    assert.deepEqual(storedLimits(d), []);
    const help = await vhost(d, 0, "--help");
    assert.match(
      help.stdout,
      /limits \[NAME\] \[--max-connections N\] \[--max-queues N\] \[--clear\]/,
    );
    assert.match(help.stdout, /--max-connections N\s+most client connections on NAME/);
    assert.match(help.stdout, /--clear\s+remove every limit of NAME/);
  });
});

Deno.test({
  name: "vhost limits live: the running server enforces them at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      const server = await startServer({
        dataDir: d,
        port: 0,
        hostname: "127.0.0.1",
        logLevel: "none",
        management: { enabled: false, port: 0, ip: "127.0.0.1" },
      });
      const url = `amqp://guest:guest@127.0.0.1:${server.port}/`;
      const clients: Client[] = [];
      try {
        clients.push(await connect(url));
        await vhost(d, 0, "limits", "/", "--max-connections", "1", "--max-queues", "1");
        await assert.rejects(within(amqp.connect(url), 5000, "connect"));
        const c = clients[0];
        assert.equal(await attempt(c, (ch) => ch.assertQueue("one", { durable: false })), null);
        assert.equal(
          (await attempt(c, (ch) => ch.assertQueue("two", { durable: false })))?.code,
          406,
        );
        assert.deepEqual(await limits(d), [
          { vhost: "/", limits: { "max-connections": 1, "max-queues": 1 } },
        ]);
        await vhost(d, 0, "limits", "/", "--clear");
        clients.push(await connect(url));
        assert.equal(await attempt(c, (ch) => ch.assertQueue("two", { durable: false })), null);
      } finally {
        for (const c of clients) await c.close();
        await server.close();
      }
    });
  },
});

Deno.test({
  name: "vhost limits survive a restart; a data dir from before limits opens",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      // A data dir made before vhost limits existed has no table for them.
      await vhost(d, 0, "add", "dev");
      const db = new DatabaseSync(`${d}/${METADATA_FILE}`);
      db.exec("DROP TABLE vhost_limits");
      db.close();

      let broker = await startChildBroker({ dataDir: d });
      try {
        await vhost(d, 0, "limits", "/", "--max-queues", "1");
        broker.kill("SIGKILL");
        await broker.exited;
        broker = await startChildBroker({ dataDir: d });
        const c = await connect(broker.url);
        try {
          assert.equal(await attempt(c, (ch) => ch.assertQueue("one", { durable: false })), null);
          assert.equal(
            (await attempt(c, (ch) => ch.assertQueue("two", { durable: false })))?.text,
            "PRECONDITION_FAILED - cannot declare queue 'two': queue limit in vhost '/' (1) is " +
              "reached",
          );
        } finally {
          await c.close();
        }
      } finally {
        await broker.stop();
      }
      assert.deepEqual(storedLimits(d), [{ vhost: "/", limits: { "max-queues": 1 } }]);
    });
  },
});
