/**
 * The one internal API through which the CLI (live over the control socket, or offline on the data
 * dir) and the admin API read and change the broker: users, vhosts, permissions, listings, status.
 * Each change is validated, written to the metadata store, then applied to the live model, with its
 * side effects (closing connections of a deleted user or vhost).
 */
import { invalidPattern, Permission } from "../auth/permissions.ts";
import { HASHING_ALGORITHM, hashPassword, isPasswordHash } from "../auth/password.ts";
import type { User } from "../auth/users.ts";
import type { Broker } from "../broker/broker.ts";
import { Exchange } from "../broker/exchange.ts";
import type { VHost } from "../broker/vhost.ts";
import type { MetadataStore } from "../store/metadata.ts";
import type { FieldTable } from "../amqp/table.ts";
import type { Connection } from "../server/connection.ts";
import { VERSION } from "../version.ts";

/** A refused request: exit code 1 on the CLI, 4xx on the admin API. */
export class ServiceError extends Error {
  constructor(message: string, readonly kind: "not_found" | "exists" | "invalid" = "invalid") {
    super(message);
  }
}

/** What the service needs from a running server (absent when the CLI works offline). */
export interface LiveServer {
  readonly connections: Iterable<Connection>;
  readonly startedAt: number;
  listenerAddresses(): string[];
}

export type Row = Record<string, unknown>;

export interface UserInput {
  name: string;
  password?: string;
  passwordHash?: string;
  tags?: string[];
}

export class ControlService {
  constructor(
    readonly broker: Broker,
    readonly store: MetadataStore,
    readonly server: LiveServer | undefined = undefined,
  ) {}

  // ---- users

  addUser(input: UserInput): void {
    validateName(input.name, "user");
    if (this.broker.users.get(input.name)) {
      throw new ServiceError(`user '${input.name}' already exists`, "exists");
    }
    this.putUser(input.name, this.passwordHashOf(input), input.tags ?? []);
  }

  private passwordHashOf(input: UserInput): string {
    if (input.passwordHash !== undefined) {
      if (input.passwordHash !== "" && !isPasswordHash(input.passwordHash)) {
        throw new ServiceError("password_hash is not a base64 salted SHA-256 hash");
      }
      return input.passwordHash;
    }
    if (input.password === undefined || input.password === "") {
      throw new ServiceError("a password is required");
    }
    return hashPassword(input.password);
  }

  private putUser(name: string, passwordHash: string, tags: string[]): void {
    const user: User = { name, passwordHash, hashingAlgorithm: HASHING_ALGORITHM, tags };
    this.store.putUser(user);
    this.broker.users.set(user);
  }

  private user(name: string): User {
    const u = this.broker.users.get(name);
    if (!u) throw new ServiceError(`no such user '${name}'`, "not_found");
    return u;
  }

  deleteUser(name: string): void {
    this.user(name);
    this.store.deleteUser(name);
    this.broker.users.delete(name);
    this.broker.permissions.deleteWhere({ user: name });
    this.closeConnections((c) => c.user?.name === name, `user '${name}' is deleted`);
  }

  changePassword(name: string, password: string): void {
    const u = this.user(name);
    this.putUser(name, this.passwordHashOf({ name, password }), u.tags);
  }

  setTags(name: string, tags: string[]): void {
    const u = this.user(name);
    this.putUser(name, u.passwordHash, tags);
  }

  listUsers(): Row[] {
    return this.broker.users.list().map((u) => ({ name: u.name, tags: u.tags }));
  }

  // ---- vhosts

  addVhost(name: string, description = ""): void {
    validateName(name, "vhost");
    if (this.broker.vhosts.has(name)) {
      throw new ServiceError(`vhost '${name}' already exists`, "exists");
    }
    this.store.putVhost({ name, description, tags: [] });
    this.broker.addVhost(name, description);
  }

  deleteVhost(name: string): void {
    const vhost = this.vhost(name);
    this.store.deleteVhost(name);
    this.broker.vhosts.delete(name);
    this.broker.permissions.deleteWhere({ vhost: name });
    this.closeConnections((c) => c.vhost === vhost, `vhost '${name}' is deleted`);
    for (const q of [...vhost.queues.values()]) vhost.removeQueue(q);
  }

  private vhost(name: string): VHost {
    const v = this.broker.vhosts.get(name);
    if (!v) throw new ServiceError(`no such vhost '${name}'`, "not_found");
    return v;
  }

  listVhosts(): Row[] {
    return [...this.broker.vhosts.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => ({ name: v.name, description: v.description, tags: v.tags }));
  }

  // ---- permissions

  setPermissions(user: string, vhost: string, configure: string, write: string, read: string) {
    this.user(user);
    this.vhost(vhost);
    for (const [what, p] of [["configure", configure], ["write", write], ["read", read]]) {
      const why = invalidPattern(p);
      if (why) throw new ServiceError(`${what} pattern '${p}' is not a valid regex: ${why}`);
    }
    this.store.putPermission({ user, vhost, configure, write, read });
    this.broker.permissions.set(user, vhost, new Permission(configure, write, read));
  }

  clearPermissions(user: string, vhost: string): void {
    this.user(user);
    this.vhost(vhost);
    if (!this.broker.permissions.get(user, vhost)) {
      throw new ServiceError(`user '${user}' has no permissions on vhost '${vhost}'`, "not_found");
    }
    this.store.deletePermission(user, vhost);
    this.broker.permissions.delete(user, vhost);
  }

