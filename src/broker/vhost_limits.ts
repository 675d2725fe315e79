/**
 * Per-vhost limits, as RabbitMQ's `rabbitmqctl set_vhost_limits` has them: `max-connections`
 * (client connections open on the vhost) and `max-queues` (queues in it, exclusive and
 * server-named ones included). A negative value means no limit, 0 allows none. Past a limit,
 * connection.open is refused with 530 and queue.declare of a new queue with 406, in RabbitMQ's
 * words; what exists already is left alone.
 *
 *   const limits = parseVhostLimits({ "max-queues": 10 });   // throws VhostLimitsError
 *   activeLimit(limits, "max-queues");                        // 10 (undefined: no limit)
 */
import { notAllowed, preconditionFailed } from "../amqp/errors.ts";
import type { VHost } from "./vhost.ts";

export const VHOST_LIMIT_NAMES = ["max-connections", "max-queues"] as const;
export type VhostLimitName = typeof VHOST_LIMIT_NAMES[number];

/**
 * A vhost's limits, in the order RabbitMQ lists them (the one set last first); a name left out
 * has no limit.
 */
export type VhostLimits = Partial<Record<VhostLimitName, number>>;

/** A limits document that is not valid; the message says why, as RabbitMQ words it. */
export class VhostLimitsError extends Error {}

export function isVhostLimitName(name: string): name is VhostLimitName {
  return (VHOST_LIMIT_NAMES as readonly string[]).includes(name);
}

/** One limit's value: an integer (JSON number), as RabbitMQ requires. */
export function parseLimitValue(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new VhostLimitsError(
      `${name} should be a number, actually was ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  return value;
}

/** The entries of a limits object, refused when it is not one or names an unknown limit. */
function limitEntries(doc: unknown): [VhostLimitName, unknown][] {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new VhostLimitsError("limits must be a JSON object");
  }
  const entries = Object.entries(doc as Record<string, unknown>);
  const unknown = entries.filter(([k]) => !isVhostLimitName(k)).map(([k]) => k);
  if (unknown.length > 0) {
    throw new VhostLimitsError(`Unrecognised terms ${JSON.stringify(unknown)} in limits`);
  }
  return entries as [VhostLimitName, unknown][];
}

/** A whole limits document (`{"max-connections": 2, "max-queues": 10}`), validated. */
export function parseVhostLimits(doc: unknown): VhostLimits {
  const limits: VhostLimits = {};
  for (const [k, v] of limitEntries(doc)) limits[k] = parseLimitValue(k, v);
  return limits;
}

/** Changes to some limits, validated: a number sets one, null removes it. */
export type VhostLimitChanges = Partial<Record<VhostLimitName, number | null>>;

export function parseLimitChanges(doc: unknown): VhostLimitChanges {
  const changes: VhostLimitChanges = {};
  for (const [k, v] of limitEntries(doc)) changes[k] = v === null ? null : parseLimitValue(k, v);
  return changes;
}

/**
 * `limits` with `changes` applied: a number sets that limit (it moves to the front, as RabbitMQ
 * lists the one set last first), null removes it.
 */
export function withChanges(limits: VhostLimits, changes: VhostLimitChanges): VhostLimits {
  const set = Object.entries(changes).filter(([, v]) => v !== null) as [VhostLimitName, number][];
  const out: VhostLimits = Object.fromEntries(set.reverse());
  for (const [k, v] of Object.entries(limits) as [VhostLimitName, number][]) {
    if (!(k in changes)) out[k] = v;
  }
  return out;
}

/** The limit in force, or undefined when there is none (unset or negative). */
export function activeLimit(limits: VhostLimits, name: VhostLimitName): number | undefined {
  const n = limits[name];
  return n === undefined || n < 0 ? undefined : n;
}

/** 406 when a vhost holding `count` queues may not get another (RabbitMQ's text). */
export function checkQueueLimit(
  limits: VhostLimits,
  vhost: string,
  queue: string,
  count: number,
): void {
  const max = activeLimit(limits, "max-queues");
  if (max !== undefined && count >= max) {
    throw preconditionFailed(
      `cannot declare queue '${queue}': queue limit in vhost '${vhost}' (${max}) is reached`,
    );
  }
}

/**
 * 530 NOT_ALLOWED for connection.open when `vhost` has max-connections open among `connections`
 * already (RabbitMQ's text; checked before the user's permissions, as RabbitMQ does). They are
 * counted only when a limit is set.
 */
export function checkConnectionLimit(
  vhost: VHost,
  user: string,
  connections: Iterable<{ vhost: VHost | undefined; isOpen: boolean }>,
): void {
  const max = activeLimit(vhost.limits, "max-connections");
  if (max === undefined) return;
  let open = 0;
  for (const c of connections) if (c.vhost === vhost && c.isOpen) open++;
  if (open >= max) {
    throw notAllowed(
      `access to vhost '${vhost.name}' refused for user '${user}': connection limit (${max}) ` +
        "is reached",
    );
  }
}

/** The refusal of a definitions import whose new queues would not fit (RabbitMQ's text). */
export function checkImportQueueLimit(
  limits: VhostLimits,
  vhost: string,
  count: number,
  adding: number,
): void {
  const max = activeLimit(limits, "max-queues");
  if (max === undefined || adding === 0 || count + adding <= max) return;
  throw new VhostLimitsError(
    `Adding ${adding} queue(s) to virtual host "${vhost}" would exceed the limit of ${max} ` +
      `queue(s).\n\nThis virtual host currently has ${count} queue(s) defined.\n\nImport aborted!`,
  );
}
