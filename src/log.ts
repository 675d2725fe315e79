/**
 * A small leveled logger: `log.info("message", {key: value})` writes one line to stderr,
 * `2026-11-25T10:00:00.000Z [info] message key=value`. The level is set once at start-up.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "none";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, none: 99 };
const encoder = new TextEncoder();

let threshold = ORDER.info;

export function setLogLevel(level: LogLevel): void {
  threshold = ORDER[level];
}

export function isLogLevel(v: string): v is LogLevel {
  return v in ORDER;
}

function format(value: unknown): string {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

function write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold) return;
  let line = `${new Date().toISOString()} [${level}] ${msg}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) line += ` ${k}=${format(v)}`;
    }
  }
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write("debug", msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write("info", msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write("warn", msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write("error", msg, fields),
};
