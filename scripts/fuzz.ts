/**
 * A long seeded fuzz on demand: rounds of decoder fuzzing and socket fuzzing against one
 * in-process broker (or a broker already running, with --port), until the time is up. The broker
 * must never answer INTERNAL_ERROR, send a malformed frame, throw an unhandled error, fail a fresh
 * client's round trip between rounds, or keep connections its clients have dropped.
 *
 *   deno run -A scripts/fuzz.ts --seconds 300 --seed 42
 *   deno run -A scripts/fuzz.ts --seed 42 --case 1234          # replay one socket case, traced
 *   deno run -A scripts/fuzz.ts --decoder-only --seed 7 --iterations 5000
 *
 * Options:
 *   --seconds N       how long to run (default 60)
 *   --seed N          the seed (default: from the clock, printed)
 *   --case N          replay socket case N of the seed (with a trace of every frame), then stop
 *   --cases N         socket cases per round (default 500)
 *   --concurrency N   connections in flight (default 8)
 *   --iterations N    decoder inputs per round (default 50000)
 *   --large-body N    largest of the occasional large message bodies (default 20000; a case
 *                     replays only with the value it ran with)
 *   --decoder-only    only the decoders (no broker)
 *   --port N          fuzz the broker listening on 127.0.0.1:N instead of an in-process one
 *   --log-level L     the in-process broker's log level (default error)
 */
import { startServer } from "../src/server/server.ts";
import type { BrokerServer } from "../src/server/server.ts";
import type { LogLevel } from "../src/log.ts";
import { decoderFuzz, FuzzFailure, socketFuzz, tidyFuzzQueues } from "../tests/helpers/fuzz.ts";
import type { SocketFuzzStats } from "../tests/helpers/fuzz.ts";
import { rawRoundTrip } from "../tests/helpers/raw_amqp.ts";

