/**
 * Value parsers shared by the config file, the environment and the flags. Each takes the raw
 * string and returns the typed value, or throws {@link BadValue} with the reason only ("is not an
 * integer"); the caller prefixes where the value came from.
 *
 * @example
 * ```ts
 * port("5672"); // 5672
 * informationUnit("512MiB"); // 536870912
 * listenerAddress("[::1]:5672", "0.0.0.0"); // { hostname: "::1", port: 5672 }
 * ```
 */
import type { LogLevel } from "../log.ts";
import type { ListenerAddress } from "./types.ts";

/** A value that does not parse; the message is the reason, e.g. "is not an integer". */
export class BadValue extends Error {
  override name = "BadValue";
}

/** The largest delay a JS timer accepts (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** RabbitMQ's `max_message_size` validator: at most 512 MiB. */
export const MAX_MESSAGE_SIZE_LIMIT = 536_870_912;

/** A decimal integer (optional minus sign), as cuttlefish's `integer` datatype. */
export function integer(raw: string): number {
  if (!/^-?[0-9]+$/.test(raw)) throw new BadValue("is not an integer");
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new BadValue("is too large");
  return n;
}

/** An integer within [min, max]. */
export function integerIn(raw: string, min: number, max: number): number {
  const n = integer(raw);
  if (n < min || n > max) throw new BadValue(`is out of range (${min}-${max})`);
  return n;
}

/** A TCP port number, 0-65535 (0 picks a free port). */
export function port(raw: string): number {
  if (!/^[0-9]+$/.test(raw) || Number(raw) > 65535) {
    throw new BadValue("is not a port number (0-65535)");
  }
  return Number(raw);
}

/** `true` or `false`, as cuttlefish's `{enum, [true, false]}` (nothing else: no yes/on/1). */
export function boolean(raw: string): boolean {
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new BadValue("is not a boolean (true or false)");
}

/** A non-negative decimal number such as `0.4` or `1.5`, within [min, max]. */
export function decimal(raw: string, min: number, max: number): number {
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) && !/^\.[0-9]+$/.test(raw)) {
    throw new BadValue("is not a number (e.g. 0.4)");
  }
  const n = Number(raw);
  if (n < min || n > max) throw new BadValue(`is out of range (${min}-${max})`);
  return n;
}

const INFORMATION_UNITS: Record<string, number> = {
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pi: 2 ** 50,
  pib: 2 ** 50,
};

/**
 * A byte count with an optional information unit, as RabbitMQ (3.13+) reads
 * `vm_memory_high_watermark.absolute` and `disk_free_limit.absolute`: digits, then optionally one
 * of k/kB, M/MB, G/GB, T/TB, P/PB (powers of 1000) or Ki/KiB, Mi/MiB, Gi/GiB, Ti/TiB, Pi/PiB
 * (powers of 1024), case-insensitive, no space in between.
 */
export function informationUnit(raw: string): number {
  const m = /^([0-9]+)([a-zA-Z]{1,3})?$/.exec(raw);
  const unit = m?.[2] === undefined ? 1 : INFORMATION_UNITS[m[2].toLowerCase()];
  if (!m || unit === undefined) {
    throw new BadValue("is not a byte size (e.g. 500MB, 500MiB, 10GB, 10GiB, 2TB or 1000000000)");
  }
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new BadValue("is too large");
  return n;
}

/**
 * Cuttlefish's `bytesize` datatype (used by `frame_max`): an integer, optionally followed by
 * KB, MB or GB (any case; powers of 1024).
 */
export function bytesize(raw: string): number {
  const m = /^([0-9]+)(kb|mb|gb)?$/i.exec(raw);
  if (!m) throw new BadValue("is not an integer (optionally with KB, MB or GB)");
  const unit = m[2] === undefined ? 1 : 1024 ** ("kmg".indexOf(m[2][0].toLowerCase()) + 1);
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(n)) throw new BadValue("is too large");
  return n;
}

/** A dotted-quad IPv4 address. */
export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** An IPv6 address without brackets (`::`, `::1`, `fe80::1`, `::ffff:10.0.0.1`). */
export function isIPv6(s: string): boolean {
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

function unbracket(s: string): string {
  return s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
}

/** An IP literal (v4, or v6 with or without brackets), as RabbitMQ's `is_ip` validator; brackets are dropped. */
export function ipAddress(raw: string): string {
  const s = unbracket(raw);
  if (isIPv4(s) || isIPv6(s)) return s;
  throw new BadValue("is not an IP address");
}

/** An IP literal or a host name (for --bind and RABBITMQ_NODE_IP_ADDRESS); brackets are dropped. */
export function host(raw: string): string {
  const s = unbracket(raw);
  if (isIPv4(s) || isIPv6(s)) return s;
  const label = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
  if (s.length > 0 && s.length <= 253 && s.split(".").every((l) => label.test(l))) return s;
  throw new BadValue("is not an IP address or host name");
}

/**
 * A listener as `listeners.tcp.NAME` takes it (cuttlefish `[integer, ip]`): a bare port (all
 * interfaces, i.e. `defaultHost`), `IP:PORT` split at the last colon (so `::1:5672` and
 * `:::5672` are IPv6), or `[IPv6]:PORT`. Host names are not accepted, as in RabbitMQ.
 */
export function listenerAddress(raw: string, defaultHost: string): ListenerAddress {
  const bad = () => new BadValue("is not a listener address (PORT, IP:PORT or [IPv6]:PORT)");
  if (/^[0-9]+$/.test(raw)) return { hostname: defaultHost, port: port(raw) };
  let ip: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:([0-9]+)$/.exec(raw);
  if (bracketed) {
    [, ip, portText] = bracketed;
    if (!isIPv6(ip)) throw bad();
  } else {
    const colon = raw.lastIndexOf(":");
    if (colon <= 0) throw bad();
    ip = raw.slice(0, colon);
    portText = raw.slice(colon + 1);
    if (!isIPv4(ip) && !isIPv6(ip)) throw bad();
  }
  if (!/^[0-9]+$/.test(portText) || Number(portText) > 65535) throw bad();
  return { hostname: ip, port: Number(portText) };
}

/**
 * A log level: RabbitMQ's names (debug, info, notice, warning, error, critical, alert,
 * emergency, none) and ours (warn), mapped onto the broker's five levels. `notice` maps to info
 * (the broker has no notice level, and showing a little more beats hiding messages);
 * critical, alert and emergency map to error.
 */
export function logLevel(raw: string): LogLevel {
  switch (raw) {
    case "debug":
    case "info":
    case "error":
    case "none":
      return raw;
    case "notice":
      return "info";
    case "warning":
    case "warn":
      return "warn";
    case "critical":
    case "alert":
    case "emergency":
      return "error";
    default:
      throw new BadValue(
        "is not a log level (debug, info, notice, warning, error, critical, alert, emergency, none)",
      );
  }
}

/** A regular expression, as used by permissions (must compile). */
export function regex(raw: string): string {
  try {
    new RegExp(raw);
  } catch {
    throw new BadValue("is not a valid regular expression");
  }
  return raw;
}
