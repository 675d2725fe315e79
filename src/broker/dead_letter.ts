/**
 * Dead-lettering as RabbitMQ 3.10 does it: the copy of a message that leaves a queue with an
 * x-dead-letter-exchange (rejected, expired, or dropped by a length limit) gets an `x-death`
 * header, loses its per-message `expiration`, and is published to the dead-letter exchange; a
 * copy that would return to a queue it already died in, with no rejection on the way, is dropped.
 *
 * ```ts
 * const dead = deadLetterCopy(msg, "expired", "orders", "dlx", undefined, Date.now());
 * const cyclic = isDeathCycle("orders", dead.headers!["x-death"] as FieldValue[]);
 * ```
 */
import { encodeBasicProperties } from "../amqp/spec.ts";
import type { BasicProperties } from "../amqp/spec.ts";
import { Field, plainValue } from "../amqp/table.ts";
import type { FieldTable, FieldValue } from "../amqp/table.ts";
import { Writer } from "../amqp/writer.ts";
import { Message } from "./message.ts";
import { unpinned } from "./body_slab.ts";

/** Why a message was dead-lettered, as the x-death `reason` says it. */
export type DeathReason = "rejected" | "expired" | "maxlen";

const scratch = new Writer(1024);

const isTable = (v: FieldValue | undefined): v is FieldTable =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Field) &&
  !(v instanceof Uint8Array) && !("scale" in v && "value" in v && Object.keys(v).length === 2);

/**
 * The dead-lettered copy of `msg`, leaving queue `queue` for exchange `dlx`, with routing key
 * `routingKey` (undefined: the original one is kept). Its x-death gets an entry for this queue and
 * reason (count 1, in front), or the existing entry for them has its count incremented and moves
 * to the front; the first death also sets x-first-death-exchange/-queue/-reason. A new routing
 * key drops the CC header, as RabbitMQ does.
 */
export function deadLetterCopy(
  msg: Message,
  reason: DeathReason,
  queue: string,
  dlx: string,
  routingKey: string | undefined,
  nowMs: number,
): Message {
  const props: BasicProperties = { ...msg.props };
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const cc = headers["CC"];
  const routingKeys: FieldValue[] = [msg.routingKey];
  if (Array.isArray(cc)) { for (const k of cc) if (typeof k === "string") routingKeys.push(k); }
  const deaths = headers["x-death"];
  if (Array.isArray(deaths)) {
    const i = deaths.findIndex((d) =>
      isTable(d) && plainValue(d.queue) === queue && plainValue(d.reason) === reason
    );
    let entry: FieldTable;
    if (i >= 0) {
      const old = deaths[i] as FieldTable;
      const count = old.count === undefined ? NaN : Number(plainValue(old.count));
      entry = sortedTable({
        ...old,
        count: new Field("l", BigInt(Number.isSafeInteger(count) ? count + 1 : 1)),
      });
    } else {
      entry = sortedTable(deathEntry(msg, props, reason, queue, routingKeys, nowMs));
    }
    headers["x-death"] = [entry, ...deaths.filter((_, j) => j !== i)];
  } else {
    // The first death: x-death first, then the x-first-death-* headers (RabbitMQ prepends them).
    const rest = { ...headers };
    delete rest["x-death"];
    for (const k of Object.keys(headers)) delete headers[k];
    headers["x-death"] = [deathEntry(msg, props, reason, queue, routingKeys, nowMs)];
    headers["x-first-death-exchange"] = msg.exchange;
    headers["x-first-death-reason"] = reason;
    headers["x-first-death-queue"] = queue;
    Object.assign(headers, rest);
  }
  if (routingKey !== undefined) delete headers["CC"];
  props.headers = headers;
  delete props.expiration;
  scratch.clear();
  encodeBasicProperties(scratch, props);
  return new Message(
    dlx,
    routingKey ?? msg.routingKey,
    scratch.bytes().slice(),
    unpinned(msg.body),
  );
}

function deathEntry(
  msg: Message,
  props: BasicProperties,
  reason: DeathReason,
  queue: string,
  routingKeys: FieldValue[],
  nowMs: number,
): FieldTable {
  const entry: FieldTable = {
    count: new Field("l", 1n),
    reason,
    queue,
    time: new Field("T", Math.floor(nowMs / 1000)),
    exchange: msg.exchange,
    "routing-keys": routingKeys,
  };
  if (props.expiration !== undefined) entry["original-expiration"] = props.expiration;
  return entry;
}

function sortedTable(t: FieldTable): FieldTable {
  const out: FieldTable = {};
  for (const k of Object.keys(t).sort()) out[k] = t[k];
  return out;
}

/**
 * Whether delivering a dead-lettered message (whose x-death is `deaths`, newest first) to `queue`
 * closes a cycle RabbitMQ drops: the queue appears in x-death and no entry up to and including
 * its first appearance has reason `rejected` (a client took part) nor is anything but a table.
 * Not asked for messages dead-lettered by rejection.
 */
export function isDeathCycle(queue: string, deaths: FieldValue | undefined): boolean {
  if (!Array.isArray(deaths)) return false;
  for (const d of deaths) {
    if (!isTable(d) || plainValue(d.reason) === "rejected") return false;
    if (plainValue(d.queue) === queue) return true;
  }
  return false;
}
