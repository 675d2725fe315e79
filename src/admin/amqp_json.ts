/**
 * The JSON forms of AMQP values the management API and definitions files use: field tables
 * (queue, exchange and binding arguments; message headers) and message properties, named and typed
 * as RabbitMQ's management plugin names and types them.
 *
 *   tableFromJson({ "x-max-length": 10 })        // → FieldTable
 *   propertiesFromJson({ delivery_mode: 2 })     // → { deliveryMode: 2 }
 */
import { Field } from "../amqp/table.ts";
import type { FieldTable, FieldValue } from "../amqp/table.ts";
import type { BasicProperties } from "../amqp/spec.ts";

/** A JSON value that cannot become an AMQP value (the message says where). */
export class JsonValueError extends Error {}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * One JSON value as an AMQP field value. Integers outside 32 bits become signed 64-bit longs
 * (RabbitMQ types every JSON integer as a long; 32-bit ones are kept in the shorter form, which
 * compares equal), other numbers doubles, objects tables, arrays arrays, null void.
 */
export function valueFromJson(v: unknown, where: string): FieldValue {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      if (!Number.isFinite(v)) throw new JsonValueError(`${where}: ${v} is not a number`);
      if (Number.isInteger(v) && (v < INT32_MIN || v > INT32_MAX)) {
        return new Field("l", BigInt(v));
      }
      return v;
    case "object":
      if (v === null) return null;
      if (Array.isArray(v)) return v.map((x, i) => valueFromJson(x, `${where}[${i}]`));
      return tableFromJson(v, where);
  }
  throw new JsonValueError(`${where}: unsupported value`);
}

/** A JSON object as a field table; undefined and null give an empty table. */
export function tableFromJson(v: unknown, where = "arguments"): FieldTable {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new JsonValueError(`${where} must be a JSON object`);
  }
  const out: FieldTable = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (new TextEncoder().encode(k).length > 255) {
      throw new JsonValueError(`${where}: key '${k.slice(0, 40)}…' is longer than 255 bytes`);
    }
    out[k] = valueFromJson(x, `${where}.${k}`);
  }
  return out;
}

/** A field value as JSON: bigints as numbers (strings past 2^53), bytes as arrays. */
export function valueToJson(v: FieldValue): unknown {
  if (v instanceof Field) return valueToJson(v.value);
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(valueToJson);
  if (v !== null && typeof v === "object") {
    if ("scale" in v && "value" in v && Object.keys(v).length === 2) {
      return (v.value as number) / 10 ** (v.scale as number);
    }
    return tableToJson(v as FieldTable);
  }
  return v;
}

export function tableToJson(t: FieldTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in t) out[k] = valueToJson(t[k]);
  return out;
}

/** Property names in the management API, by BasicProperties field. */
const PROPERTY_NAMES: [keyof BasicProperties, string][] = [
  ["contentType", "content_type"],
  ["contentEncoding", "content_encoding"],
  ["headers", "headers"],
  ["deliveryMode", "delivery_mode"],
  ["priority", "priority"],
  ["correlationId", "correlation_id"],
  ["replyTo", "reply_to"],
  ["expiration", "expiration"],
  ["messageId", "message_id"],
  ["timestamp", "timestamp"],
  ["type", "type"],
  ["userId", "user_id"],
  ["appId", "app_id"],
  ["clusterId", "cluster_id"],
];

const OCTET_PROPERTIES = new Set(["delivery_mode", "priority"]);

/** Message properties from the API's JSON form (`{"delivery_mode": 2, "headers": {…}}`). */
export function propertiesFromJson(v: unknown): BasicProperties {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new JsonValueError("properties must be a JSON object");
  }
  const json = v as Record<string, unknown>;
  const props: Record<string, unknown> = {};
  for (const [field, name] of PROPERTY_NAMES) {
    const x = json[name];
    if (x === undefined || x === null) continue;
    if (name === "headers") props[field] = tableFromJson(x, "properties.headers");
    else if (OCTET_PROPERTIES.has(name) || name === "timestamp") {
      const n = typeof x === "string" && /^\d+$/.test(x) ? Number(x) : x;
      const max = name === "timestamp" ? Number.MAX_SAFE_INTEGER : 255;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
        throw new JsonValueError(`properties.${name} must be an integer from 0 to ${max}`);
      }
      props[field] = n;
    } else {
      if (typeof x !== "string") throw new JsonValueError(`properties.${name} must be a string`);
      if (new TextEncoder().encode(x).length > 255) {
        throw new JsonValueError(`properties.${name} is longer than 255 bytes`);
      }
      props[field] = x;
    }
  }
  return props as BasicProperties;
}

/** Message properties in the API's JSON form; only the ones that are set. */
export function propertiesToJson(p: BasicProperties): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, name] of PROPERTY_NAMES) {
    const x = p[field];
    if (x === undefined) continue;
    out[name] = name === "headers" ? tableToJson(x as FieldTable) : valueToJson(x as FieldValue);
  }
  return out;
}
