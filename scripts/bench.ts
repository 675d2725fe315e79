/**
 * Load generator for AMQP 0-9-1 brokers, in the spirit of RabbitMQ's PerfTest and lavinmqperf.
 * Drives any broker at an amqp:// URI on this machine and reports publish rate, delivery rate,
 * latency and loss. Producers and consumers use a minimal wire client of the benchmark's own
 * (scripts/bench/wire.ts, no broker code) by default, or the npm client `@cloudamqp/amqp-client`
 * with `--client amqp-client`; topology and the other scenarios use amqp-client.
 *
 *   deno task bench -- --producers 1 --consumers 1 --size 16 --duration 10
 *   deno task bench -- --scenario 3 --json
 *   deno task bench -- --scenario connections --broker-pid 1234
 *   deno task bench -- --scenario recovery --broker-cmd "deno run -A main.ts serve"
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runConnections } from "./bench/connections.ts";
import { runQueues } from "./bench/queues.ts";
import { runRecovery } from "./bench/recovery.ts";
import { runThroughput, type ThroughputOptions } from "./bench/throughput.ts";
import {
  assertLoopback,
  CLIENT_NAME,
  findListenerPid,
  hostPort,
  readVm,
  WIRE_CLIENT_NAME,
} from "./bench/util.ts";
import { formatResult } from "./bench/report.ts";
import type { BenchClient } from "./bench/consumers.ts";

const USAGE = `Usage: deno task bench -- [options]

Target:
  --uri URI              amqp:// URI (default amqp://guest:guest@127.0.0.1:5672/; loopback only)
Throughput run (PerfTest style):
  --producers N          publishing connections (default 1)
  --consumers N          consuming connections (default 1); consumer j reads queue j % queues
  --queues N             queues bound to the exchange (default 1)
  --exchange-type T      direct (each message to one queue, round-robin) or fanout (to all)
  --size BYTES           body size (default 16; >= 16 carries a timestamp for latency)
  --persistent           delivery-mode 2
  --durable              durable exchange and queues
  --confirm WINDOW       publisher confirms, at most WINDOW unconfirmed per producer
  --ack-every N          manual ack (multiple=true) every N deliveries (default 0 = auto-ack)
  --prefetch N           basic.qos per consumer (default 0 = unlimited)
  --rate MSGS_PER_S      fixed total publish rate (default 0 = as fast as possible)
  --duration SECONDS     publishing time, 1-300 (default 10); a drain of up to 60 s follows
Scenarios (--scenario NAME or number):
  1 transient-16    1→1, 16 B, auto-ack
  2 transient-1k    1→1, 1 KiB, auto-ack
  3 persistent-1k   durable queue, persistent 1 KiB, confirms (256), manual ack every 50,
                    prefetch 500
  4 fanout-10       fanout to 10 queues, 10 consumers, 256 B
  5 latency-2000    fixed 2000 msg/s, 256 B: latency percentiles
  6 large-64k       64 KiB bodies, MB/s
  7 connections     broker RSS growth per idle connection (--connections N, default 1000;
                    --broker-pid PID, else found from the listening port via /proc)
  8 queues          declare N queues (--queue-count, default 1000), one message through each
  9 recovery        starts the broker itself (--broker-cmd "deno run -A main.ts serve"; the
                    script appends --port P --data-dir D), fills a durable queue with --messages
                    (default 200000, at most 1000000) persistent 1 KiB messages, SIGTERM,
                    restart, time to port / to full count, RSS; then drains to check for loss
                    (--no-drain skips). --data-dir DIR keeps the data; --broker-port P.
Client:
  --client NAME          wire (default: scripts/bench/wire.ts, pre-encoded batched publishes,
                         in-place frame scanning) or amqp-client (@cloudamqp/amqp-client 4)
Output:
  --broker-pid PID       also report the broker's VmRSS / VmHWM after the run
  --json                 one JSON object on stdout
  --label TEXT           copied into the JSON (used by compare-rabbitmq.sh)
`;

const SCENARIOS: Record<string, Partial<ThroughputOptions> & { name: string }> = {
  "1": { name: "transient-16", size: 16 },
  "2": { name: "transient-1k", size: 1024 },
  "3": {
    name: "persistent-1k",
    size: 1024,
    durable: true,
    persistent: true,
    confirm: 256,
    ackEvery: 50,
    prefetch: 500,
  },
  "4": { name: "fanout-10", size: 256, exchangeType: "fanout", queues: 10, consumers: 10 },
  "5": { name: "latency-2000", size: 256, rate: 2000 },
  "6": { name: "large-64k", size: 65536 },
  "7": { name: "connections" },
  "8": { name: "queues" },
  "9": { name: "recovery" },
};

function scenarioKey(name: string): string {
  for (const [k, v] of Object.entries(SCENARIOS)) if (k === name || v.name === name) return k;
  throw new Error(
    `unknown scenario ${name} (1-9 or ${Object.values(SCENARIOS).map((s) => s.name)})`,
  );
}

function int(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return n;
}

function benchClient(v: string): BenchClient {
  if (v !== "wire" && v !== "amqp-client") {
    throw new Error(`--client must be wire or amqp-client, got ${v}`);
  }
  return v;
}

/** Which client a scenario's messages went through. */
function clientName(key: string | undefined, client: string): string {
  const throughput = key === undefined || Number(key) <= 6;
  return throughput && client === "wire" ? WIRE_CLIENT_NAME : CLIENT_NAME;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      uri: { type: "string", default: "amqp://guest:guest@127.0.0.1:5672/" },
      producers: { type: "string" },
      consumers: { type: "string" },
      queues: { type: "string" },
      "exchange-type": { type: "string" },
      size: { type: "string" },
      persistent: { type: "boolean" },
      durable: { type: "boolean" },
      confirm: { type: "string" },
      "ack-every": { type: "string" },
      prefetch: { type: "string" },
      rate: { type: "string" },
      duration: { type: "string" },
      scenario: { type: "string" },
      connections: { type: "string" },
      "queue-count": { type: "string" },
      "broker-pid": { type: "string" },
      "broker-cmd": { type: "string" },
      "broker-port": { type: "string" },
      "data-dir": { type: "string" },
      messages: { type: "string" },
      "no-drain": { type: "boolean" },
      json: { type: "boolean" },
      label: { type: "string" },
      client: { type: "string", default: "wire" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const key = values.scenario ? scenarioKey(values.scenario) : undefined;
  const sc = key ? SCENARIOS[key] : undefined;
  const uri = values.uri!;
  const started = new Date().toISOString();
  let result: Record<string, unknown>;

  if (key === "9") {
    if (!values["broker-cmd"]) throw new Error("--scenario recovery needs --broker-cmd");
    result = {
      ...await runRecovery({
        brokerCmd: values["broker-cmd"],
        messages: int("messages", values.messages, 200_000, 1, 1_000_000),
        size: int("size", values.size, 1024, 0, 1 << 20),
        producers: int("producers", values.producers, 1, 1, 16),
        confirm: int("confirm", values.confirm, 256, 1, 100_000),
        dataDir: values["data-dir"],
        port: values["broker-port"]
          ? int("broker-port", values["broker-port"], 0, 1, 65535)
          : undefined,
        drain: !values["no-drain"],
        timeout: 600,
      }),
    };
  } else {
    assertLoopback(uri);
    if (key === "7") {
      let pid = values["broker-pid"] ? int("broker-pid", values["broker-pid"], 0, 1, 1 << 30) : 0;
      if (!pid) pid = findListenerPid(hostPort(uri).port) ?? 0;
      if (!pid) throw new Error("--scenario connections needs --broker-pid PID");
      result = {
        ...await runConnections(uri, int("connections", values.connections, 1000, 1, 10_000), pid),
      };
    } else if (key === "8") {
      result = {
        ...await runQueues(uri, int("queue-count", values["queue-count"], 1000, 1, 100_000)),
      };
    } else {
      const exchangeType = values["exchange-type"] ?? sc?.exchangeType ?? "direct";
      if (exchangeType !== "direct" && exchangeType !== "fanout") {
        throw new Error(`--exchange-type must be direct or fanout, got ${exchangeType}`);
      }
      const o: ThroughputOptions = {
        uri,
        producers: int("producers", values.producers, sc?.producers ?? 1, 0, 100),
        consumers: int("consumers", values.consumers, sc?.consumers ?? 1, 0, 1000),
        queues: int("queues", values.queues, sc?.queues ?? 1, 1, 1000),
        exchangeType,
        size: int("size", values.size, sc?.size ?? 16, 0, 16 << 20),
        persistent: values.persistent ?? sc?.persistent ?? false,
        durable: values.durable ?? sc?.durable ?? false,
        confirm: int("confirm", values.confirm, sc?.confirm ?? 0, 0, 1_000_000),
        ackEvery: int("ack-every", values["ack-every"], sc?.ackEvery ?? 0, 0, 1_000_000),
        prefetch: int("prefetch", values.prefetch, sc?.prefetch ?? 0, 0, 65535),
        rate: int("rate", values.rate, sc?.rate ?? 0, 0, 10_000_000),
        duration: int("duration", values.duration, 10, 1, 300),
        drainTimeout: 60,
        client: benchClient(values.client!),
      };
      if (o.consumers > 0 && o.consumers < o.queues) {
        throw new Error(
          "--consumers must be 0 or at least --queues (every queue needs a consumer)",
        );
      }
      result = { ...await runThroughput(o) };
    }
  }

  // The broker's memory after the run, when its pid is known (not for recovery: it is gone).
  const pid = values["broker-pid"] ? Number(values["broker-pid"]) : undefined;
  const memory = pid && key !== "9"
    ? { brokerRssKiB: readVm(pid), brokerHwmKiB: readVm(pid, "VmHWM") }
    : {};
  const out = {
    scenario: sc?.name ?? "custom",
    label: values.label,
    client: clientName(key, values.client!),
    started,
    ...result,
    uri: String(result.uri ?? uri).replace(/\/\/[^@/]*@/, "//***@"),
    ...memory,
  };
  if (values.json) console.log(JSON.stringify(out));
  else console.log(formatResult(out));
  const errs = (result.errors as string[] | undefined) ?? [];
  const lost = (result.lost as number | undefined) ?? 0;
  return errs.length > 0 || lost > 0 ? 2 : 0;
}

if (import.meta.main) {
  try {
    // `deno task bench -- --opt` passes the "--" through.
    const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
    const code = await main(args);
    // amqp-client keeps sockets' timers around; exit explicitly.
    Deno.exit(code);
  } catch (e) {
    console.error(`bench: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
