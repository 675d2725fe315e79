/**
 * Prometheus' text exposition format (version 0.0.4): per metric family a `# TYPE` and a `# HELP`
 * line (in that order, as rabbitmq_prometheus writes them), then one line per sample,
 * `name{label="value",...} value`. Label values escape `\`, `"` and newlines; help texts escape
 * `\` and newlines. A family without samples is still declared, as RabbitMQ does.
 *
 * @example
 * ```ts
 * renderExposition([{
 *   name: "rabbitmq_queue_messages_ready",
 *   type: "gauge",
 *   help: "Messages ready to be delivered to consumers",
 *   samples: [{ labels: { vhost: "/", queue: "q1" }, value: 3 }],
 * }]);
 * // # TYPE rabbitmq_queue_messages_ready gauge
 * // # HELP rabbitmq_queue_messages_ready Messages ready to be delivered to consumers
 * // rabbitmq_queue_messages_ready{vhost="/",queue="q1"} 3
 * ```
 */

/** The Content-Type of the format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4";

export type MetricType = "counter" | "gauge" | "untyped";

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

/** Label values: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(s: string): string {
  return s.replace(/[\\"\n]/g, (c) => c === "\n" ? "\\n" : `\\${c}`);
}

/** Help texts: backslash and line feed are escaped. */
export function escapeHelp(s: string): string {
  return s.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value as the format spells it: NaN, +Inf, -Inf or a Go-parsable float. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function sampleLine(name: string, s: Sample): string {
  let labels = "";
  if (s.labels) {
    const parts = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
    if (parts.length > 0) labels = `{${parts.join(",")}}`;
  }
  return `${name}${labels} ${formatValue(s.value)}`;
}

/** The whole exposition, ending with a line feed. */
export function renderExposition(families: Iterable<MetricFamily>): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# TYPE ${f.name} ${f.type}`, `# HELP ${f.name} ${escapeHelp(f.help)}`);
    for (const s of f.samples) lines.push(sampleLine(f.name, s));
  }
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}
