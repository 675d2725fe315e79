/**
 * Per-user, per-vhost permissions: three regular expressions (configure, write, read) matched
 * against resource names the way RabbitMQ does: unanchored, and an empty pattern allows nothing.
 * The default exchange is named `amq.default` in checks and error texts.
 */
import { accessRefused } from "../amqp/errors.ts";
import type { AmqpError } from "../amqp/errors.ts";

export type AccessKind = "configure" | "write" | "read";
export type ResourceType = "exchange" | "queue";

export class Permission {
  private readonly patterns: Record<AccessKind, RegExp | null>;

  constructor(readonly configure: string, readonly write: string, readonly read: string) {
    this.patterns = {
      configure: compile(configure),
      write: compile(write),
      read: compile(read),
    };
  }

  allows(kind: AccessKind, name: string): boolean {
    const re = this.patterns[kind];
    return re !== null && re.test(name);
  }
}

function compile(pattern: string): RegExp | null {
  return pattern === "" ? null : new RegExp(pattern, "u");
}

/** Why a permission pattern is not a valid regular expression, or null when it is. */
export function invalidPattern(pattern: string): string | null {
  try {
    compile(pattern);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export class PermissionTable {
  private readonly byKey = new Map<string, { user: string; vhost: string; perm: Permission }>();
  /** Bumped on every change, so channels can keep a cache of their checks. */
  version = 0;

  private key(user: string, vhost: string): string {
    return `${user}\0${vhost}`;
  }

  get(user: string, vhost: string): Permission | undefined {
    return this.byKey.get(this.key(user, vhost))?.perm;
  }

  set(user: string, vhost: string, perm: Permission): void {
    this.byKey.set(this.key(user, vhost), { user, vhost, perm });
    this.version++;
  }

  delete(user: string, vhost: string): boolean {
    this.version++;
    return this.byKey.delete(this.key(user, vhost));
  }

  /** Removes every entry of a user or of a vhost. */
  deleteWhere(match: { user?: string; vhost?: string }): void {
    for (const [k, e] of this.byKey) {
      if (e.user === match.user || e.vhost === match.vhost) this.byKey.delete(k);
    }
    this.version++;
  }

  list(): { user: string; vhost: string; perm: Permission }[] {
    return [...this.byKey.values()].sort((a, b) =>
      a.vhost.localeCompare(b.vhost) || a.user.localeCompare(b.user)
    );
  }
}

/** The name a resource is checked and reported under. */
export const resourceName = (type: ResourceType, name: string) =>
  type === "exchange" && name === "" ? "amq.default" : name;

/** RabbitMQ's 403 text for a refused resource operation. */
export function resourceRefused(
  type: ResourceType,
  name: string,
  vhost: string,
  user: string,
): AmqpError {
  return accessRefused(
    `access to ${type} '${
      resourceName(type, name)
    }' in vhost '${vhost}' refused for user '${user}'`,
  );
}
