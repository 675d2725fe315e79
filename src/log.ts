/**
 * A small leveled logger: `log.info("message", {key: value})` writes one line to stderr. The level
 * and the format are set once at start-up (`log.console.level`, `log.console.formatter`):
 *
 * - plaintext (default): `2026-11-25T10:00:00.000Z [info] message key=value`
 * - json: `{"time":"2026-11-25T10:00:00.000Z","level":"info","msg":"message","key":"value"}`,
 *   one object per line, with RabbitMQ's level names (`warning` rather than `warn`).
 *
 * Fields whose value is undefined are left out; in JSON a field named `time`, `level` or `msg`
 * cannot replace the line's own.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "none";

/** How lines are written (RabbitMQ's `log.console.formatter` values). */
export type LogFormat = "plaintext" | "json";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 99 };
/** The level names in JSON lines: Erlang logger's, as RabbitMQ's JSON formatter writes them. */
const JSON_LEVEL: Record<LogLevel, string> = {
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
  none: "none",
};
const encoder = new TextEncoder();

let threshold = ORDER.info;
let format: LogFormat = "plaintext";

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

export function setLogFormat(f: LogFormat): void {
  format = f;
}

export function isLogFormat(v: string): v is LogFormat {
  return v === "plaintext" || v === "json";
}

/** JSON.stringify that also takes bigints (as numbers when exact, else strings). */
function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      typeof v === "bigint" ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v,
  ) ?? "null";
}

function plainValue(value: unknown): string {
  const s = typeof value === "string" ? value : toJson(value);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

function plainLine(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  let line = `${new Date().toISOString()} [${level}] ${msg}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) line += ` ${k}=${plainValue(v)}`;
    }
  }
  return line;
}

function jsonLine(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  const entry: Record<string, unknown> = {
    time: new Date().toISOString(),
    level: JSON_LEVEL[level],
    msg,
  };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined && !Object.hasOwn(entry, k)) entry[k] = v;
    }
  }
  return toJson(entry);
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  const line = format === "json" ? jsonLine(level, msg, fields) : plainLine(level, msg, fields);
  // A pipe may take a long line in parts; a line is never left half-written.
  const bytes = encoder.encode(line + "\n");
  for (let off = 0; off < bytes.length;) off += Deno.stderr.writeSync(bytes.subarray(off));
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
