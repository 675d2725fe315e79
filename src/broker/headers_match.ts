/**
 * The headers exchange's matching rule, as RabbitMQ 3.10 implements it
 * (`rabbit_exchange_type_headers:headers_match/2` and `validate_binding/2`).
 *
 * - `x-match` is "all" (the default, also used for any value that is not one of the four
 *   strings), "any", "all-with-x" or "any-with-x".
 * - The `x-match` argument itself never takes part. With "all"/"any" every other argument whose
 *   name starts with "x-" is ignored too; with "all-with-x"/"any-with-x" those count.
 * - An argument whose value is void (`null`, type 'V') matches when the header is present,
 *   whatever its value. Any other argument matches when the header is present with an equal
 *   value.
 * - Equality is Erlang's `==` on the decoded values, so the wire types of top-level values do not
 *   matter: numbers compare by value (an int8 2, a long 2, a timestamp 2 and a double 2.0 are all
 *   equal), strings compare by bytes ('S' and 'x' with the same bytes are equal); booleans,
 *   decimals and voids equal only their own kind. Nested tables and arrays compare element by
 *   element in wire order, and there the element types must agree too (Erlang keeps the type atom
 *   beside each nested value); an empty table equals an empty array.
 * - "all" with no counted arguments matches every message; "any" with none matches nothing.
 *
 * ```ts
 * headersMatch({ "x-match": "any", a: 1, b: null }, { b: "anything" }); // true
 * ```
 */
import { Field } from "../amqp/table.ts";
import type { FieldType } from "../amqp/table.ts";

const X_MATCH_VALUES = new Set(["all", "any", "all-with-x", "any-with-x"]);

/** Whether an `x-match` binding argument is acceptable at bind time (absent counts as valid). */
export function validXMatch(v: unknown): boolean {
  return v === undefined || (typeof v === "string" && X_MATCH_VALUES.has(v));
}

/**
 * The detail of RabbitMQ's bind-time error for a bad `x-match`, or null when it is valid. RabbitMQ
 * closes the channel with 406 PRECONDITION_FAILED and this text, e.g.
 * `Invalid x-match field value <<"foo">>; expected all, any, all-with-x, or any-with-x` or
 * `Invalid x-match field type signedint (value 1); expected longstr`. Values are printed the way
 * Erlang's `~p` prints them, closely enough for the common cases.
 */
export function xMatchError(v: unknown): string | null {
  if (validXMatch(v)) return null;
  const type = erlangType(v);
  if (type === "longstr") {
    return `Invalid x-match field value ${formatErlang(v)}; ` +
      "expected all, any, all-with-x, or any-with-x";
  }
  return `Invalid x-match field type ${type} (value ${formatErlang(v)}); expected longstr`;
}

/** Whether a message with `headers` matches a headers-exchange binding with `bindingArgs`. */
export function headersMatch(
  bindingArgs: Record<string, unknown>,
  headers: Record<string, unknown> | undefined,
): boolean {
  const mode = bindingArgs["x-match"];
  const all = mode !== "any" && mode !== "any-with-x";
  const withX = mode === "all-with-x" || mode === "any-with-x";
  for (const key in bindingArgs) {
    if (!Object.hasOwn(bindingArgs, key) || key === "x-match") continue;
    if (!withX && key.startsWith("x-")) continue;
    let ok = false;
    if (headers !== undefined && Object.hasOwn(headers, key)) {
      const pattern = bindingArgs[key];
      ok = isVoid(pattern) || erlangEqual(pattern, headers[key]);
    }
    if (all) {
      if (!ok) return false;
    } else if (ok) return true;
  }
  return all;
}

function isVoid(v: unknown): boolean {
  return v === null || v === undefined || (v instanceof Field && v.type === "V");
}

/** What a value is on the Erlang side, which decides what it can equal. */
type Kind = "number" | "binary" | "bool" | "void" | "decimal" | "table" | "array" | "other";

const KIND_OF_TYPE: Record<FieldType, Kind> = {
  t: "bool",
  b: "number",
  B: "number",
  s: "number",
  u: "number",
  I: "number",
  i: "number",
  l: "number",
  L: "number",
  f: "number",
  d: "number",
  T: "number",
  D: "decimal",
  S: "binary",
  x: "binary",
  F: "table",
  A: "array",
  V: "void",
};

/** RabbitMQ's type atom for each letter ('L' is parsed as a signed `long`). */
const ERLANG_TYPE: Record<FieldType, string> = {
  t: "bool",
  b: "byte",
  B: "unsignedbyte",
  s: "short",
  u: "unsignedshort",
  I: "signedint",
  i: "unsignedint",
  l: "long",
  L: "long",
  f: "float",
  d: "double",
  T: "timestamp",
  D: "decimal",
  S: "longstr",
  x: "binary",
  F: "table",
  A: "array",
  V: "void",
};