  listPermissions(vhost?: string): Row[] {
    if (vhost !== undefined) this.vhost(vhost);
    return this.broker.permissions.list()
      .filter((e) => vhost === undefined || e.vhost === vhost)
      .map(({ user, vhost, perm }) => ({
        user,
        vhost,
        configure: perm.configure,
        write: perm.write,
        read: perm.read,
      }));
  }

  // ---- listings

  listQueues(vhost: string): Row[] {
    return [...this.vhost(vhost).queues.values()].map((q) => ({
      name: q.name,
      vhost: q.vhost,
      durable: q.durable,
      auto_delete: q.autoDelete,
      exclusive: q.exclusive,
      arguments: jsonTable(q.options.arguments),
      messages: q.messageCount + q.unackedCount,
      messages_ready: q.messageCount,
      messages_unacknowledged: q.unackedCount,
      consumers: q.consumerCount,
    }));
  }

  listExchanges(vhost: string): Row[] {
    return [...this.vhost(vhost).exchanges.values()].map((e) => ({
      name: e.name,
      vhost,
      type: e.type,
      durable: e.durable,
      auto_delete: e.autoDelete,
      internal: e.internal,
      arguments: jsonTable(e.options.arguments),
    }));
  }

  listBindings(vhost: string): Row[] {
    const v = this.vhost(vhost);
    const rows: Row[] = [];
    for (const q of v.queues.values()) {
      rows.push(bindingRow(vhost, "", q.name, "queue", q.name, {}));
    }
    for (const ex of v.exchanges.values()) {
      for (const b of ex.bindings.values()) {
        const type = b.destination instanceof Exchange ? "exchange" : "queue";
        rows.push(bindingRow(vhost, ex.name, b.destination.name, type, b.routingKey, b.arguments));
      }
    }
    return rows;
  }

  private liveConnections(vhost?: string): Connection[] {
    const all = this.server ? [...this.server.connections] : [];
    return all.filter((c) => c.isOpen && (vhost === undefined || c.vhost?.name === vhost));
  }

  listConnections(vhost?: string): Row[] {
    return this.liveConnections(vhost).map((c) => ({
      name: c.name,
      user: c.user?.name,
      vhost: c.vhost?.name,
      peer_host: c.remoteAddress,
      peer_port: c.remotePort,
      channels: c.channels.size,
      connected_at: c.connectedAt,
      client_product: c.clientProperties.product ?? null,
    }));
  }

  listChannels(vhost?: string): Row[] {
    return this.liveConnections(vhost).flatMap((c) =>
      [...c.channels.values()].map((ch) => ({
        connection: c.name,
        number: ch.id,
        user: c.user?.name,
        vhost: c.vhost?.name,
        consumer_count: ch.consumerCount,
        messages_unacknowledged: ch.unackedCount,
        prefetch_count: ch.prefetchCount,
        global_prefetch_count: ch.globalPrefetch,
      }))
    );
  }

  listConsumers(vhost?: string): Row[] {
    return this.liveConnections(vhost).flatMap((c) =>
      [...c.channels.values()].flatMap((ch) =>
        ch.consumerList().map((k) => ({
          queue: k.queue.name,
          vhost: k.queue.vhost,
          connection: c.name,
          channel: ch.id,
          consumer_tag: k.tag,
          ack_required: !k.noAck,
          exclusive: k.exclusive,
          prefetch_count: k.prefetch,
        }))
      )
    );
  }

  status(): Row {
    const mem = Deno.memoryUsage();
    let queues = 0;
    let messages = 0;
    for (const v of this.broker.vhosts.values()) {
      queues += v.queues.size;
      for (const q of v.queues.values()) messages += q.messageCount + q.unackedCount;
    }
    return {
      running: this.server !== undefined,
      version: VERSION,
      pid: Deno.pid,
      uptime_seconds: this.server ? Math.round((Date.now() - this.server.startedAt) / 1000) : 0,
      listeners: this.server?.listenerAddresses() ?? [],
      connections: this.liveConnections().length,
      vhosts: this.broker.vhosts.size,
      users: this.broker.users.list().length,
      queues,
      messages,
      memory_rss_bytes: mem.rss,
      memory_heap_used_bytes: mem.heapUsed,
      memory_external_bytes: mem.external,
      data_dir_store: this.store.path,
    };
  }

  private closeConnections(match: (c: Connection) => boolean, reason: string): void {
    for (const c of this.liveConnections()) if (match(c)) c.forceClose(reason);
  }
}

function validateName(name: string, what: string): void {
  if (typeof name !== "string" || name === "") throw new ServiceError(`${what} name is empty`);
  if (new TextEncoder().encode(name).length > 255) {
    throw new ServiceError(`${what} name is longer than 255 bytes`);
  }
}

function bindingRow(
  vhost: string,
  source: string,
  destination: string,
  destinationType: string,
  routingKey: string,
  args: FieldTable,
): Row {
  return {
    source,
    vhost,
    destination,
    destination_type: destinationType,
    routing_key: routingKey,
    arguments: jsonTable(args),
  };
}

/** A field table as plain JSON (bigints as numbers or strings, bytes as arrays). */
export function jsonTable(t: FieldTable): unknown {
  return JSON.parse(JSON.stringify(t, (_k, v) => {
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
    if (v instanceof Uint8Array) return Array.from(v);
    if (v && typeof v === "object" && "type" in v && "value" in v && Object.keys(v).length === 2) {
      return v.value;
    }
    return v;
  }));
}
