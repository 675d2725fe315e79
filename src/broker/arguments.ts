/**
 * Validation of queue and exchange arguments at declare time, as RabbitMQ does it: a bad value is
 * a 406 PRECONDITION_FAILED `invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {…}` with the
 * reason in RabbitMQ's Erlang-term shape. Unknown arguments are not checked (RabbitMQ ignores them).
 */
import { preconditionFailed } from "../amqp/errors.ts";
import { Field, plainValue } from "../amqp/table.ts";
import type { FieldTable, FieldValue } from "../amqp/table.ts";

type Check = (v: FieldValue) => string | null;

/** RabbitMQ's type name for a field value, as it prints it in error texts. */
export function argumentTypeName(v: FieldValue): string {
  if (v instanceof Field) {
    return ({
      b: "byte",
      B: "unsignedbyte",
      s: "short",
      u: "unsignedshort",
      i: "unsignedint",
      l: "long",
      f: "float",
      d: "double",
      D: "decimal",
      T: "timestamp",
      x: "binary",
      S: "longstr",
    } as Record<string, string>)[v.type] ?? v.type;
  }
  if (typeof v === "string") return "longstr";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "signedint" : "double";
  if (v === null) return "void";
  return Array.isArray(v) ? "array" : "table";
}

const INTEGER_TYPES = new Set([
  "byte",
  "unsignedbyte",
  "short",
  "unsignedshort",
  "signedint",
  "unsignedint",
  "long",
]);

function integer(min: number, zeroOk: boolean, max = Infinity): Check {
  return (v) => {
    const type = argumentTypeName(v);
    if (!INTEGER_TYPES.has(type)) return `{unacceptable_type,${type}}`;
    const n = Number(plainValue(v));
    if (n < min) return `{value_negative,${n}}`;
    if (n === 0 && !zeroOk) return `{value_zero,${n}}`;
    if (n > max) return `{value_too_large,${n},${max}}`;
    return null;
  };
}

const string: Check = (v) => {
  const type = argumentTypeName(v);
  return type === "longstr" ? null : `{unacceptable_type,${type}}`;
};

function oneOf(...values: string[]): Check {
  return (v) => {
    const bad = string(v);
    if (bad) return bad;
    const s = String(plainValue(v));
    return values.includes(s) ? null : `{unknown_value,<<"${s}">>}`;
  };
}

/** The x-overflow behaviours of a length-limited queue; the first is the default. */
export const OVERFLOW_VALUES = ["drop-head", "reject-publish", "reject-publish-dlx"];

/** The queue types this broker implements (x-queue-type). */
export const SUPPORTED_QUEUE_TYPES = ["classic"];

/** Queue types RabbitMQ has and we do not (yet): refused with a text that says so. */
const UNSUPPORTED_QUEUE_TYPES = ["quorum", "stream"];

const QUEUE_CHECKS: Record<string, Check> = {
  "x-queue-type": (v) => {
    const bad = string(v);
    if (bad) return bad;
    const type = String(plainValue(v));
    return SUPPORTED_QUEUE_TYPES.includes(type) ? null : `"unsupported queue type '${type}'"`;
  },
  "x-message-ttl": integer(0, true),
  "x-expires": integer(0, false),
  "x-max-length": integer(0, true),
  "x-max-length-bytes": integer(0, true),
  "x-max-priority": integer(0, true, 255),
  "x-overflow": (v) => {
    const bad = string(v);
    if (bad) return bad;
    return OVERFLOW_VALUES.includes(String(plainValue(v))) ? null : "invalid_overflow";
  },
  "x-dead-letter-exchange": string,
  "x-dead-letter-routing-key": string,
  "x-queue-mode": oneOf("default", "lazy"),
  "x-single-active-consumer": (v) =>
    argumentTypeName(v) === "bool" ? null : `{unacceptable_type,${argumentTypeName(v)}}`,
};

const EXCHANGE_CHECKS: Record<string, Check> = {
  "alternate-exchange": string,
};

function validate(checks: Record<string, Check>, args: FieldTable, what: string): void {
  for (const [key, check] of Object.entries(checks)) {
    const v = args[key];
    if (v === undefined) continue;
    const why = check(v);
    if (why) throw preconditionFailed(`invalid arg '${key}' for ${what}: ${why}`);
  }
}

/**
 * 406 for a queue argument RabbitMQ would refuse; `what` is e.g. `queue 'q' in vhost '/'`. A queue
 * type RabbitMQ has but this broker does not (quorum, stream) is refused first, naming what is
 * supported; any other unknown type is refused as RabbitMQ refuses it.
 */
export function validateQueueArguments(args: FieldTable, what: string): void {
  const type = args["x-queue-type"];
  if (type !== undefined && argumentTypeName(type) === "longstr") {
    const name = String(plainValue(type));
    if (UNSUPPORTED_QUEUE_TYPES.includes(name)) {
      throw preconditionFailed(
        `queue type '${name}' is not supported by this broker; supported: ${
          SUPPORTED_QUEUE_TYPES.join(", ")
        }`,
      );
    }
  }
  validate(QUEUE_CHECKS, args, what);
}

export const validateExchangeArguments = (args: FieldTable, what: string) =>
  validate(EXCHANGE_CHECKS, args, what);

/**
 * A consumer's priority from basic.consume's arguments (x-priority; 0 when absent): 406 for a
 * value that is not an integer, worded as RabbitMQ words it; `what` names the queue.
 */
export function consumerPriority(args: FieldTable, what: string): number {
  const v = args["x-priority"];
  if (v === undefined) return 0;
  const type = argumentTypeName(v);
  if (!INTEGER_TYPES.has(type)) {
    throw preconditionFailed(
      `invalid arg 'x-priority' for ${what}: "expected integer, got ${type}"`,
    );
  }
  return Number(plainValue(v));
}
