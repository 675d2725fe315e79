/**
 * The rabbitmq.conf (sysctl / cuttlefish) syntax, as cuttlefish's `conf_parse.peg` reads it:
 *
 * - one `key = value` setting per line; spaces and tabs around the key, the `=` and the value are
 *   ignored; lines end in LF or CRLF;
 * - a key is words of letters, digits, `_` and `-` joined by `.`; `\.` puts a literal dot inside
 *   a word (`loopback_users.john\.doe = true`);
 * - `#` starts a comment: a whole line, or the rest of a line after a value. In an unquoted value
 *   the comment starts at the first `#` even without a space before it (`pass = a#b` is `a`), so a
 *   value that contains `#` must be single-quoted: `default_pass = 'a#b'`;
 * - a value is the rest of the line (trailing spaces dropped, never empty), or a single-quoted
 *   string `'...'` that may contain `#` and may be empty;
 * - `include PATH` lines are recognised (and reported, as the broker does not follow them).
 *
 * Anything else is an error naming `FILE:LINE`. Keys are not interpreted here.
 *
 * @example
 * ```ts
 * const { entries } = parseConf("heartbeat = 30 # seconds\n", "rabbitmq.conf");
 * // entries: [{ key: "heartbeat", segments: ["heartbeat"], value: "30", line: 1 }]
 * ```
 */
import { ConfigError } from "./errors.ts";

/** One `key = value` line of a config file. */
export interface ConfEntry {
  /** The key as written (escaped dots stay escaped), for messages. */
  key: string;
  /** The key's dot-separated words, with `\.` unescaped. */
  segments: string[];
  value: string;
  /** 1-based line number. */
  line: number;
}

export interface ParsedConf {
  /** Settings in file order, duplicates included (see {@link lastWins}). */
  entries: ConfEntry[];
  warnings: string[];
}

const WS = /^[ \t]*/;
const KEY = /^(?:\\\.|[A-Za-z0-9_-])+(?:\.(?:\\\.|[A-Za-z0-9_-])+)*/;
const INCLUDE = /^include[ \t]+[A-Za-z0-9\-_.*/]+[ \t]*(#.*)?$/;

/** Parses config file text; `file` names the file in messages. Throws {@link ConfigError}. */
export function parseConf(text: string, file: string): ParsedConf {
  const entries: ConfEntry[] = [];
  const warnings: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const where = `${file}:${n}`;
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    const body = line.slice(WS.exec(line)![0].length);
    if (body === "" || body.startsWith("#")) continue;

    const keyMatch = KEY.exec(body);
    const afterKey = keyMatch ? body.slice(keyMatch[0].length) : body;
    const eq = afterKey.slice(WS.exec(afterKey)![0].length);
    if (!keyMatch || !eq.startsWith("=")) {
      if (INCLUDE.test(body)) {
        warnings.push(`${where}: include directives are not supported by broker; line ignored`);
        continue;
      }
      throw new ConfigError(`${where}: ${syntaxProblem(body)}`);
    }
    const key = keyMatch[0];
    const rest = eq.slice(1);
    const value = parseValue(rest.slice(WS.exec(rest)![0].length), `${where}: ${key}`, warnings);
    const segments = key.split(/(?<!\\)\./).map((w) => w.replaceAll("\\.", "."));
    entries.push({ key, segments, value, line: n });
  }
  return { entries, warnings };
}

function syntaxProblem(body: string): string {
  const eq = body.indexOf("=");
  if (eq < 0) return `expected 'key = value', found '${body}'`;
  const key = body.slice(0, eq).trim();
  if (key === "") return "missing key before '='";
  return `'${key}' is not a valid key (words of letters, digits, '_' and '-', joined by '.')`;
}

/** The value part of a setting (leading whitespace already skipped). */
function parseValue(text: string, where: string, warnings: string[]): string {
  if (text.startsWith("'")) {
    const close = text.indexOf("'", 1);
    if (close > 0) {
      const tail = text.slice(close + 1).replace(/^[ \t]*/, "");
      if (tail !== "" && !tail.startsWith("#")) {
        throw new ConfigError(`${where}: unexpected text after the quoted value: '${tail}'`);
      }
      return text.slice(1, close);
    }
    // No closing quote: cuttlefish reads it as an ordinary (unquoted) value.
  }
  const hash = text.indexOf("#");
  const value = (hash < 0 ? text : text.slice(0, hash)).replace(/[ \t]+$/, "");
  if (value === "") throw new ConfigError(`${where}: missing value after '='`);
  if (hash > 0 && !/[ \t]/.test(text[hash - 1])) {
    warnings.push(
      `${where}: '#' starts a comment, so the value is '${value}'; ` +
        `quote it ('...') if the '#' belongs to the value`,
    );
  }
  return value;
}

/**
 * Cuttlefish's duplicate rule: the same key set twice keeps the last value (at the position of
 * the first). Returns the de-duplicated entries and a warning per overridden line.
 */
export function lastWins(entries: ConfEntry[], file: string): ParsedConf {
  const byKey = new Map<string, number>();
  const out: ConfEntry[] = [];
  const warnings: string[] = [];
  for (const e of entries) {
    const id = e.segments.join("\u0000");
    const at = byKey.get(id);
    if (at === undefined) {
      byKey.set(id, out.length);
      out.push(e);
    } else {
      warnings.push(
        `${file}:${e.line}: ${e.key} is also set on line ${out[at].line}; the last value wins`,
      );
      out[at] = { ...e };
    }
  }
  return { entries: out, warnings };
}
