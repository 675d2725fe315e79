/**
 * Policies: per-vhost rules that add settings to the queues and exchanges whose names match a
 * regular expression, as RabbitMQ's `rabbitmqctl set_policy` does. Of the policies matching an
 * entity only the one with the highest priority applies (ties: the first by name). Queue arguments
 * and policy settings combine as RabbitMQ combines them (see Queue.applyPolicy).
 *
 *   const p = new Policy("/", "ttl", "^orders\\.", { "message-ttl": 60000 }, "queues", 0);
 *   p.appliesTo("orders.eu", "queues"); // true
 */

/** What a policy applies to (RabbitMQ's `apply-to`). */
export type PolicyApplyTo = "queues" | "exchanges" | "all";

export const POLICY_APPLY_TO: readonly PolicyApplyTo[] = ["queues", "exchanges", "all"];

/** A policy's settings, by RabbitMQ's keys (`message-ttl`, `dead-letter-exchange`, …). */
export type PolicyDefinition = Record<string, string | number>;

type KeyCheck = (v: unknown) => string | null;

const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

const nonNegative: KeyCheck = (v) =>
  isInteger(v) && v >= 0 ? null : "must be a non-negative integer";
const positive: KeyCheck = (v) => isInteger(v) && v >= 1 ? null : "must be a positive integer";
const text: KeyCheck = (v) => typeof v === "string" ? null : "must be a string";

/** The settings this broker knows in a policy definition, with their checks. */
const POLICY_KEYS: Record<string, KeyCheck> = {
  "message-ttl": nonNegative,
  "expires": positive,
  "max-length": nonNegative,
  "max-length-bytes": nonNegative,
  "overflow": (v) =>
    v === "drop-head" || v === "reject-publish" || v === "reject-publish-dlx"
      ? null
      : "must be drop-head, reject-publish or reject-publish-dlx",
  "dead-letter-exchange": text,
  "dead-letter-routing-key": text,
  "alternate-exchange": text,
  "max-priority": (v) => isInteger(v) && v >= 0 && v <= 255 ? null : "must be an integer 0-255",
};

/**
 * Why a definition is not acceptable (unknown key, bad value), or null when it is. RabbitMQ
 * refuses unknown keys with `… are not recognised policy settings`.
 */
export function invalidDefinition(definition: unknown): string | null {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    return "the definition must be a JSON object";
  }
  const entries = Object.entries(definition);
  if (entries.length === 0) return "the definition is empty";
  const unknown = entries.filter(([k]) => !(k in POLICY_KEYS)).map(([k]) => k);
  if (unknown.length > 0) return `${unknown.join(", ")} are not recognised policy settings`;
  for (const [k, v] of entries) {
    const why = POLICY_KEYS[k](v);
    if (why) return `'${k}' ${why}`;
  }
  return null;
}

export class Policy {
  private readonly regex: RegExp;

  /** Throws when `pattern` is not a regular expression (check with {@link invalidPolicyPattern}). */
  constructor(
    readonly vhost: string,
    readonly name: string,
    readonly pattern: string,
    readonly definition: PolicyDefinition,
    readonly applyTo: PolicyApplyTo,
    readonly priority: number,
  ) {
    this.regex = new RegExp(pattern, "u");
  }

  /** Whether the policy applies to a queue or exchange of this name (unanchored match). */
  appliesTo(name: string, kind: "queues" | "exchanges"): boolean {
    return (this.applyTo === "all" || this.applyTo === kind) && this.regex.test(name);
  }
}

/** Why a policy pattern is not a valid regular expression, or null when it is. */
export function invalidPolicyPattern(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The one policy that applies to an entity: the highest priority, then the first by name. */
export function matchPolicy(
  policies: Iterable<Policy>,
  name: string,
  kind: "queues" | "exchanges",
): Policy | undefined {
  let best: Policy | undefined;
  for (const p of policies) {
    if (!p.appliesTo(name, kind)) continue;
    if (
      !best || p.priority > best.priority || (p.priority === best.priority && p.name < best.name)
    ) best = p;
  }
  return best;
}
