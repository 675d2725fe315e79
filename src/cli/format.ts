/** Printing rows as an aligned text table or as JSON (`--format table|json`). */
export type OutputFormat = "table" | "json";

export function isOutputFormat(v: string): v is OutputFormat {
  return v === "table" || v === "json";
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "";
  // A list of names (user tags) reads as rabbitmqctl prints it: [administrator, management].
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return `[${v.join(", ")}]`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function formatRows(
  rows: Record<string, unknown>[],
  format: OutputFormat,
  columns?: string[],
): string {
  if (format === "json") return JSON.stringify(rows, null, 2);
  const cols = columns ?? (rows.length > 0 ? Object.keys(rows[0]) : []);
  if (cols.length === 0) return "(none)";
  const table = [cols, ...rows.map((r) => cols.map((c) => cell(r[c])))];
  const widths = cols.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}
