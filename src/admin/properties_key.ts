/**
 * Bindings have no name in AMQP, so the management API names each one within its source and
 * destination by a `properties_key`, built as RabbitMQ builds it: the routing key quoted as in a
 * form (`quote_plus`, with `~` as `%7E`), then, when the binding has arguments, `~` and a short
 * hash of them. An empty key without arguments is `~`.
 *
 *   propertiesKey("a.b.*", {})            // "a.b.%2A"
 *   propertiesKey("", {})                 // "~"
 *   propertiesKey("k", { "x-match": "all" })   // "k~Xg3r-A" (hash)
 *
 * RabbitMQ hashes the arguments with Erlang's phash2; ours is FNV-1a over their canonical JSON.
 * Clients read the key from listings and send it back, so only stability matters.
 */

const SAFE = /[A-Za-z0-9._\-]/;

/** RabbitMQ's quote_plus, then `~` escaped: UTF-8 bytes as %XX, space as `+`. */
export function quoteBindingPart(s: string): string {
  return quotePlus(s, false);
}

/** Form-style quoting (quote_plus): letters, digits and `._-` kept (and `~` unless told not). */
export function quotePlus(s: string, keepTilde = true): string {
  let out = "";
  for (const ch of s) {
    if (SAFE.test(ch) || (keepTilde && ch === "~")) out += ch;
    else if (ch === " ") out += "+";
    else {
      for (const b of new TextEncoder().encode(ch)) {
        out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
      }
    }
  }
  return out;
}

/** The inverse of {@link quoteBindingPart} (`+` is a space; bad escapes are kept as they are). */
export function unquoteBindingPart(s: string): string {
  const plus = s.replace(/\+/g, " ");
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Canonical JSON (sorted keys) of binding arguments in their JSON form. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** A 32-bit hash of the arguments, base64url without padding (6 characters). */
export function argumentsHash(args: Record<string, unknown>): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(canonical(args))) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const bytes = [h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255];
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** The properties_key of a binding with this routing key and (JSON) arguments. */
export function propertiesKey(routingKey: string, args: Record<string, unknown>): string {
  const hasArgs = Object.keys(args).length > 0;
  if (!hasArgs) return routingKey === "" ? "~" : quoteBindingPart(routingKey);
  return `${quoteBindingPart(routingKey)}~${quoteBindingPart(argumentsHash(args))}`;
}

/** A properties_key from a URL, as routing key and (when it names arguments) their hash. */
export function parsePropertiesKey(props: string): { routingKey: string; hash?: string } {
  const i = props.indexOf("~");
  if (i < 0) return { routingKey: unquoteBindingPart(props) };
  const hash = props.slice(i + 1);
  return {
    routingKey: unquoteBindingPart(props.slice(0, i)),
    hash: hash === "" ? undefined : unquoteBindingPart(hash),
  };
}

/** Whether a binding (routing key, JSON arguments) is the one a properties_key names. */
export function matchesPropertiesKey(
  props: string,
  routingKey: string,
  args: Record<string, unknown>,
): boolean {
  if (props === propertiesKey(routingKey, args)) return true;
  const p = parsePropertiesKey(props);
  if (p.routingKey !== routingKey) return false;
  const hasArgs = Object.keys(args).length > 0;
  return p.hash === undefined ? !hasArgs : hasArgs && p.hash === argumentsHash(args);
}