/** The wire type a value has or would be written with (mirrors table.ts's writer). */
function typeLetter(v: unknown): FieldType | undefined {
  if (v instanceof Field) return v.type;
  if (v === null || v === undefined) return "V";
  switch (typeof v) {
    case "boolean":
      return "t";
    case "string":
      return "S";
    case "bigint":
      return "l";
    case "number":
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return "I";
      return Number.isSafeInteger(v) ? "l" : "d";
    case "object":
      if (Array.isArray(v)) return "A";
      if (v instanceof Uint8Array) return "x";
      if (v instanceof Date) return "T";
      return "F";
  }
  return undefined;
}

function erlangType(v: unknown): string {
  const t = typeLetter(v);
  return t === undefined ? "unknown" : ERLANG_TYPE[t];
}

/** The value inside a typed Field (Fields may nest; a Date becomes seconds). */
function raw(v: unknown): unknown {
  while (v instanceof Field) v = v.value;
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  return v;
}

const utf8 = new TextEncoder();

function bytesOf(v: unknown): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v as Uint8Array;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Erlang's `==` between two decoded field values. */
function erlangEqual(a: unknown, b: unknown): boolean {
  const ta = typeLetter(a);
  const tb = typeLetter(b);
  if (ta === undefined || tb === undefined) return false;
  const ka = KIND_OF_TYPE[ta];
  const kb = KIND_OF_TYPE[tb];
  const va = raw(a);
  const vb = raw(b);
  if (ka !== kb) {
    // Both are Erlang lists: [] == [] whichever they came from.
    return (ka === "table" || ka === "array") && (kb === "table" || kb === "array") &&
      isEmptyList(va, ka) && isEmptyList(vb, kb);
  }
  switch (ka) {
    case "number":
      // deno-lint-ignore eqeqeq
      return (typeof va === "number" || typeof va === "bigint") && va == (vb as number | bigint);
    case "binary":
      if (typeof va === "string" && typeof vb === "string") return va === vb;
      return bytesEqual(bytesOf(va), bytesOf(vb));
    case "bool":
      return va === vb;
    case "void":
      return true;
    case "decimal": {
      const da = va as { scale: number; value: number };
      const db = vb as { scale: number; value: number };
      return da.scale === db.scale && da.value === db.value;
    }
    case "array": {
      const xa = va as unknown[];
      const xb = vb as unknown[];
      if (xa.length !== xb.length) return false;
      for (let i = 0; i < xa.length; i++) if (!nestedEqual(xa[i], xb[i])) return false;
      return true;
    }
    case "table": {
      const ea = Object.keys(va as object);
      const eb = Object.keys(vb as object);
      if (ea.length !== eb.length) return false;
      for (let i = 0; i < ea.length; i++) {
        if (ea[i] !== eb[i]) return false;
        const x = (va as Record<string, unknown>)[ea[i]];
        const y = (vb as Record<string, unknown>)[eb[i]];
        if (!nestedEqual(x, y)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Inside tables and arrays Erlang compares `{Type, Value}`: the type atoms must agree too. */
function nestedEqual(a: unknown, b: unknown): boolean {
  const ta = typeLetter(a);
  const tb = typeLetter(b);
  return ta !== undefined && tb !== undefined && ERLANG_TYPE[ta] === ERLANG_TYPE[tb] &&
    erlangEqual(a, b);
}

function isEmptyList(v: unknown, kind: Kind): boolean {
  return kind === "array" ? (v as unknown[]).length === 0 : Object.keys(v as object).length === 0;
}

/** Roughly Erlang's `~p` of a decoded value, for error texts. */
function formatErlang(v: unknown): string {
  const t = typeLetter(v);
  const x = raw(v);
  if (t === undefined) return String(x);
  switch (KIND_OF_TYPE[t]) {
    case "binary": {
      const bytes = bytesOf(x);
      let printable = true;
      for (const c of bytes) if (c < 0x20 || c > 0x7e) printable = false;
      if (!printable) return `<<${bytes.join(",")}>>`;
      let s = "";
      for (const c of bytes) {
        const ch = String.fromCharCode(c);
        s += ch === '"' || ch === "\\" ? "\\" + ch : ch;
      }
      return `<<"${s}">>`;
    }
    case "number":
      if (t === "f" || t === "d") {
        const n = x as number;
        return Number.isInteger(n) && Math.abs(n) < 1e16 ? n.toFixed(1) : String(n);
      }
      return String(x);
    case "bool":
      return String(x);
    case "void":
      return "undefined";
    case "decimal": {
      const d = x as { scale: number; value: number };
      return `{${d.scale},${d.value >>> 0}}`;
    }
    case "array":
      return `[${(x as unknown[]).map((e) => `{${erlangType(e)},${formatErlang(e)}}`).join(",")}]`;
    case "table": {
      const t = x as Record<string, unknown>;
      const items = Object.keys(t).map((k) =>
        `{${formatErlang(k)},${erlangType(t[k])},${formatErlang(t[k])}}`
      );
      return `[${items.join(",")}]`;
    }
    default:
      return String(x);
  }
}
