/**
 * What can be checked here of the single-binary release (issue 9):
 *
 * - The broker runs from another working directory with exactly the permissions `deno task
 *   compile` bakes in (scripts/permissions.ts) and read access to the repository denied, so the
 *   module graph is static (the UI and its assets are embedded, no source file is read at run
 *   time) and the permission list suffices: the UI, the management API, an AMQP round trip with
 *   amqplib, `broker status` and a graceful SIGTERM; and the interop tests that take their broker
 *   from TEST_AMQP_URL pass against it.
 * - `--help` of every command exits 0 with its usage; `--version` prints version and commit.
 * - The Dockerfile (parsed: no Docker engine here) passes the CLI flags it accepts, exposes its
 *   default ports and agrees with itself on the data dir; the compose example's config loads.
 * - The compiled binary, only when `DENORT_BIN` points at a local denort (`deno compile` downloads
 *   it from Deno's servers otherwise, which these machines cannot reach).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import amqp from "amqplib";
import { BROKER_PERMISSIONS, BROKER_V8_FLAGS } from "../../scripts/permissions.ts";
import { ChildBroker, freePort } from "../helpers/child_broker.ts";
import { UI_ASSETS } from "../../src/admin/ui/assets.ts";
import { DEFAULT_CONFIG } from "../../src/config/types.ts";
import { loadConfig } from "../../src/config/load.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const MAIN = `${ROOT}/main.ts`;

/** How to start the broker: a program and the arguments before the broker's own. */
type Launcher = { program: string; prefix: string[] };

/** `deno run` with the release permissions; reading the repository is denied. */
const FROM_SOURCE: Launcher = {
  program: Deno.execPath(),
  prefix: ["run", ...BROKER_PERMISSIONS, ...BROKER_V8_FLAGS, `--deny-read=${ROOT}`, MAIN],
};

/**
 * The broker's environment: nothing from the test's own configures it (no BROKER_* or RABBITMQ_*
 * variable), only what Deno itself needs to find its cache. Used with `clearEnv: true`.
 */
