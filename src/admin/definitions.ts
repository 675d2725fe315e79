/**
 * RabbitMQ's definitions JSON: the document `GET /api/definitions`, `rabbitmqctl
 * export_definitions` and `broker definitions export` write, and their import counterparts read.
 * This module is the format only (shapes, validation, RabbitMQ 3.x variants such as tags as a comma
 * string); the control service reads the broker into it and applies it to the broker.
 *
 *   const defs = parseDefinitions(JSON.parse(text));   // throws DefinitionsError on bad input
 */
import { tableFromJson } from "./amqp_json.ts";
import type { FieldTable } from "../amqp/table.ts";
import { parseVhostLimits, VhostLimitsError } from "../broker/vhost_limits.ts";
import type { VhostLimits } from "../broker/vhost_limits.ts";

/** The RabbitMQ release whose management API and definitions format we follow. */
export const RABBITMQ_COMPAT_VERSION = "3.13.7";

export interface UserDefinition {
  name: string;
  password_hash: string;
  hashing_algorithm: string;
  tags: string[];
  limits: Record<string, unknown>;
}

export interface VhostDefinition {
  name: string;
  description: string;
  tags: string[];
  metadata: { description: string; tags: string[] };
  default_queue_type?: string;
  limits?: unknown[];
}

export interface PermissionDefinition {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface QueueDefinition {
  name: string;
  vhost?: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: Record<string, unknown>;
}

export interface ExchangeDefinition {
  name: string;
  vhost?: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

export interface BindingDefinition {
  source: string;
  vhost?: string;
  destination: string;
  destination_type: "queue" | "exchange";
  routing_key: string;
  arguments: Record<string, unknown>;
}

/** A policy, as RabbitMQ exports it (`apply-to`: queues, exchanges or all). */
export interface PolicyDefinition {
  vhost?: string;
  name: string;
  pattern: string;
  "apply-to": string;
  definition: Record<string, unknown>;
  priority: number;
}

/**
 * A runtime parameter. The only component this broker has is RabbitMQ's `vhost-limits` (name
 * `limits`, value `{"max-connections": N, "max-queues": N}`), which is how RabbitMQ exports vhost
 * limits.
 */
export interface ParameterDefinition {
  value: unknown;
  vhost: string;
  component: string;
  name: string;
}

/** The component and name under which RabbitMQ keeps a vhost's limits. */
export const VHOST_LIMITS_COMPONENT = "vhost-limits";
export const VHOST_LIMITS_NAME = "limits";

/** The whole document, as exported (per-vhost exports carry only the entity lists). */
export interface Definitions {
  rabbit_version: string;
  rabbitmq_version: string;
  product_name: string;
  product_version: string;
  users?: UserDefinition[];
  vhosts?: VhostDefinition[];
  permissions?: PermissionDefinition[];
  topic_permissions?: unknown[];
  parameters: ParameterDefinition[];
  global_parameters?: unknown[];
  policies: PolicyDefinition[];
  queues: QueueDefinition[];
  exchanges: ExchangeDefinition[];
  bindings: BindingDefinition[];
}

/** A user to import: a password hash (with its algorithm) or a clear-text password. */
export interface UserImport {
  name: string;
  passwordHash?: string;
  password?: string;
  hashingAlgorithm?: string;
  tags: string[];
}

/** A vhost to import; description and tags left out keep an existing vhost's. */
export interface VhostImport {
  name: string;
  description?: string;
  tags?: string[];
}

export interface QueueImport {
  vhost: string;
  name: string;
  durable: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface ExchangeImport {
  vhost: string;
  name: string;
  type: string;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface BindingImport {
  vhost: string;
  source: string;
  destination: string;
  destinationType: "queue" | "exchange";
  routingKey: string;
  arguments: FieldTable;
}

/** A policy to import; the definition's keys and values are checked by the service. */
export interface PolicyImport {
  vhost: string;
  name: string;
  pattern: string;
  definition: unknown;
  applyTo: string;
  priority: number;
}

/** A vhost's limits to import: they replace the vhost's own (as rabbitmqctl set_vhost_limits). */
export interface VhostLimitsImport {
  vhost: string;
  limits: VhostLimits;
}

/** A validated document, ready for the service to apply in order. */
export interface ParsedDefinitions {
  users: UserImport[];
  vhosts: VhostImport[];
  permissions: PermissionDefinition[];
  policies: PolicyImport[];
  vhostLimits: VhostLimitsImport[];
  exchanges: ExchangeImport[];
  queues: QueueImport[];
  bindings: BindingImport[];
  /** Sections this broker does not implement (parameters…): how many entries each. */
  ignored: Record<string, number>;
}

/** The document is not valid definitions; the message says which entry and why. */
export class DefinitionsError extends Error {}

/**
 * Sections accepted and skipped: this broker has no global parameters or topic permissions, and
 * of the runtime parameters only vhost limits (the others are counted as ignored).
 */
const IGNORED_SECTIONS = [
  "global_parameters",
  "topic_permissions",
] as const;

/** Tags as RabbitMQ writes them: an array (3.10+) or a comma-separated string (before). */
export function parseTags(v: unknown, where = "tags"): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === "string") return v.split(",").map((t) => t.trim()).filter((t) => t !== "");
  if (Array.isArray(v) && v.every((t) => typeof t === "string")) {
    return (v as string[]).map((t) => t.trim()).filter((t) => t !== "");
  }
  throw new DefinitionsError(`${where} must be a list of strings or a comma-separated string`);
}

type Json = Record<string, unknown>;

function list(doc: Json, key: string): Json[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new DefinitionsError(`'${key}' must be a list`);
  return v.map((x, i) => {
    if (typeof x !== "object" || x === null || Array.isArray(x)) {
      throw new DefinitionsError(`${key}[${i}] must be an object`);
    }
    return x as Json;
  });
}

function str(o: Json, key: string, where: string, fallback?: string): string {
  const v = o[key];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== "string") throw new DefinitionsError(`${where}: '${key}' must be a string`);
  return v;
}

function bool(o: Json, key: string, where: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (v === "true" || v === "false") return v === "true";
  if (typeof v !== "boolean") {
    throw new DefinitionsError(`${where}: '${key}' must be true or false`);
  }
  return v;
}

function args(o: Json, where: string): FieldTable {
  try {
    return tableFromJson(o.arguments, `${where}: arguments`);
  } catch (err) {
    throw new DefinitionsError((err as Error).message);
  }
}

/**
 * Validates a definitions document. With `vhost` (a per-vhost import) queues, exchanges and
 * bindings go to that vhost whatever they say, and users, vhosts and permissions are not read.
 */
export function parseDefinitions(doc: unknown, vhost?: string): ParsedDefinitions {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new DefinitionsError("definitions must be a JSON object");
  }
  const d = doc as Json;
  const vhostOf = (o: Json, where: string) => vhost ?? str(o, "vhost", where, "/");
  const out: ParsedDefinitions = {
    users: [],
    vhosts: [],
    permissions: [],
    policies: [],
    vhostLimits: [],
    exchanges: [],
    queues: [],
    bindings: [],
    ignored: {},
  };
  if (vhost === undefined) {
    out.users = list(d, "users").map((u, i) => {
      const where = `users[${i}]`;
      const name = str(u, "name", where);
      const hash = u.password_hash;
      const password = u.password;
      if (hash !== undefined && typeof hash !== "string") {
        throw new DefinitionsError(`${where}: 'password_hash' must be a string`);
      }
      if (password !== undefined && typeof password !== "string") {
        throw new DefinitionsError(`${where}: 'password' must be a string`);
      }
      const algorithm = u.hashing_algorithm;
      if (algorithm !== undefined && typeof algorithm !== "string") {
        throw new DefinitionsError(`${where}: 'hashing_algorithm' must be a string`);
      }
      return {
        name,
        passwordHash: hash as string | undefined,
        password: password as string | undefined,
        hashingAlgorithm: algorithm as string | undefined,
        tags: parseTags(u.tags, `${where}: tags`),
      };
    });
    out.vhosts = list(d, "vhosts").map((v, i) => {
      const where = `vhosts[${i}]`;
      const meta =
        (typeof v.metadata === "object" && v.metadata !== null ? v.metadata : {}) as Json;
      const description = v.description ?? meta.description;
      if (description !== undefined && typeof description !== "string") {
        throw new DefinitionsError(`${where}: 'description' must be a string`);
      }
      const tags = v.tags ?? meta.tags;
      return {
        name: str(v, "name", where),
        description,
        tags: tags === undefined ? undefined : parseTags(tags, `${where}: tags`),
      };
    });
    out.permissions = list(d, "permissions").map((p, i) => {
      const where = `permissions[${i}]`;
      return {
        user: str(p, "user", where),
        vhost: str(p, "vhost", where),
        configure: str(p, "configure", where),
        write: str(p, "write", where),
        read: str(p, "read", where),
      };
    });
  }
  out.policies = list(d, "policies").map((p, i) => {
    const where = `policies[${i}]`;
    const priority = p.priority ?? 0;
    if (typeof priority !== "number" || !Number.isInteger(priority)) {
      throw new DefinitionsError(`${where}: 'priority' must be an integer`);
    }
    return {
      vhost: vhostOf(p, where),
      name: str(p, "name", where),
      pattern: str(p, "pattern", where),
      definition: p.definition,
      applyTo: str(p, "apply-to", where, "all"),
      priority,
    };
  });
  const parameters = list(d, "parameters");
  for (const [i, p] of parameters.entries()) {
    if (p.component !== VHOST_LIMITS_COMPONENT) continue;
    const where = `parameters[${i}]`;
    const name = str(p, "name", where);
    if (name !== VHOST_LIMITS_NAME) {
      throw new DefinitionsError(`${where}: vhost limits must be named '${VHOST_LIMITS_NAME}'`);
    }
    try {
      out.vhostLimits.push({ vhost: vhostOf(p, where), limits: parseVhostLimits(p.value) });
    } catch (err) {
      if (err instanceof VhostLimitsError) throw new DefinitionsError(`${where}: ${err.message}`);
      throw err;
    }
  }
  const otherParameters = parameters.length - out.vhostLimits.length;
  if (otherParameters > 0) out.ignored.parameters = otherParameters;
  out.exchanges = list(d, "exchanges").map((e, i) => {
    const where = `exchanges[${i}]`;
    return {
      vhost: vhostOf(e, where),
      name: str(e, "name", where),
      type: str(e, "type", where),
      durable: bool(e, "durable", where, true),
      autoDelete: bool(e, "auto_delete", where, false),
      internal: bool(e, "internal", where, false),
      arguments: args(e, where),
    };
  });
  out.queues = list(d, "queues").map((q, i) => {
    const where = `queues[${i}]`;
    return {
      vhost: vhostOf(q, where),
      name: str(q, "name", where),
      durable: bool(q, "durable", where, true),
      autoDelete: bool(q, "auto_delete", where, false),
      arguments: args(q, where),
    };
  });
  out.bindings = list(d, "bindings").map((b, i) => {
    const where = `bindings[${i}]`;
    const type = str(b, "destination_type", where);
    if (type !== "queue" && type !== "exchange") {
      throw new DefinitionsError(`${where}: 'destination_type' must be queue or exchange`);
    }
    return {
      vhost: vhostOf(b, where),
      source: str(b, "source", where),
      destination: str(b, "destination", where),
      destinationType: type,
      routingKey: str(b, "routing_key", where, ""),
      arguments: args(b, where),
    };
  });
  for (const section of IGNORED_SECTIONS) {
    const n = list(d, section).length;
    if (n > 0) out.ignored[section] = n;
  }
  return out;
}