interface Args {
  seconds: number;
  seed: number;
  case?: number;
  cases: number;
  concurrency: number;
  iterations: number;
  largeBody?: number;
  decoderOnly: boolean;
  port?: number;
  logLevel: LogLevel;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    seconds: 60,
    seed: Date.now() % 1_000_000_007,
    cases: 500,
    concurrency: 8,
    iterations: 50_000,
    decoderOnly: false,
    logLevel: "error",
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
      return v;
    };
    switch (flag) {
      case "--seconds":
        args.seconds = num();
        break;
      case "--seed":
        args.seed = num();
        break;
      case "--case":
        args.case = num();
        break;
      case "--cases":
        args.cases = num();
        break;
      case "--concurrency":
        args.concurrency = num();
        break;
      case "--iterations":
        args.iterations = num();
        break;
      case "--port":
        args.port = num();
        break;
      case "--large-body":
        args.largeBody = num();
        break;
      case "--decoder-only":
        args.decoderOnly = true;
        break;
      case "--log-level":
        args.logLevel = argv[++i] as LogLevel;
        break;
      case "-h":
      case "--help":
        console.log(
          "usage: deno run -A scripts/fuzz.ts [--seconds N] [--seed N] [--case N] [--cases N]\n" +
            "  [--concurrency N] [--iterations N] [--large-body N] [--decoder-only] [--port N]\n" +
            "  [--log-level L]",
        );
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown option ${flag} (try --help)`);
    }
  }
  return args;
}

const args = parseArgs(Deno.args);
const failures: string[] = [];
const unhandled: string[] = [];
globalThis.addEventListener("unhandledrejection", (e) => {
  unhandled.push(`unhandled rejection: ${String(e.reason?.stack ?? e.reason)}`);
  e.preventDefault();
});
globalThis.addEventListener("error", (e) => {
  unhandled.push(`uncaught error: ${String(e.error?.stack ?? e.error)}`);
  e.preventDefault();
});

let server: BrokerServer | undefined;
let port = args.port ?? 0;
if (!args.decoderOnly && args.port === undefined) {
  server = await startServer({
    port: 0,
    hostname: "127.0.0.1",
    logLevel: args.logLevel,
    handshakeTimeoutMs: 2_000,
  });
  port = server.port;
}

function merge(total: SocketFuzzStats, s: SocketFuzzStats): void {
  total.cases += s.cases;
  total.framesSent += s.framesSent;
  total.bytesSent += s.bytesSent;
  for (const [k, v] of Object.entries(s.outcomes)) total.outcomes[k] = (total.outcomes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.channelCloses)) {
    total.channelCloses[k] = (total.channelCloses[k] ?? 0) + v;
  }
  for (const [k, v] of Object.entries(s.texts)) {
    const seen = total.texts[k] ??= [];
    for (const t of v) if (seen.length < 12 && !seen.includes(t)) seen.push(t);
  }
  failures.push(...s.failures);
}

const total: SocketFuzzStats = {
  cases: 0,
  outcomes: {},
  channelCloses: {},
  texts: {},
  framesSent: 0,
  bytesSent: 0,
  failures: [],
};
let decoded = 0;
const t0 = Date.now();
const deadline = t0 + args.seconds * 1000;

try {
  if (args.case !== undefined) {
    console.log(`replaying seed ${args.seed} case ${args.case} against 127.0.0.1:${port}`);
    const s = await socketFuzz({
      port,
      seed: args.seed,
      cases: 1,
      firstCase: args.case,
      concurrency: 1,
      largeBody: args.largeBody,
      trace: (line) => console.log(line),
    });
    merge(total, s);
  } else {
    console.log(
      `fuzzing for ${args.seconds} s with seed ${args.seed}` +
        (args.decoderOnly ? " (decoders only)" : ` against 127.0.0.1:${port}`),
    );
    let nextCase = 0;
    for (let round = 0; Date.now() < deadline; round++) {
      try {
        decoded += decoderFuzz(args.seed + round, args.iterations).iterations;
      } catch (err) {
        failures.push(err instanceof FuzzFailure ? err.message : String(err));
        break;
      }
      if (args.decoderOnly) continue;
      const s = await socketFuzz({
        port,
        seed: args.seed,
        cases: args.cases,
        firstCase: nextCase,
        concurrency: args.concurrency,
        largeBody: args.largeBody,
        deadline,
      });
      nextCase += s.cases;
      merge(total, s);
      try {
        await rawRoundTrip(port);
        await tidyFuzzQueues(port); // so a long run's memory stays flat
      } catch (err) {
        failures.push(`after case ${nextCase}: the broker no longer serves a client: ${err}`);
      }
      const mem = Math.round(Deno.memoryUsage().rss / 2 ** 20);
      const queues = server?.broker.vhosts.get("/")?.queues.size;
      console.log(
        `${Math.round((Date.now() - t0) / 1000)} s: ${decoded} decoder inputs, ${total.cases} ` +
          `connections, ${failures.length} failures, rss ${mem} MiB` +
          (queues === undefined ? "" : `, ${queues} queues`),
      );
      if (failures.length > 0 || unhandled.length > 0) break;
    }
  }
  if (server) {
    // Every fuzz connection must be let go (a close-ok grace period is 3 s).
    const until = Date.now() + 5_000;
    while (server.connections.size > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (server.connections.size > 0) {
      failures.push(`${server.connections.size} connections still open after the fuzz`);
    }
  }
} finally {
  await server?.close();
}

failures.push(...unhandled);
console.log(
  `\n${decoded} decoder inputs; ${total.cases} connections, ${total.framesSent} frames, ` +
    `${total.bytesSent} bytes in ${Math.round((Date.now() - t0) / 1000)} s\n` +
    `connection endings: ${JSON.stringify(total.outcomes)}\n` +
    `channel.close codes: ${JSON.stringify(total.channelCloses)}`,
);
for (const [code, texts] of Object.entries(total.texts)) {
  console.log(`  ${code}: ${texts.map((t) => JSON.stringify(t.slice(0, 120))).join(", ")}`);
}
if (failures.length > 0) {
  console.log(`\n${failures.length} FAILURES:\n${failures.join("\n")}`);
  Deno.exit(1);
}
console.log("no failures");
