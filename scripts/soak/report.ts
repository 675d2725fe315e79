/**
 * The summary table printed at the end of a soak run.
 *
 * @module
 */
import { round } from "../bench/util.ts";
import type { SoakResult } from "./run.ts";

const n = (v: number) => v.toLocaleString("en-US");
const mib = (kib: number | undefined) => kib === undefined ? "-" : String(round(kib / 1024, 0));

/** Formats a soak result as aligned lines. */
export function formatSoak(r: SoakResult, label: string): string {
  const lines = [`soak summary: ${label}`];
  const add = (k: string, v: string) => lines.push(`  ${k.padEnd(36)} ${v}`);
  const t = r.tally;
  add(
    "setup",
    `${r.publishers} publishers + ${r.consumers} consumers over ${r.queues} queues, ` +
      `${r.ratePerPublisher} msg/s per publisher (${
        n(r.ratePerPublisher * r.publishers)
      } msg/s), ` +
      `${r.size} B${r.persistent ? " persistent" : ""}, prefetch ${r.prefetch}, ` +
      `confirm window ${r.window}`,
  );
  add(
    "connect / publish / drain (s)",
    `${r.connectSeconds} / ${r.publishSeconds} / ${r.drainSeconds}`,
  );
  add("confirmed rate (msg/s)", n(r.publishRate));
  add("delivery rate (msg/s)", n(r.deliveryRate));
  const l = r.latencyMs;
  add(
    "latency ms p50/p95/p99/max",
    `${l.p50} / ${l.p95} / ${l.p99} / ${l.max} (${n(l.count)} samples)`,
  );
  add("sent / confirmed / nacked", `${n(t.sent)} / ${n(t.confirmed)} / ${n(t.nacked)}`);
  add(
    "received (distinct ids)",
    `${n(t.received)} (${n(r.fetchedAfterDrain)} fetched after drain)`,
  );
  add(
    "LOST (confirmed, not received)",
    n(t.lost) + (t.lostIds.length ? `: ${t.lostIds.join(" ")}` : ""),
  );
  add("duplicates / redelivered", `${n(r.duplicates)} / ${n(r.redelivered)}`);
  add(
    "unconfirmed: received / missing",
    `${n(t.receivedUnconfirmed)} / ${n(t.unconfirmedMissing)}`,
  );
  if (t.unknown) add("ids never sent", n(t.unknown));
  if (r.memory) {
    const m = r.memory;
    add("broker memory", m.source);
    add(
      "  MiB base/connected/peak/end/closed",
      [m.baselineKiB, m.connectedKiB, m.peakKiB, m.endKiB, m.afterCloseKiB].map(mib).join(" / "),
    );
    const series = m.series.map((s) => `${Math.round(s.t)}s:${mib(s.kib)}`);
    for (let i = 0; i < series.length; i += 8) {
      add(i === 0 ? "  MiB over time" : "", series.slice(i, i + 8).join("  "));
    }
  } else add("broker memory", "not measured (no pid, no --admin-url)");
  if (r.errors.length) add("errors", r.errors.join("\n" + " ".repeat(39)));
  return lines.join("\n");
}
