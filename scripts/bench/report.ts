/**
 * Human-readable rendering of one benchmark result.
 *
 * @module
 */

/** Formats a result object (as printed by `--json`) as a few aligned lines. */
export function formatResult(r: Record<string, unknown>): string {
  const lines: string[] = [`scenario: ${r.scenario}   client: ${r.client}   uri: ${r.uri}`];
  const add = (k: string, v: unknown) => lines.push(`  ${k.padEnd(26)} ${v}`);
  const n = (v: unknown) => typeof v === "number" ? v.toLocaleString("en-US") : String(v);
  switch (r.kind) {
    case "throughput": {
      const o = r.options as Record<string, unknown>;
      add(
        "setup",
        `${o.producers}p/${o.consumers}c/${o.queues}q ${o.exchangeType} ${o.size} B` +
          `${o.persistent ? " persistent" : ""}${o.durable ? " durable" : ""}` +
          `${o.confirm ? ` confirm=${o.confirm}` : ""}` +
          `${o.ackEvery ? ` ack-every=${o.ackEvery}` : " auto-ack"}` +
          `${o.prefetch ? ` prefetch=${o.prefetch}` : ""}${o.rate ? ` rate=${o.rate}/s` : ""}` +
          ` ${o.duration} s`,
      );
      add("publish rate (msg/s)", n(r.publishRate));
      add("delivery rate (msg/s)", n(r.deliveryRate));
      add("delivery (MB/s)", r.deliveryMBps);
      const l = r.latencyMs as Record<string, number>;
      add(
        "latency ms p50/p95/p99/max",
        `${l.p50} / ${l.p95} / ${l.p99} / ${l.max} (${n(l.count)})`,
      );
      add("sent / confirmed / nacked", `${n(r.sent)} / ${n(r.confirmed)} / ${n(r.nacked)}`);
      add("expected / received", `${n(r.expected)} / ${n(r.received)}`);
      add("remaining / lost / dup", `${n(r.remaining)} / ${n(r.lost)} / ${n(r.duplicates)}`);
      add("reordered / redelivered", `${n(r.reordered)} / ${n(r.redelivered)}`);
      add("publish s / drain s", `${r.publishSeconds} / ${r.drainSeconds}`);
      break;
    }
    case "connections":
      add("connections opened", `${r.opened} / ${r.connections} in ${r.openSeconds} s`);
      add("broker pid", r.brokerPid);
      add(
        "RSS before/after/closed KiB",
        `${r.rssBeforeKiB} / ${r.rssAfterKiB} / ${r.rssAfterCloseKiB}`,
      );
      add("RSS per connection (KiB)", r.rssPerConnectionKiB);
      add("bare Deno server (KiB/conn)", r.bareDenoServerKiB);
      break;
    case "queues":
      add("queues", r.queues);
      add("declare (ms)", r.declareMs);
      add("one message through (ms)", r.throughMs);
      add("declare + through (ms)", r.totalMs);
      add("delete (ms)", r.deleteMs);
      add("received / lost", `${r.received} / ${r.lost}`);
      break;
    case "recovery":
      add("messages x size", `${n(r.messages)} x ${r.size} B`);
      add("fill", `${r.fillSeconds} s (${n(r.fillRate)} msg/s, confirmed)`);
      add("count before stop", n(r.countBeforeStop));
      add("RSS before stop (KiB)", n(r.rssBeforeStopKiB));
      add("SIGTERM to exit", `${r.shutdownSeconds} s (exit code ${r.exitCode})`);
      add("data dir (MiB)", r.dataDirMiB);
      add("restart to port accepting", `${r.portSeconds} s`);
      add("restart to full count", `${r.recoverySeconds} s (count ${n(r.countAfterRecovery)})`);
      add(
        "RSS after recovery (KiB)",
        `${n(r.rssAfterRecoveryKiB)} (peak ${n(r.hwmAfterRecoveryKiB)})`,
      );
      if (r.drained !== undefined) {
        add("drained", `${n(r.drained)} in ${r.drainSeconds} s (${n(r.drainRate)} msg/s)`);
        add("redelivered flag set", n(r.redelivered));
      }
      add("lost", n(r.lost));
      break;
  }
  const errors = (r.errors as string[] | undefined) ?? [];
  if (errors.length) add("errors", errors.join("\n" + " ".repeat(29)));
  return lines.join("\n");
}