const CLEAN_ENV: Record<string, string> = { NO_COLOR: "1" };
for (const name of ["PATH", "HOME", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
  const value = Deno.env.get(name);
  if (value !== undefined) CLEAN_ENV[name] = value;
}

/** Permission failures as Deno words them; none may appear in the broker's output. */
const PERMISSION_ERROR = /NotCapable|PermissionDenied|Requires \w+ access/;

interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

async function runBroker(launcher: Launcher, args: string[], cwd: string): Promise<Output> {
  const out = await new Deno.Command(launcher.program, {
    args: [...launcher.prefix, ...args],
    cwd,
    clearEnv: true,
    env: CLEAN_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function withTempDirs<T>(fn: (cwd: string, dataDir: string) => Promise<T>): Promise<T> {
  const cwd = await Deno.makeTempDir({ prefix: "broker-release-cwd-" });
  const dataDir = await Deno.makeTempDir({ prefix: "broker-release-data-" });
  try {
    return await fn(cwd, dataDir);
  } finally {
    await Deno.remove(cwd, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  }
}

/**
 * Starts `serve` from `cwd` on loopback ports with `launcher`, in a clean environment, and waits
 * for its AMQP and management listeners. The Prometheus listener, which has no flag, is put on a
 * free loopback port too, by a config file in `cwd` (RabbitMQ's 15692 on all interfaces would
 * clash between brokers started side by side).
 */
async function startServe(
  launcher: Launcher,
  cwd: string,
  dataDir: string,
  logLevel = "info",
): Promise<{ broker: ChildBroker; adminPort: number; metricsPort: number }> {
  const port = freePort();
  const adminPort = freePort();
  const metricsPort = freePort();
  const config = `${cwd}/rabbitmq.conf`;
  await Deno.writeTextFile(
    config,
    `prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = ${metricsPort}\n`,
  );
  const process = new Deno.Command(launcher.program, {
    args: [
      ...launcher.prefix,
      ...["serve", "--config", config, "--port", String(port), "--bind", "127.0.0.1"],
      ...["--admin-port", String(adminPort), "--admin-bind", "127.0.0.1"],
      ...["--data-dir", dataDir, "--log-level", logLevel],
    ],
    cwd,
    clearEnv: true,
    env: CLEAN_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const broker = new ChildBroker(process, port, dataDir);
  try {
    await broker.waitForLog(/AMQP listener started/, 15_000);
    await broker.waitForLog(/management HTTP API started/, 5_000);
  } catch (err) {
    await broker.stop();
    throw err;
  }
  return { broker, adminPort, metricsPort };
}

/** docker stop: SIGTERM is a graceful shutdown with exit code 0, and no permission was missing. */
async function stopGracefully(broker: ChildBroker): Promise<void> {
  broker.kill("SIGTERM");
  const exited = await broker.waitExit(10_000);
  assert.equal(exited.code, 0, broker.output);
  assert.match(broker.output, /stopped/);
  assert.doesNotMatch(broker.output, PERMISSION_ERROR);
}

/**
 * Starts `serve` from `cwd` on loopback ports, checks the UI, the management API, an AMQP round
 * trip and `status` (all with the same launcher), then stops it with SIGTERM.
 */
async function serveAndCheck(launcher: Launcher): Promise<void> {
  await withTempDirs(async (cwd, dataDir) => {
    const { broker, adminPort, metricsPort } = await startServe(launcher, cwd, dataDir);
    try {
      const http = `http://127.0.0.1:${adminPort}`;

      // The Prometheus endpoint, where this build has one (it logs that it started).
      if (/Prometheus metrics started/.test(broker.output)) {
        const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal(metrics.status, 200, "GET /metrics");
        assert.match(await metrics.text(), /^# (HELP|TYPE) /m, "GET /metrics");
      }

      // The UI: the page and every embedded asset, byte for byte.
      for (const [path, asset] of Object.entries(UI_ASSETS)) {
        const res = await fetch(`${http}${path}`);
        assert.equal(res.status, 200, `GET ${path}`);
        assert.equal(res.headers.get("content-type"), asset.contentType, `GET ${path}`);
        assert.equal(await res.text(), asset.body, `GET ${path}`);
      }

      // The API, including the figures that need sys access (fd_used needs -A: not checked).
      const auth = { authorization: `Basic ${btoa("guest:guest")}` };
      const overview = await fetch(`${http}/api/overview`, { headers: auth });
      assert.equal(overview.status, 200);
      assert.equal((await overview.json()).product_name, "broker");
      const nodes = await fetch(`${http}/api/nodes`, { headers: auth });
      assert.equal(nodes.status, 200);
      const [node] = await nodes.json();
      assert.equal(node.name, `broker@${Deno.hostname()}`, "sys: hostname");
      assert.ok(node.mem_limit > 0, "sys: systemMemoryInfo");
      assert.equal(typeof node.disk_free, "number", "sys: statfs of the data dir");

      // AMQP: a durable queue and a persistent, confirmed message (the message store writes).
      const conn = await amqp.connect(broker.url);
      try {
        const ch = await conn.createConfirmChannel();
        const { queue } = await ch.assertQueue("release-round-trip", { durable: true });
        ch.sendToQueue(queue, Buffer.from("hello"), { persistent: true });
        await ch.waitForConfirms();
        const msg = await ch.get(queue, { noAck: false });
        assert.ok(msg, "the message came back");
        assert.equal(new TextDecoder().decode(msg.content), "hello");
        ch.ack(msg);
        await ch.deleteQueue(queue);
        await ch.close();
      } finally {
        await conn.close();
      }

      // `broker status` with the same permissions, through the control socket.
      const status = await runBroker(
        launcher,
        ["status", "--data-dir", dataDir, "--format", "json"],
        cwd,
      );
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).running, true);

      await stopGracefully(broker);
      assert.ok((await Deno.stat(`${dataDir}/metadata.db`)).isFile);
    } finally {
      await broker.stop();
    }
  });
}

/**
 * The interop test files that take their broker from TEST_AMQP_URL (tests/helpers/broker.ts) and
 * need nothing else of it (no in-process hooks, no rabbitmqctl): amqplib, @cloudamqp/amqp-client,
 * pika and kombu against the model, content, RabbitMQ's extensions and the tutorials.
 */
const URL_INTEROP_TESTS = [
  "amqplib_basic_test.ts",
  "amqplib_model_test.ts",
  "content_test.ts",
  "extensions_test.ts",
  "ttl_dlx_test.ts",
  "priority_expiry_test.ts",
  "direct_reply_to_test.ts",
  "pika_tutorials_test.ts",
];

/** The commands the top-level help lists. */
function commandsIn(help: string): string[] {
  const section = help.split("Commands:\n")[1]?.split("\n\n")[0] ?? "";
  return section.split("\n").map((l) => l.trim().split(/\s+/)[0]).filter((c) => c !== "");
}

Deno.test("release: serves from another cwd with only the release permissions, source unreadable", async () => {
  await serveAndCheck(FROM_SOURCE);
});

Deno.test("release: the interop tests pass against a broker with only the release permissions", async () => {
  await withTempDirs(async (cwd, dataDir) => {
    // debug: the broker logs each connection it opens, so the run is seen to have used it.
    const { broker } = await startServe(FROM_SOURCE, cwd, dataDir, "debug");
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        // Type-checked by `deno task check` already.
        args: [
          "test",
          "-A",
          "--no-check",
          ...URL_INTEROP_TESTS.map((f) => `${ROOT}/tests/interop/${f}`),
        ],
        cwd: ROOT,
        clearEnv: true,
        env: { ...CLEAN_ENV, TEST_AMQP_URL: broker.url },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      const report = dec.decode(run.stdout) + dec.decode(run.stderr);
      assert.equal(run.code, 0, `the interop tests failed:\n${report.slice(-6000)}`);
      const passed = Number(report.match(/\bok \| (\d+) passed/)?.[1] ?? 0);
      assert.ok(passed > 0, `no interop test passed:\n${report.slice(-2000)}`);
      const opened = broker.output.match(/connection opened/g)?.length ?? 0;
      assert.ok(opened > 0, "the interop tests did not connect to the release broker");
      await stopGracefully(broker);
    } finally {
      await broker.stop();
    }
  });
});

Deno.test("release: the default data dir is ./data in the working directory", async () => {
  await withTempDirs(async (cwd) => {
    const out = await runBroker(FROM_SOURCE, ["user", "list"], cwd);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /guest/);
    assert.ok((await Deno.stat(`${cwd}/data/metadata.db`)).isFile);
  });
});

Deno.test("release: --help of every command exits 0 with its usage", async () => {
  await withTempDirs(async (cwd) => {
    const top = await runBroker(FROM_SOURCE, ["--help"], cwd);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /^broker .*\n\nUsage: broker <command>/);
    const commands = commandsIn(top.stdout);
    for (const c of ["serve", "user", "vhost", "permissions", "list", "status", "definitions"]) {
      assert.ok(commands.includes(c), `${c} in the help's command list: ${commands}`);
    }
    await Promise.all(commands.map(async (c) => {
      for (const flag of ["--help", "-h"]) {
        const out = await runBroker(FROM_SOURCE, [c, flag], cwd);
        assert.equal(out.code, 0, `broker ${c} ${flag}: ${out.stderr}`);
        assert.match(out.stdout, new RegExp(`^Usage: broker ${c}\\b`), `broker ${c} ${flag}`);
        assert.equal(out.stderr, "", `broker ${c} ${flag}`);
      }
    }));
    const none = await runBroker(FROM_SOURCE, [], cwd);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: broker <command>/);
    const unknown = await runBroker(FROM_SOURCE, ["frobnicate"], cwd);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  });
});

/** `broker --version`: the version and the commit ("dev" from source, a hash from a build). */
const VERSION_LINE =
  /^broker (\d+\.\d+\.\d+\S*) \(commit (dev|unknown|[0-9a-f]{7,40}(-dirty)?)\)\n$/;

Deno.test("release: --version prints the version and the build's commit", async () => {
  await withTempDirs(async (cwd) => {
    for (const flag of ["--version", "-V"]) {
      const out = await runBroker(FROM_SOURCE, [flag], cwd);
      assert.equal(out.code, 0, out.stderr);
      const m = out.stdout.match(VERSION_LINE);
      assert.ok(m, `unexpected --version output: ${JSON.stringify(out.stdout)}`);
      assert.equal(m[1], VERSION);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The Dockerfile and the compose example, parsed

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, with comments dropped and continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const m = full.match(/^(\w+)\s+(.*)$/s);
    assert.ok(m, `cannot parse Dockerfile line: ${full}`);
    out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

/** An instruction's exec form (a JSON array), failing on the shell form. */
function execForm(ins: Instruction | undefined, what: string): string[] {
  assert.ok(ins, `the Dockerfile has no ${what}`);
  const json = ins.op === "HEALTHCHECK" ? ins.args.replace(/^.*?\bCMD\s+/s, "") : ins.args;
  assert.ok(json.startsWith("["), `${what} must use the exec form (a JSON array): ${ins.args}`);
  return JSON.parse(json);
}

/** `--name value` pairs of an argument list. */
function flagValues(args: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith("--")) flags.set(args[i], args[++i]);
  }
  return flags;
}

Deno.test("release: the Dockerfile's entrypoint, flags, ports and data dir match the CLI", async () => {
  const all = parseDockerfile(await Deno.readTextFile(`${ROOT}/Dockerfile`));
  const stages = all.map((ins, i) => ({ ins, i })).filter(({ ins }) => ins.op === "FROM");
  assert.ok(stages.length >= 2, "multi-stage: a build stage and a run stage");
  assert.match(stages[0].ins.args, new RegExp(`\\bdenoland/deno:${Deno.version.deno}\\b`));
  const runStage = all.slice(stages[stages.length - 1].i);
  assert.doesNotMatch(runStage[0].args, /denoland\/deno/, "the run stage has no Deno");
  assert.ok(
    all.some((i) => i.op === "RUN" && /\bdeno task compile\b/.test(i.args)),
    "the build stage runs deno task compile",
  );
  const last = (op: string) => runStage.filter((i) => i.op === op).at(-1);

  const entrypoint = execForm(last("ENTRYPOINT"), "ENTRYPOINT");
  assert.equal(entrypoint.length, 1, "ENTRYPOINT is the binary alone");
  const binary = entrypoint[0];
  assert.ok(
    runStage.some((i) =>
      i.op === "COPY" && i.args.startsWith("--from=") && i.args.endsWith(binary)
    ),
    `${binary} is copied from the build stage`,
  );
  const cmd = execForm(last("CMD"), "CMD");
  assert.equal(cmd[0], "serve");
  const health = execForm(last("HEALTHCHECK"), "HEALTHCHECK");
  assert.equal(health[0], binary);
  assert.equal(health[1], "status");

  // Every flag is one the command lists in its help, and the command accepts them together.
  await withTempDirs(async (cwd) => {
    for (const args of [cmd, health.slice(1)]) {
      const help = await runBroker(FROM_SOURCE, [args[0], "--help"], cwd);
      for (const flag of flagValues(args).keys()) {
        assert.match(help.stdout, new RegExp(`^\\s+${flag}\\b`, "m"), `broker ${args[0]} ${flag}`);
      }
      const parsed = await runBroker(FROM_SOURCE, [...args, "--help"], cwd);
      assert.equal(parsed.code, 0, `broker ${args.join(" ")}: ${parsed.stderr}`);
    }
  });

  // The data dir: one path for serve, the health check, the volume and `docker exec broker …`.
  const dataDir = flagValues(cmd.slice(1)).get("--data-dir");
  assert.ok(dataDir?.startsWith("/"), "serve gets an absolute --data-dir");
  assert.equal(flagValues(health.slice(2)).get("--data-dir"), dataDir);
  assert.deepEqual(execForm(last("VOLUME"), "VOLUME"), [dataDir]);
  assert.equal(last("ENV")?.args, `BROKER_DATA_DIR=${dataDir}`);

  const ports = runStage.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
  assert.deepEqual(
    ports.map(Number).sort(),
    [
      DEFAULT_CONFIG.listeners[0].port,
      DEFAULT_CONFIG.management.port,
      15692, // Prometheus, as RabbitMQ
    ].sort(),
  );

  const user = last("USER")?.args ?? "root";
  assert.doesNotMatch(user, /^(root|0)(:|$)/, "runs as a non-root user");
});

Deno.test("release: the compose example mounts a config file the broker loads cleanly", async () => {
  const compose = await Deno.readTextFile(`${ROOT}/docker-compose.yml`);
  const configFile = compose.match(/^\s+BROKER_CONFIG_FILE:\s*(\S+)$/m)?.[1];
  assert.ok(configFile, "BROKER_CONFIG_FILE is set");
  assert.match(compose, new RegExp(`^\\s+target:\\s*${configFile}$`, "m"), "mounted there");
  const volume = parseDockerfile(await Deno.readTextFile(`${ROOT}/Dockerfile`))
    .filter((i) => i.op === "VOLUME").at(-1)?.args;
  assert.match(compose, new RegExp(`^\\s+- \\S+:${JSON.parse(volume!)[0]}$`, "m"), "a volume");

  // The inline `content: |` block is the config file; it must load without a warning.
  const lines = compose.split("\n");
  const start = lines.findIndex((l) => /^\s+content: \|$/.test(l));
  assert.ok(start >= 0, "an inline config");
  const indent = lines[start + 1].match(/^\s*/)![0];
  const body: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() !== "" && !l.startsWith(indent)) break;
    body.push(l.slice(indent.length));
  }
  const dir = await Deno.makeTempDir({ prefix: "broker-release-conf-" });
  try {
    await Deno.writeTextFile(`${dir}/rabbitmq.conf`, body.join("\n"));
    const { config, warnings } = loadConfig({ flags: { config: `${dir}/rabbitmq.conf` }, env: {} });
    assert.deepEqual(warnings, []);
    assert.notEqual(config.defaultUser, "guest", "guest can log in only from loopback");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The compiled binary

const DENORT_BIN = Deno.env.get("DENORT_BIN");
const COMPILE_SKIP = DENORT_BIN
  ? null
  : "DENORT_BIN is not set (deno compile downloads denort from Deno's servers otherwise)";
if (COMPILE_SKIP) console.warn(`release compile test skipped: ${COMPILE_SKIP}`);

/** Copies what the compile reads into `dir`, so the build never touches the working tree. */
async function copySources(dir: string): Promise<void> {
  const copy = async (rel: string) => {
    const info = await Deno.stat(`${ROOT}/${rel}`);
    if (info.isDirectory) {
      await Deno.mkdir(`${dir}/${rel}`, { recursive: true });
      for await (const e of Deno.readDir(`${ROOT}/${rel}`)) await copy(`${rel}/${e.name}`);
    } else await Deno.copyFile(`${ROOT}/${rel}`, `${dir}/${rel}`);
  };
  for (const rel of ["main.ts", "deno.json", "deno.lock", "src", "scripts"]) await copy(rel);
}

Deno.test({
  name: `release: the compiled binary behaves as deno run${
    COMPILE_SKIP ? ` (skipped: ${COMPILE_SKIP})` : ""
  }`,
  ignore: COMPILE_SKIP !== null,
  async fn() {
    const build = await Deno.makeTempDir({ prefix: "broker-release-build-" });
    try {
      await copySources(build);
      const compile = await new Deno.Command(Deno.execPath(), {
        args: ["task", "compile", "--commit", "abc1234def56", "--out-dir", `${build}/dist`],
        cwd: build,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(compile.code, 0, new TextDecoder().decode(compile.stderr));
      const binary: Launcher = { program: `${build}/dist/broker-${Deno.build.target}`, prefix: [] };

      await withTempDirs(async (cwd) => {
        const version = await runBroker(binary, ["--version"], cwd);
        assert.equal(version.stdout, `broker ${VERSION} (commit abc1234def56)\n`);
        for (const args of [["--help"], ["serve", "--help"], ["user", "--help"], []]) {
          const [got, want] = await Promise.all([
            runBroker(binary, args, cwd),
            runBroker(FROM_SOURCE, args, cwd),
          ]);
          assert.deepEqual(got, want, `broker ${args.join(" ")}`);
        }
      });
      await serveAndCheck(binary);
    } finally {
      await Deno.remove(build, { recursive: true });
    }
  },
});
