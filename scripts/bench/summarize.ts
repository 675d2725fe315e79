/**
 * Reads the JSON lines written by compare-rabbitmq.sh (one bench result per line, labelled
 * "ours/ROUND" or "rabbitmq/ROUND") and prints medians per scenario with the ratio ours/RabbitMQ.
 *
 *   deno run -A scripts/bench/summarize.ts results.jsonl
 *
 * @module
 */

type Row = Record<string, unknown>;

interface Metric {
  scenario: string;
  name: string;
  /** "higher" or "lower" is better. */
  better: "higher" | "lower";
  get: (r: Row) => number | undefined;
}

const num = (v: unknown) => typeof v === "number" ? v : undefined;
const lat = (k: string) => (r: Row) => num((r.latencyMs as Row | undefined)?.[k]);

const METRICS: Metric[] = [
  {
    scenario: "transient-16",
    name: "publish msg/s",
    better: "higher",
    get: (r) => num(r.publishRate),
  },
  {
    scenario: "transient-16",
    name: "deliver msg/s",
    better: "higher",
    get: (r) => num(r.deliveryRate),
  },
  {
    scenario: "transient-1k",
    name: "publish msg/s",
    better: "higher",
    get: (r) => num(r.publishRate),
  },
  {
    scenario: "transient-1k",
    name: "deliver msg/s",
    better: "higher",
    get: (r) => num(r.deliveryRate),
  },
  {
    scenario: "persistent-1k",
    name: "publish msg/s",
    better: "higher",
    get: (r) => num(r.publishRate),
  },
  {
    scenario: "persistent-1k",
    name: "deliver msg/s",
    better: "higher",
    get: (r) => num(r.deliveryRate),
  },
  {
    scenario: "fanout-10",
    name: "publish msg/s",
    better: "higher",
    get: (r) => num(r.publishRate),
  },
  {
    scenario: "fanout-10",
    name: "deliver msg/s (all q)",
    better: "higher",
    get: (r) => num(r.deliveryRate),
  },
  {
    scenario: "latency-2000",
    name: "deliver msg/s",
    better: "higher",
    get: (r) => num(r.deliveryRate),
  },
  { scenario: "latency-2000", name: "latency p50 ms", better: "lower", get: lat("p50") },
  { scenario: "latency-2000", name: "latency p95 ms", better: "lower", get: lat("p95") },
  { scenario: "latency-2000", name: "latency p99 ms", better: "lower", get: lat("p99") },
  { scenario: "latency-2000", name: "latency max ms", better: "lower", get: lat("max") },
  {
    scenario: "large-64k",
    name: "deliver MB/s",
    better: "higher",
    get: (r) => num(r.deliveryMBps),
  },
  {
    scenario: "large-64k",
    name: "publish msg/s",
    better: "higher",
    get: (r) => num(r.publishRate),
  },
  {
    scenario: "connections",
    name: "RSS KiB/conn",
    better: "lower",
    get: (r) => num(r.rssPerConnectionKiB),
  },
  { scenario: "queues", name: "1000 q declare ms", better: "lower", get: (r) => num(r.declareMs) },
  {
    scenario: "queues",
    name: "1000 q decl+through ms",
    better: "lower",
    get: (r) => num(r.totalMs),
  },
];

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "-";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(3);
}

const file = Deno.args[0];
if (!file) {
  console.error("usage: summarize.ts RESULTS.jsonl");
  Deno.exit(1);
}
const rows: Row[] = [];
for (const line of Deno.readTextFileSync(file).split("\n")) {
  if (!line.trim().startsWith("{")) continue;
  try {
    rows.push(JSON.parse(line));
  } catch {
    // a partial line from an interrupted run
  }
}
const target = (r: Row) => String(r.label ?? "").split("/")[0];
const rounds = new Set(rows.map((r) => String(r.label ?? "").split("/")[1])).size;

const header = ["scenario", "metric", "ours", "rabbitmq", "ours/rmq", "better"];
const table: string[][] = [];
for (const m of METRICS) {
  const pick = (t: string) =>
    median(
      rows.filter((r) => r.scenario === m.scenario && target(r) === t).map(m.get).filter((
        v,
      ): v is number => v !== undefined),
    );
  const ours = pick("ours");
  const rmq = pick("rabbitmq");
  const ratio = ours !== undefined && rmq !== undefined && rmq !== 0 ? ours / rmq : undefined;
  table.push([
    m.scenario,
    m.name,
    fmt(ours),
    fmt(rmq),
    ratio === undefined ? "-" : `${ratio.toFixed(2)}x`,
    m.better,
  ]);
}
// Memory rows: idle RSS of a fresh broker (connections scenario runs first), and the peak RSS a
// round reached (VmHWM after its last run), medians over rounds.
const roundsOf = (t: string) => {
  const by = new Map<string, Row[]>();
  for (const r of rows.filter((r) => target(r) === t)) {
    const k = String(r.label);
    by.set(k, [...(by.get(k) ?? []), r]);
  }
  return [...by.values()];
};
const memRow = (name: string, f: (rs: Row[]) => number | undefined) => {
  const pick = (t: string) =>
    median(roundsOf(t).map(f).filter((v): v is number => v !== undefined));
  const ours = pick("ours");
  const rmq = pick("rabbitmq");
  const ratio = ours !== undefined && rmq !== undefined && rmq !== 0 ? ours / rmq : undefined;
  table.push(["memory", name, fmt(ours), fmt(rmq), ratio ? `${ratio.toFixed(2)}x` : "-", "lower"]);
};
memRow("idle RSS MiB (fresh)", (rs) => {
  const c = rs.find((r) => r.scenario === "connections");
  return c ? (num(c.rssBeforeKiB) ?? 0) / 1024 : undefined;
});
memRow("peak RSS MiB (VmHWM)", (rs) => {
  const v = rs.map((r) => num(r.brokerHwmKiB)).filter((v): v is number => v !== undefined);
  return v.length ? Math.max(...v) / 1024 : undefined;
});

const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
const clients = new Map<string, Set<string>>();
for (const r of rows) {
  if (typeof r.client !== "string") continue;
  const set = clients.get(r.client) ?? new Set<string>();
  clients.set(r.client, set.add(String(r.scenario)));
}
console.log(`medians of ${rounds} round(s)`);
for (const [client, scenarios] of clients) {
  console.log(`client: ${client} (${[...scenarios].join(", ")})`);
}
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table) console.log(line(row));

// Loss, errors and anomalies, per target and scenario, summed over rounds.
const notes: string[] = [];
for (const r of rows) {
  const lost = num(r.lost) ?? 0;
  const errs = (r.errors as string[] | undefined) ?? [];
  const extra = [
    lost ? `lost=${lost}` : "",
    num(r.remaining) ? `remaining=${r.remaining}` : "",
    num(r.duplicates) ? `duplicates=${r.duplicates}` : "",
    num(r.reordered) ? `reordered=${r.reordered}` : "",
    num(r.nacked) ? `nacked=${r.nacked}` : "",
    errs.length ? `errors: ${errs.slice(0, 3).join(" | ")}` : "",
  ].filter(Boolean);
  if (extra.length) {
    notes.push(
      `${r.label} ${r.scenario}: sent=${r.sent ?? "-"} received=${r.received ?? "-"} ${
        extra.join(" ")
      }`,
    );
  }
}
const failures = rows.filter((r) => r.failed);
for (const f of failures) notes.push(`${f.label} ${f.scenario}: run failed: ${f.failed}`);
console.log(
  notes.length
    ? "\nanomalies:\n  " + notes.join("\n  ")
    : "\nno loss, duplicates or errors in any run",
);
