/**
 * The real CLI (`main.ts user|vhost|permissions|list|status …`) as a subprocess on a temp data dir:
 * offline on the store when no server runs there, live through the control socket when one does.
 * Exit codes: 0 done, 1 refused, 2 usage.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect } from "../helpers/amqp_client.ts";
import type { Client } from "../helpers/amqp_client.ts";
import { startServer } from "../../src/server/server.ts";
import type { BrokerServer } from "../../src/server/server.ts";
import { verifyPassword } from "../../src/auth/password.ts";
import { METADATA_FILE, MetadataStore } from "../../src/store/metadata.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const CLI_TIMEOUT_MS = 20_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main.ts ARGS --data-dir DIR` (stdin from `input`, else none) and collects its output. */
async function cli(dataDir: string, args: string[], input?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "main.ts", ...args, "--data-dir", dataDir],
    cwd: ROOT,
    env: { NO_COLOR: "1", BROKER_DATA_DIR: `${dataDir}/not-this-one` },
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the CLI and asserts its exit code; returns the run. */
async function expectCode(dataDir: string, code: number, args: string[], input?: string) {
  const run = await cli(dataDir, args, input);
  assert.equal(
    run.code,
    code,
    `broker ${
      args.join(" ")
    }: exit ${run.code}, expected ${code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
  );
  return run;
}

/** Runs a listing with --format json and parses it. */
async function json<T = Record<string, unknown>[]>(dataDir: string, args: string[]): Promise<T> {
  const run = await expectCode(dataDir, 0, [...args, "--format", "json"]);
  return JSON.parse(run.stdout) as T;
}

async function userNames(dataDir: string): Promise<string[]> {
  return (await json<{ name: string }[]>(dataDir, ["user", "list"])).map((u) => u.name);
}

/** The stored hash of a user, read straight from the store (no server running). */
function storedHash(dataDir: string, name: string): string | undefined {
  const store = new MetadataStore(`${dataDir}/${METADATA_FILE}`);
  try {
    return store.load().users.find((u) => u.name === name)?.passwordHash;
  } finally {
    store.close();
  }
}

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "broker-cli-" });
  try {
    await fn(`${base}/data`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

function serve(dataDir: string): Promise<BrokerServer> {
  return startServer({ dataDir, port: 0, hostname: "127.0.0.1", logLevel: "warn" });
}

const amqpUrl = (server: BrokerServer, user: string, password: string, vhost = "/") =>
  `amqp://${user}:${password}@127.0.0.1:${server.port}/${encodeURIComponent(vhost)}`;

// ---------------------------------------------------------------------------------------------
// Offline: no server on the data dir

Deno.test("offline: user add, list, passwd, tags, delete", async () => {
  await withDataDir(async (d) => {
    // A fresh data dir is seeded on first use.
    assert.deepEqual(await json(d, ["user", "list"]), [{ name: "guest", tags: ["administrator"] }]);

    const add = await expectCode(d, 0, ["user", "add", "alice", "s3cret-A", "--tags", "a,b"]);
    assert.equal(add.stdout.trim(), "user 'alice' added");
    assert.deepEqual(await json(d, ["user", "list"]), [
      { name: "alice", tags: ["a", "b"] },
      { name: "guest", tags: ["administrator"] },
    ]);
    assert.equal(verifyPassword("s3cret-A", storedHash(d, "alice")!), true);

    const again = await expectCode(d, 1, ["user", "add", "alice", "other"]);
    assert.match(again.stderr, /user 'alice' already exists/);

    await expectCode(d, 0, ["user", "passwd", "alice", "s3cret-B"]);
    assert.equal(verifyPassword("s3cret-B", storedHash(d, "alice")!), true);
    assert.equal(verifyPassword("s3cret-A", storedHash(d, "alice")!), false);
    await expectCode(d, 1, ["user", "passwd", "nobody", "x"]);

    await expectCode(d, 0, ["user", "tags", "alice", "administrator,management"]);
    assert.deepEqual((await json(d, ["user", "list"]))[0], {
      name: "alice",
      tags: ["administrator", "management"],
    });
    await expectCode(d, 0, ["user", "tags", "alice"]);
    assert.deepEqual((await json(d, ["user", "list"]))[0], { name: "alice", tags: [] });
    await expectCode(d, 1, ["user", "tags", "nobody", "x"]);

    // The table form has a header and a row per user.
    const table = await expectCode(d, 0, ["user", "list"]);
    const lines = table.stdout.trim().split("\n");
    assert.match(lines[0], /^name\s+tags$/);
    assert.match(lines[1], /^alice\s+\[\]$/);
    assert.match(lines[2], /^guest\s+\[administrator\]$/);

    const del = await expectCode(d, 0, ["user", "delete", "alice"]);
    assert.equal(del.stdout.trim(), "user 'alice' deleted");
    const gone = await expectCode(d, 1, ["user", "delete", "alice"]);
    assert.match(gone.stderr, /no such user 'alice'/);
    assert.deepEqual(await userNames(d), ["guest"]);

    // Passwords are never echoed.
    for (const r of [add, again]) assert.ok(!(r.stdout + r.stderr).includes("s3cret"));
  });
});

Deno.test("offline: --password-stdin reads the first line of standard input", async () => {
  await withDataDir(async (d) => {
    const add = await expectCode(
      d,
      0,
      ["user", "add", "carol", "--password-stdin"],
      "pa ss wörd\nignored\n",
    );
    assert.ok(!(add.stdout + add.stderr).includes("pa ss"));
    assert.equal(verifyPassword("pa ss wörd", storedHash(d, "carol")!), true);
    await expectCode(d, 0, ["user", "passwd", "carol", "--password-stdin"], "second\r\n");
    assert.equal(verifyPassword("second", storedHash(d, "carol")!), true);
    // No trailing newline is fine too.
    await expectCode(d, 0, ["user", "passwd", "carol", "--password-stdin"], "third");
    assert.equal(verifyPassword("third", storedHash(d, "carol")!), true);
    // An empty password is refused.
    await expectCode(d, 1, ["user", "add", "dan", "--password-stdin"], "\n");
    assert.deepEqual(await userNames(d), ["carol", "guest"]);
  });
});

Deno.test("offline: vhost add, list, delete", async () => {
  await withDataDir(async (d) => {
    assert.deepEqual(await json(d, ["vhost", "list"]), [
      { name: "/", description: "Default virtual host", tags: [] },
    ]);
    const add = await expectCode(d, 0, ["vhost", "add", "dev", "--description", "Development"]);
    assert.equal(add.stdout.trim(), "vhost 'dev' added");
    await expectCode(d, 0, ["vhost", "add", "qa"]);
    assert.deepEqual(await json(d, ["vhost", "list"]), [
      { name: "/", description: "Default virtual host", tags: [] },
      { name: "dev", description: "Development", tags: [] },
      { name: "qa", description: "", tags: [] },
    ]);
    assert.match((await expectCode(d, 1, ["vhost", "add", "dev"])).stderr, /already exists/);
    await expectCode(d, 0, ["vhost", "delete", "qa"]);
    assert.match((await expectCode(d, 1, ["vhost", "delete", "qa"])).stderr, /no such vhost 'qa'/);
    assert.deepEqual((await json(d, ["vhost", "list"])).map((v) => v.name), ["/", "dev"]);
  });
});

Deno.test("offline: permissions set, list, clear", async () => {
  await withDataDir(async (d) => {
    await expectCode(d, 0, ["user", "add", "erin", "pw"]);
    await expectCode(d, 0, ["vhost", "add", "dev"]);
    const set = await expectCode(d, 0, [
      "permissions",
      "set",
      "erin",
      "^cfg-.*",
      "^w-.*",
      "",
      "--vhost",
      "dev",
    ]);
    assert.equal(set.stdout.trim(), "permissions of user 'erin' set");
    await expectCode(d, 0, ["permissions", "set", "erin", ".*", ".*", ".*"]);
    assert.deepEqual(await json(d, ["permissions", "list", "--vhost", "dev"]), [
      { user: "erin", vhost: "dev", configure: "^cfg-.*", write: "^w-.*", read: "" },
    ]);
    assert.deepEqual(await json(d, ["permissions", "list"]), [
      { user: "erin", vhost: "/", configure: ".*", write: ".*", read: ".*" },
      { user: "guest", vhost: "/", configure: ".*", write: ".*", read: ".*" },
      { user: "erin", vhost: "dev", configure: "^cfg-.*", write: "^w-.*", read: "" },
    ]);

    // Refusals: a bad regex, a missing user or vhost.
    const bad = await expectCode(d, 1, ["permissions", "set", "erin", "(", ".*", ".*"]);
    assert.match(bad.stderr, /configure pattern '\(' is not a valid regex/);
    await expectCode(d, 1, ["permissions", "set", "nobody", ".*", ".*", ".*"]);
    await expectCode(d, 1, ["permissions", "set", "erin", ".*", ".*", ".*", "--vhost", "nope"]);
    await expectCode(d, 1, ["permissions", "list", "--vhost", "nope"]);

    const clear = await expectCode(d, 0, ["permissions", "clear", "erin", "--vhost", "dev"]);
    assert.equal(clear.stdout.trim(), "permissions of user 'erin' cleared");
    await expectCode(d, 1, ["permissions", "clear", "erin", "--vhost", "dev"]);
    assert.deepEqual(await json(d, ["permissions", "list", "--vhost", "dev"]), []);

    // Deleting a vhost or a user takes its permissions along.
    await expectCode(d, 0, ["permissions", "set", "erin", ".*", "", "", "--vhost", "dev"]);
    await expectCode(d, 0, ["vhost", "delete", "dev"]);
    await expectCode(d, 0, ["user", "delete", "erin"]);
    assert.deepEqual(await json(d, ["permissions", "list"]), [
      { user: "guest", vhost: "/", configure: ".*", write: ".*", read: ".*" },
    ]);
  });
});

Deno.test("offline: listings without a server; status exits 1", async () => {
  await withDataDir(async (d) => {
    for (const what of ["queues", "exchanges", "connections", "channels", "consumers"]) {
      const rows = await json(d, ["list", what]);
      assert.ok(Array.isArray(rows), what);
      if (what !== "exchanges") assert.deepEqual(rows, [], what);
    }
    assert.ok((await json(d, ["list", "exchanges"])).some((x) => x.name === "amq.topic"));
    await expectCode(d, 1, ["list", "queues", "--vhost", "nope"]);
    const status = await expectCode(d, 1, ["status"]);
    assert.match(status.stderr, /not running/);
  });
});

Deno.test("usage errors exit 2 and print help", async () => {
  await withDataDir(async (d) => {
    const cases: string[][] = [
      ["nosuch"],
      ["user"],
      ["user", "frobnicate"],
      ["user", "add"],
      ["user", "add", "bob"], // no password, no --password-stdin
      ["user", "add", "bob", "pw", "extra"],
      ["user", "add", "bob", "pw", "--password-stdin"],
      ["user", "list", "--bogus"],
      ["user", "list", "--format", "xml"],
      ["user", "delete"],
      ["vhost", "add"],
      ["permissions", "set", "guest", ".*", ".*"],
      ["permissions", "clear"],
      ["list", "nothing"],
      ["status", "--bogus"],
    ];
    const runs = await Promise.all(cases.map((args) => cli(d, args)));
    runs.forEach((r, i) => {
      assert.equal(r.code, 2, `broker ${cases[i].join(" ")}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stdout + r.stderr, /Usage: broker/, cases[i].join(" "));
    });
    // Nothing was created by any of them.
    assert.deepEqual(await userNames(d), ["guest"]);
    // Help is not an error.
    for (const args of [["--help"], ["user", "--help"], ["user", "add", "--help"]]) {
      await expectCode(d, 0, args);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Live: a server runs on the data dir

Deno.test({
  name: "live: CLI changes apply at once; listings show connections; status",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      const server = await serve(d);
      const clients: Client[] = [];
      try {
        // A user added through the CLI is in the server's model right away and can log in.
        await expectCode(d, 0, ["user", "add", "frank", "fr-pw", "--tags", "management"]);
        assert.ok(server.broker.users.get("frank"));
        await expectCode(d, 0, ["vhost", "add", "dev"]);
        assert.ok(server.broker.vhosts.has("dev"));
        await expectCode(d, 0, ["permissions", "set", "frank", ".*", ".*", ".*", "--vhost", "dev"]);
        const c = await connect(amqpUrl(server, "frank", "fr-pw", "dev"));
        clients.push(c);
        const ch = await c.channel();
        await ch.assertQueue("work", { durable: false });
        await ch.bindQueue("work", "amq.direct", "jobs");
        ch.sendToQueue("work", Buffer.from("job"));
        await ch.checkQueue("work");
        const consumerCh = await c.channel();
        await consumerCh.prefetch(5);
        await consumerCh.consume("work", () => {}, { consumerTag: "ctag-1" });

        const conns = await json(d, ["list", "connections"]);
        assert.equal(conns.length, 1);
        assert.equal(conns[0].user, "frank");
        assert.equal(conns[0].vhost, "dev");
        assert.equal(conns[0].channels, 2);
        assert.equal(conns[0].peer_host, "127.0.0.1");
        assert.deepEqual(await json(d, ["list", "connections", "--vhost", "/"]), []);
        const table = await expectCode(d, 0, ["list", "connections"]);
        assert.match(table.stdout, /frank\s+dev\s+2/);

        const chans = await json(d, ["list", "channels"]);
        assert.deepEqual(chans.map((r) => [r.user, r.consumer_count]).sort(), [
          ["frank", 0],
          ["frank", 1],
        ]);
        const consumers = await json(d, ["list", "consumers", "--vhost", "dev"]);
        assert.equal(consumers.length, 1);
        assert.equal(consumers[0].queue, "work");
        assert.equal(consumers[0].consumer_tag, "ctag-1");
        assert.equal(consumers[0].ack_required, true);
        assert.equal(consumers[0].prefetch_count, 5);
        const queues = await json(d, ["list", "queues", "--vhost", "dev"]);
        assert.deepEqual(queues.map((q) => [q.name, q.consumers]), [["work", 1]]);
        assert.deepEqual(await json(d, ["list", "queues"]), []);
        const bindings = await json(d, ["list", "bindings", "--vhost", "dev"]);
        assert.ok(
          bindings.some((b) =>
            b.source === "amq.direct" && b.destination === "work" && b.routing_key === "jobs"
          ),
        );
        assert.ok(bindings.some((b) => b.source === "" && b.destination === "work"));
        const exchanges = await json(d, ["list", "exchanges", "--vhost", "dev"]);
        assert.ok(exchanges.some((x) => x.name === "amq.direct" && x.type === "direct"));

        // status: running, exit 0.
        const status = await json<Record<string, unknown>>(d, ["status"]);
        assert.equal(status.running, true);
        assert.equal(status.connections, 1);
        assert.ok((status.listeners as string[]).includes(`127.0.0.1:${server.port}`));
        await expectCode(d, 0, ["status"]);

        // Deleting the user closes its connection.
        await expectCode(d, 0, ["user", "delete", "frank"]);
        assert.equal(await c.waitClosed(5000), true, "connection of the deleted user still open");
        assert.equal(c.closeError?.code, 320);
        assert.deepEqual(await json(d, ["list", "connections"]), []);
        assert.equal(server.broker.users.get("frank"), undefined);

        // Refusals come back live as exit code 1.
        await expectCode(d, 1, ["user", "delete", "frank"]);
        await expectCode(d, 1, ["vhost", "add", "dev"]);
      } finally {
        for (const c of clients) await c.close();
        await server.close();
      }
      // Stopped: status says so.
      const stopped = await expectCode(d, 1, ["status"]);
      assert.match(stopped.stderr, /not running/);
      // And the CLI works offline again on what the server left.
      assert.deepEqual(await userNames(d), ["guest"]);
    });
  },
});

Deno.test({
  name: "restart keeps users, vhosts and permissions (changed live and offline)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      let server = await serve(d);
      try {
        await expectCode(d, 0, ["user", "add", "gina", "gi-pw", "--tags", "monitoring"]);
        await expectCode(d, 0, ["vhost", "add", "prod", "--description", "Production"]);
        await expectCode(d, 0, [
          "permissions",
          "set",
          "gina",
          "^g-",
          ".*",
          ".*",
          "--vhost",
          "prod",
        ]);
        await expectCode(d, 0, ["user", "delete", "guest"]);
      } finally {
        await server.close();
      }
      // Offline while stopped.
      await expectCode(d, 0, ["user", "passwd", "gina", "gi-pw2"]);
      await expectCode(d, 0, ["user", "add", "hank", "hk-pw"]);

      server = await serve(d);
      try {
        const s = server.service;
        assert.deepEqual(s.listUsers(), [
          { name: "gina", tags: ["monitoring"] },
          { name: "hank", tags: [] },
        ]);
        assert.deepEqual(s.listVhosts().map((v) => [v.name, v.description]), [
          ["/", "Default virtual host"],
          ["prod", "Production"],
        ]);
        assert.deepEqual(s.listPermissions(), [
          { user: "gina", vhost: "prod", configure: "^g-", write: ".*", read: ".*" },
        ]);
        const c = await connect(amqpUrl(server, "gina", "gi-pw2", "prod"));
        try {
          const ch = await c.channel();
          await ch.assertQueue("g-q", { durable: false });
        } finally {
          await c.close();
        }
      } finally {
        await server.close();
      }
    });
  },
});

Deno.test({
  name: "concurrent CLI calls all succeed, offline and live",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      // Offline, on a data dir nobody has opened yet: they race to create and seed it too.
      const offline = Array.from({ length: 10 }, (_, i) => `off-${i}`);
      const runs = await Promise.all(offline.map((u) => cli(d, ["user", "add", u, `pw-${u}`])));
      runs.forEach((r, i) => assert.equal(r.code, 0, `${offline[i]}: ${r.stderr}`));
      assert.deepEqual(await userNames(d), [...offline, "guest"].sort());
      // Seeded once: one guest, one / with one permission.
      assert.deepEqual(await json(d, ["permissions", "list"]), [
        { user: "guest", vhost: "/", configure: ".*", write: ".*", read: ".*" },
      ]);

      const server = await serve(d);
      try {
        const live = Array.from({ length: 10 }, (_, i) => `live-${i}`);
        const liveRuns = await Promise.all(live.map((u) => cli(d, ["user", "add", u, `pw-${u}`])));
        liveRuns.forEach((r, i) => assert.equal(r.code, 0, `${live[i]}: ${r.stderr}`));
        const mixed = await Promise.all([
          ...live.map((u) => cli(d, ["permissions", "set", u, ".*", ".*", ".*"])),
          ...offline.map((u) => cli(d, ["user", "delete", u])),
        ]);
        mixed.forEach((r) => assert.equal(r.code, 0, r.stderr));
        const names = server.service.listUsers().map((u) => u.name);
        assert.deepEqual(names, ["guest", ...live].sort());
        assert.equal(server.service.listPermissions().length, 11);
      } finally {
        await server.close();
      }
      // All of it is in the store, too.
      assert.deepEqual(
        await userNames(d),
        ["guest", ...Array.from({ length: 10 }, (_, i) => `live-${i}`)].sort(),
      );
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Secrets stay secret

/** Collects a stream's text; `waitFor` resolves when a regex matches, within a deadline. */
class TextSink {
  text = "";
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of stream) {
        this.text += dec.decode(chunk, { stream: true });
        this.waiters = this.waiters.filter((w) => {
          const m = this.text.match(w.re);
          if (m) w.resolve(m);
          return !m;
        });
      }
    })();
  }

  waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}:\n${this.text}`)),
        ms,
      );
      this.waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

/** `main.ts serve` as a subprocess on 127.0.0.1, an ephemeral port, and `dataDir`. */
class ServeProcess {
  readonly out: TextSink;
  readonly err: TextSink;
  readonly status: Promise<Deno.CommandStatus>;
  /** The AMQP port, once the server has announced its listener. */
  port = 0;
  private exited = false;

  private constructor(private readonly proc: Deno.ChildProcess) {
    this.out = new TextSink(proc.stdout);
    this.err = new TextSink(proc.stderr);
    this.status = proc.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  static async start(dataDir: string, logLevel = "info"): Promise<ServeProcess> {
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "main.ts",
        "serve",
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--admin-port",
        "0",
        "--admin-bind",
        "127.0.0.1",
        "--metrics-port",
        "0",
        "--metrics-bind",
        "127.0.0.1",
        "--data-dir",
        dataDir,
        "--log-level",
        logLevel,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const s = new ServeProcess(proc);
    try {
      const m = await s.err.waitFor(/AMQP listener started address=127\.0\.0\.1:(\d+)/, 15_000);
      // The control socket starts before the listener is announced.
      s.port = Number(m[1]);
      return s;
    } catch (err) {
      await s.stop("SIGKILL");
      throw err;
    }
  }

  /** Sends `signal` (SIGKILL after 5 s if still running) and resolves to the exit status. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    if (!this.exited) this.proc.kill(signal);
    const timer = setTimeout(() => {
      if (!this.exited) this.proc.kill("SIGKILL");
    }, 5000);
    const status = await this.status;
    clearTimeout(timer);
    await Promise.all([this.out.done, this.err.done]);
    return status;
  }

  get log(): string {
    return this.out.text + this.err.text;
  }
}

Deno.test({
  name: "passwords appear neither in the server's debug log nor in CLI output",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      const secrets = ["Sekr1t-add", "Sekr1t-passwd", "Sekr1t-stdin", "Sekr1t-wrong"];
      const server = await ServeProcess.start(d, "debug");
      const cliOutput: string[] = [];
      const run = async (code: number, args: string[], input?: string) => {
        const r = await expectCode(d, code, args, input);
        cliOutput.push(r.stdout, r.stderr);
      };
      try {
        const port = server.port;
        await run(0, ["user", "add", "ivy", secrets[0]]);
        await run(0, ["user", "passwd", "ivy", secrets[1]]);
        await run(0, ["user", "passwd", "ivy", "--password-stdin"], `${secrets[2]}\n`);
        await run(0, ["permissions", "set", "ivy", ".*", ".*", ".*"]);
        await run(1, ["user", "add", "ivy", secrets[0]]);
        const c = await connect(`amqp://ivy:${secrets[2]}@127.0.0.1:${port}/`);
        await c.close();
        await assert.rejects(connect(`amqp://ivy:${secrets[3]}@127.0.0.1:${port}/`));
        await run(0, ["user", "delete", "ivy"]);
        await server.err.waitFor(/login refused/, 5000);
        await server.err.waitFor(/control operation op=user\.delete/, 5000);
      } finally {
        const s = await server.stop();
        assert.equal(s.code, 0, `serve exited with ${s.code}\n${server.log}`);
      }
      const log = server.log;
      assert.match(log, /\[debug\]/);
      for (const secret of secrets) {
        assert.ok(!log.includes(secret), `the server log contains a password:\n${log}`);
        for (const o of cliOutput) {
          assert.ok(!o.includes(secret), `CLI output contains a password: ${o}`);
        }
      }
    });
  },
});

Deno.test({
  name: "a killed server leaves a stale socket: the CLI works offline and a new server starts",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (d) => {
      const first = await ServeProcess.start(d);
      try {
        await expectCode(d, 0, ["user", "add", "jack", "jk-pw"]);
        await expectCode(d, 0, ["status"]);
      } finally {
        await first.stop("SIGKILL");
      }
      await Deno.stat(`${d}/control.sock`); // left behind
      await expectCode(d, 1, ["status"]);
      await expectCode(d, 0, ["permissions", "set", "jack", ".*", ".*", ".*"]);
      assert.deepEqual(await userNames(d), ["guest", "jack"]);

      const second = await ServeProcess.start(d);
      try {
        const st = await json<Record<string, unknown>>(d, ["status"]);
        assert.equal(st.running, true);
        const c = await connect(`amqp://jack:jk-pw@127.0.0.1:${second.port}/`);
        await c.close();
        // A second server on the same data dir is refused while the first runs.
        const third = await cli(d, [
          "serve",
          ...[
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--admin-port",
            "0",
            "--admin-bind",
            "127.0.0.1",
            "--metrics-port",
            "0",
            "--metrics-bind",
            "127.0.0.1",
          ],
        ]);
        assert.equal(third.code, 1, third.stderr);
        assert.match(third.stderr, /already running/);
      } finally {
        const s = await second.stop();
        assert.equal(s.code, 0, second.log);
      }
    });
  },
});
