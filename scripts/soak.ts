/**
 * A bounded soak: many connections publishing and consuming through many queues for a few
 * minutes, reporting throughput, latency and the broker's memory every interval, then counting
 * every message id (sent, confirmed, received, lost, duplicated). Exits 1 if any confirmed message
 * was lost (or a message arrived that was never sent), 2 on a usage error.
 *
 *   deno task soak -- --minutes 2 --connections 1000 --queues 100
 *   deno task soak -- --minutes 3 --url amqp://guest:guest@127.0.0.1:5700/
 *
 * Without --url it starts our broker (`deno run -A main.ts serve`) as a child process on a temp
 * data dir and free ports, reads its VmRSS from /proc, and stops it at the end.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Broker, startBroker, stopBroker, waitPort } from "./bench/recovery.ts";
import { assertLoopback, findListenerPid, freePort, hostPort } from "./bench/util.ts";
import { adminMemUsed, type MemorySource, procRss } from "./soak/memory.ts";
import { formatSoak } from "./soak/report.ts";
import { runSoak, type SoakOptions } from "./soak/run.ts";
import { BODY } from "./soak/ledger.ts";
import { BROKER_V8_FLAGS } from "./permissions.ts";

const USAGE = `Usage: deno task soak -- [options]

Limits (publishing stops at the first one reached; a drain follows):
  --minutes N          publishing time (default 2, at most 60)
  --max-messages N     total messages to publish (default 0 = no limit)
Load:
  --connections N      connections, half publishing, half consuming (default 1000)
  --queues N           queues; publisher/consumer i uses queue i % N (default 100)
  --rate N             messages per second per publisher (default 10)
  --size BYTES         body size, at least ${BODY.minSize} (default 64)
  --prefetch N         basic.qos per consumer, manual acks (default 50)
  --window N           unconfirmed publishes per publisher (default 100)
  --persistent         durable queues and persistent messages
Target:
  --url URI            an amqp:// broker on this machine; default: start our broker as a child
  --broker-pid PID     with --url: read this process's VmRSS from /proc
  --admin-url URL      with --url: else read mem_used from this management API's /api/nodes
                       (http://user:pass@127.0.0.1:15672); with neither, the VmRSS of the
                       local process listening on the URI's port, if /proc shows it
Output:
  --interval S         seconds between progress lines (default 10)
  --drain S            most seconds to wait for the consumers after publishing (default 60)
  --list-lost N        lost ids to list (default 20)
  --json               also print the result as one JSON object
  --keep               keep the child broker's data dir and log
`;

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function int(values: Record<string, unknown>, name: string, def: number, min: number, max: number) {
  const v = values[name] as string | undefined;
  if (v === undefined) return def;
  const num = Number(v);
  if (!Number.isInteger(num) || num < min || num > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return num;
}

class UsageError extends Error {}

/** Our broker as a child process on free ports and a temp data dir. */
async function startOwnBroker(): Promise<{ broker: Broker; uri: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "broker-soak-" });
  const port = freePort();
  const cmd = [
    Deno.execPath(),
    "run",
    "-A",
    ...BROKER_V8_FLAGS,
    MAIN,
    "serve",
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
    "--log-level",
    "warn",
  ];
  const broker = startBroker(cmd, port, `${dir}/data`, `${dir}/broker.log`);
  await waitPort(port, broker.child, 30);
  return { broker, uri: `amqp://guest:guest@127.0.0.1:${port}/`, dir };
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      minutes: { type: "string" },
      "max-messages": { type: "string" },
      connections: { type: "string" },
      queues: { type: "string" },
      rate: { type: "string" },
      size: { type: "string" },
      prefetch: { type: "string" },
      window: { type: "string" },
      persistent: { type: "boolean" },
      url: { type: "string" },
      "broker-pid": { type: "string" },
      "admin-url": { type: "string" },
      interval: { type: "string" },
      drain: { type: "string" },
      "list-lost": { type: "string" },
      json: { type: "boolean" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes ?? 2);
  if (!(minutes > 0 && minutes <= 60)) throw new UsageError("--minutes must be from 0 to 60");
  const connections = int(values, "connections", 1000, 2, 20_000);
  const queues = int(values, "queues", 100, 1, 10_000);
  const options: Omit<SoakOptions, "uri" | "memory"> = {
    connections,
    queues,
    minutes,
    maxMessages: int(values, "max-messages", 0, 0, 1e9),
    rate: int(values, "rate", 10, 1, 100_000),
    size: int(values, "size", 64, BODY.minSize, 16 << 20),
    prefetch: int(values, "prefetch", 50, 0, 65535),
    window: int(values, "window", 100, 1, 100_000),
    persistent: values.persistent ?? false,
    intervalS: int(values, "interval", 10, 1, 3600),
    drainS: int(values, "drain", 60, 1, 3600),
    listLost: int(values, "list-lost", 20, 0, 100_000),
    log: (line) => console.log(line),
  };
  if (connections - Math.floor(connections / 2) < queues) {
    throw new UsageError("--connections must give every queue a consumer (at least 2 × --queues)");
  }

  let own: Awaited<ReturnType<typeof startOwnBroker>> | undefined;
  let uri: string;
  let memory: MemorySource | undefined;
  let label: string;
  if (values.url) {
    uri = values.url;
    assertLoopback(uri);
    // An explicit pid, else an explicit management API, else the local listener's process.
    const pid = values["broker-pid"] ? int(values, "broker-pid", 0, 1, 2 ** 31) : undefined;
    if (pid) memory = procRss(pid);
    else if (values["admin-url"]) memory = adminMemUsed(values["admin-url"]);
    else {
      const found = findListenerPid(hostPort(uri).port);
      if (found) memory = procRss(found);
    }
    label = uri.replace(/\/\/[^@]*@/, "//");
  } else {
    own = await startOwnBroker();
    uri = own.uri;
    memory = procRss(own.broker.child.pid);
    label = `our broker (child pid ${own.broker.child.pid}, ${uri.replace(/\/\/[^@]*@/, "//")})`;
  }
  console.log(`soak against ${label}; memory: ${memory?.label ?? "not measured"}`);
  let ok = false;
  try {
    const result = await runSoak({ ...options, uri, memory });
    console.log("\n" + formatSoak(result, label));
    if (values.json) console.log(JSON.stringify(result));
    ok = result.tally.lost === 0 && result.tally.unknown === 0;
    return ok ? 0 : 1;
  } finally {
    if (own) {
      const code = await stopBroker(own.broker, 30);
      own.broker.log.close();
      if (code !== 0) console.log(`broker exited with ${code ?? "SIGKILL"} (log ${own.dir})`);
      if (values.keep || code !== 0 || !ok) console.log(`broker data and log kept in ${own.dir}`);
      else await Deno.remove(own.dir, { recursive: true });
    }
  }
}

try {
  // `deno task soak -- --opt` passes the "--" through.
  Deno.exit(await main(Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args));
} catch (err) {
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  console.error(`soak failed: ${(err as Error).stack ?? err}`);
  Deno.exit(1);
}
