/**
 * The one internal API through which the CLI (live over the control socket, or offline on the data
 * dir) and the admin API read and change the broker: users, vhosts, permissions, listings, status.
 * Each change is validated, written to the metadata store, then applied to the live model, with its
 * side effects (closing connections of a deleted user or vhost).
 */
import { invalidPattern, Permission, resourceName, resourceRefused } from "../auth/permissions.ts";
import type { AccessKind, ResourceType } from "../auth/permissions.ts";
import { HASHING_ALGORITHM, hashPassword, isPasswordHash } from "../auth/password.ts";
import type { User } from "../auth/users.ts";
import type { Broker } from "../broker/broker.ts";
import { Exchange, isExchangeType } from "../broker/exchange.ts";
import { validateExchangeArguments, validateQueueArguments } from "../broker/arguments.ts";
import type { VHost } from "../broker/vhost.ts";
import { isBuiltinExchange } from "../broker/vhost.ts";
import type { Queue } from "../broker/queue.ts";
import { Message } from "../broker/message.ts";
import type { QueuedMessage } from "../broker/message.ts";
import type { MessageStats } from "../broker/stats.ts";
import type { MetadataStore } from "../store/metadata.ts";
import type { FieldTable } from "../amqp/table.ts";
import { accessRefused, AmqpError, preconditionFailed } from "../amqp/errors.ts";
import { ACCESS_REFUSED, encodeBasicProperties, NOT_FOUND } from "../amqp/spec.ts";
import type { BasicProperties } from "../amqp/spec.ts";
import { Writer } from "../amqp/writer.ts";
import type { Connection } from "../server/connection.ts";
import type { Channel } from "../server/channel.ts";
import { VERSION } from "../version.ts";
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { propertiesToJson, tableToJson } from "../admin/amqp_json.ts";
import {
  DefinitionsError,
  parseDefinitions,
  RABBITMQ_COMPAT_VERSION,
  VHOST_LIMITS_COMPONENT,
  VHOST_LIMITS_NAME,
} from "../admin/definitions.ts";
import type {
  BindingDefinition,
  Definitions,
  ExchangeDefinition,
  ParameterDefinition,
  ParsedDefinitions,
  PolicyDefinition as PolicyDefinitionRow,
  QueueDefinition,
} from "../admin/definitions.ts";
import { matchesPropertiesKey, propertiesKey } from "../admin/properties_key.ts";
import {
  invalidDefinition,
  invalidPolicyPattern,
  Policy,
  POLICY_APPLY_TO,
} from "../broker/policy.ts";
import type { PolicyApplyTo, PolicyDefinition } from "../broker/policy.ts";
import {
  checkImportQueueLimit,
  parseLimitChanges,
  parseVhostLimits,
  VhostLimitsError,
  withChanges,
} from "../broker/vhost_limits.ts";
import type { VhostLimits } from "../broker/vhost_limits.ts";

/** A policy as the CLI, the admin API and definitions give it (RabbitMQ's field names). */
export interface PolicyInput {
  vhost: string;
  name: string;
  pattern: string;
  definition: unknown;
  applyTo?: string;
  priority?: number;
}

/**
 * A refused request: exit code 1 on the CLI, 4xx on the admin API (`refused`: the acting user's
 * permissions do not allow it).
 */
export class ServiceError extends Error {
  constructor(
    message: string,
    readonly kind: "not_found" | "exists" | "invalid" | "refused" = "invalid",
  ) {
    super(message);
  }
}

/** What the service needs from a running server (absent when the CLI works offline). */
export interface LiveServer {
  readonly connections: Iterable<Connection>;
  readonly startedAt: number;
  listenerAddresses(): string[];
  /** The AMQPS (TLS) listeners' addresses. */
  tlsListenerAddresses?(): string[];
  /** The message store, when there is one: publishes through the service wait for its fsync. */
  readonly messages?: { sync(): Promise<void> } | undefined;
  /** The resource alarms in effect ("memory", "disk"), when the server watches them. */
  readonly alarms?: { readonly alarms: string[] };
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

  // ---- policies

  /**
   * Adds or replaces a policy; it applies at once to the vhost's matching queues and exchanges.
   * Returns true when it was created (false: replaced).
   */
  setPolicy(input: PolicyInput): boolean {
    const policy = this.checkPolicy(input);
    const v = this.vhost(input.vhost);
    const created = !v.policies.has(policy.name);
    this.store.putPolicy({
      vhost: policy.vhost,
      name: policy.name,
      pattern: policy.pattern,
      applyTo: policy.applyTo,
      definition: policy.definition,
      priority: policy.priority,
    });
    v.setPolicy(policy);
    return created;
  }

  /** A validated policy (ServiceError when any part is bad); the vhost is not looked at. */
  private checkPolicy(input: PolicyInput): Policy {
    validateName(input.name, "policy");
    const what = `policy '${input.name}'`;
    if (typeof input.pattern !== "string") throw new ServiceError(`${what}: pattern is missing`);
    const badPattern = invalidPolicyPattern(input.pattern);
    if (badPattern) {
      throw new ServiceError(
        `${what}: pattern '${input.pattern}' is not a valid regex: ${badPattern}`,
      );
    }
    const badDefinition = invalidDefinition(input.definition);
    if (badDefinition) throw new ServiceError(`${what}: ${badDefinition}`);
    const applyTo = input.applyTo ?? "all";
    if (!(POLICY_APPLY_TO as readonly string[]).includes(applyTo)) {
      throw new ServiceError(`${what}: apply-to must be queues, exchanges or all`);
    }
    const priority = input.priority ?? 0;
    if (!Number.isInteger(priority)) throw new ServiceError(`${what}: priority must be an integer`);
    return new Policy(
      input.vhost,
      input.name,
      input.pattern,
      { ...(input.definition as PolicyDefinition) },
      applyTo as PolicyApplyTo,
      priority,
    );
  }

  clearPolicy(vhost: string, name: string): void {
    const v = this.vhost(vhost);
    if (!v.policies.has(name)) {
      throw new ServiceError(`no policy '${name}' in vhost '${vhost}'`, "not_found");
    }
    this.store.deletePolicy(vhost, name);
    v.clearPolicy(name);
  }

  /** Policies of one vhost (or all), as RabbitMQ lists them. */
  listPolicies(vhost?: string): Row[] {
    return this.vhostsOf(vhost)
      .sort((a, b) => a.name.localeCompare(b.name))
      .flatMap((v) =>
        [...v.policies.values()].sort((a, b) => a.name.localeCompare(b.name)).map(policyRow)
      );
  }

  policyInfo(vhost: string, name: string): Row | undefined {
    const p = this.broker.vhosts.get(vhost)?.policies.get(name);
    return p && policyRow(p);
  }

  // ---- vhost limits

  /** One vhost's limits (a row even when it has none), or those of every vhost that has some. */
  listVhostLimits(vhost?: string): { vhost: string; limits: VhostLimits }[] {
    if (vhost !== undefined) return [{ vhost, limits: { ...this.vhost(vhost).limits } }];
    return [...this.broker.vhosts.values()]
      .filter((v) => Object.keys(v.limits).length > 0)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => ({ vhost: v.name, limits: { ...v.limits } }));
  }

  /** Replaces a vhost's limits with a whole document (rabbitmqctl set_vhost_limits). */
  setVhostLimits(vhost: string, doc: unknown): void {
    const v = this.vhost(vhost);
    this.putVhostLimits(v, limitsOrRefusal(() => parseVhostLimits(doc)));
  }

  /**
   * Sets some limits (a number each) or removes them (null), keeping the others; a limit set
   * lower than what exists refuses only what comes next.
   */
  updateVhostLimits(vhost: string, changes: Record<string, unknown>): void {
    const v = this.vhost(vhost);
    this.putVhostLimits(
      v,
      withChanges(v.limits, limitsOrRefusal(() => parseLimitChanges(changes))),
    );
  }

  /** Sets one limit (PUT /api/vhost-limits/V/NAME): an integer, negative for no limit. */
  setVhostLimit(vhost: string, name: string, value: unknown): void {
    const v = this.vhost(vhost);
    const limit = limitsOrRefusal(() => parseVhostLimits({ [name]: value }));
    this.putVhostLimits(v, withChanges(v.limits, limit));
  }

  /** Removes one limit; one that is not set (or does not exist) is no error, as in RabbitMQ. */
  clearVhostLimit(vhost: string, name: string): void {
    const v = this.vhost(vhost);
    if (name in v.limits) this.putVhostLimits(v, withChanges(v.limits, { [name]: null }));
  }

  /** Removes every limit of a vhost (rabbitmqctl clear_vhost_limits). */
  clearVhostLimits(vhost: string): void {
    this.putVhostLimits(this.vhost(vhost), {});
  }

  private putVhostLimits(v: VHost, limits: VhostLimits): void {
    this.store.putVhostLimits({ vhost: v.name, limits: limits as Record<string, number> });
    v.limits = limits;
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
      alarms: this.alarms(),
    };
  }

  /** The resource alarms in effect: "memory" and/or "disk" (none when offline). */
  alarms(): string[] {
    return this.server?.alarms?.alarms ?? [];
  }

  // ---- management API (admin HTTP server) and definitions

  /** This node's name in the management API (`broker@host`). */
  readonly nodeName = `broker@${hostName()}`;

  /** The user when the password is right (name and tags), for HTTP basic auth. */
  authenticate(name: string, password: string): { name: string; tags: string[] } | undefined {
    const u = this.broker.users.authenticate(name, password);
    return u ? { name: u.name, tags: [...u.tags] } : undefined;
  }

  /** The vhosts `user` holds permissions on: the ones it may log in to. */
  loginVhosts(user: string): string[] {
    return this.broker.permissions.list()
      .filter((e) => e.user === user && this.broker.vhosts.has(e.vhost))
      .map((e) => e.vhost);
  }

  vhostExists(name: string): boolean {
    return this.broker.vhosts.has(name);
  }

  private vhostsOf(vhost: string | undefined): VHost[] {
    return vhost === undefined ? [...this.broker.vhosts.values()] : [this.vhost(vhost)];
  }

  /** Queues as the management API lists them (every vhost when `vhost` is undefined). */
  queueDetails(vhost?: string): Row[] {
    const rows: Row[] = [];
    for (const v of this.vhostsOf(vhost)) {
      for (const q of v.queues.values()) rows.push(this.queueDetail(q));
    }
    return rows;
  }

  /** One queue with its consumers, or undefined when there is none by that name. */
  queueInfo(vhost: string, name: string): Row | undefined {
    const q = this.vhost(vhost).queues.get(name);
    if (!q) return undefined;
    const row = this.queueDetail(q);
    row.consumer_details = this.consumerDetails(vhost).filter((c) =>
      (c.queue as Row).name === name
    );
    return row;
  }

  private queueDetail(q: Queue): Row {
    const ready = q.messageCount;
    const unacked = q.unackedCount;
    const owner = q.exclusive ? q.options.owner as Connection | undefined : undefined;
    const exclusiveConsumer = q.consumers.find((c) => c.exclusive);
    return {
      name: q.name,
      vhost: q.vhost,
      durable: q.durable,
      auto_delete: q.autoDelete,
      exclusive: q.exclusive,
      arguments: jsonArgs(q.options.arguments),
      type: "classic",
      node: this.nodeName,
      state: "running",
      policy: q.policy?.name ?? null,
      operator_policy: null,
      effective_policy_definition: q.policy?.definition ?? {},
      exclusive_consumer_tag: exclusiveConsumer?.tag ?? null,
      owner_pid_details: owner?.name === undefined ? undefined : {
        name: owner.name,
        peer_host: owner.remoteAddress,
        peer_port: owner.remotePort,
      },
      messages: ready + unacked,
      messages_ready: ready,
      messages_unacknowledged: unacked,
      consumers: q.consumerCount,
      consumer_capacity: q.consumerCount > 0 ? 1 : 0,
      consumer_utilisation: q.consumerCount > 0 ? 1 : null,
      // An estimate: a fixed cost per queue and per message reference (bodies are shared).
      memory: 4096 + 64 * (ready + unacked),
      message_bytes_ready: readyBytes(q),
      message_stats: queueStats(q.stats),
    };
  }

  /** Exchanges as the management API lists them (default exchange named ""). */
  exchangeDetails(vhost?: string): Row[] {
    const rows: Row[] = [];
    for (const v of this.vhostsOf(vhost)) {
      for (const ex of v.exchanges.values()) rows.push(exchangeDetail(v.name, ex));
    }
    return rows;
  }

  exchangeInfo(vhost: string, name: string): Row | undefined {
    const ex = this.vhost(vhost).exchanges.get(name);
    return ex && exchangeDetail(vhost, ex);
  }

  /** Bindings of every vhost (or one), each with its properties_key. */
  bindingDetails(vhost?: string): Row[] {
    return this.vhostsOf(vhost).flatMap((v) => this.listBindings(v.name));
  }

  /** A queue's bindings: the default exchange's implicit one first. */
  queueBindings(vhost: string, name: string): Row[] | undefined {
    const v = this.vhost(vhost);
    const q = v.queues.get(name);
    if (!q) return undefined;
    const rows = [bindingRow(vhost, "", q.name, "queue", q.name, {})];
    for (const ex of v.exchanges.values()) {
      for (const b of ex.bindings.values()) {
        if (b.destination === q) {
          rows.push(bindingRow(vhost, ex.name, q.name, "queue", b.routingKey, b.arguments));
        }
      }
    }
    return rows;
  }

  /** An exchange's bindings as source (outgoing) or destination (exchange-to-exchange incoming). */
  exchangeBindings(vhost: string, name: string, side: "source" | "destination"): Row[] | undefined {
    const v = this.vhost(vhost);
    const ex = v.exchanges.get(name);
    if (!ex) return undefined;
    if (side === "destination") {
      return [...ex.inbound].map((b) =>
        bindingRow(vhost, b.source.name, ex.name, "exchange", b.routingKey, b.arguments)
      );
    }
    if (ex === v.defaultExchange) {
      return [...v.queues.values()].map((q) => bindingRow(vhost, "", q.name, "queue", q.name, {}));
    }
    return [...ex.bindings.values()].map((b) =>
      bindingRow(
        vhost,
        ex.name,
        b.destination.name,
        b.destination instanceof Exchange ? "exchange" : "queue",
        b.routingKey,
        b.arguments,
      )
    );
  }

  /**
   * Bindings from `source` to `destination` (undefined when either end is missing); with
   * `props`, only the one that properties_key names.
   */
  bindingsBetween(
    vhost: string,
    source: string,
    destinationType: "queue" | "exchange",
    destination: string,
    props?: string,
  ): Row[] | undefined {
    const v = this.vhost(vhost);
    const src = v.exchanges.get(source);
    const dst = destinationType === "queue"
      ? v.queues.get(destination)
      : v.exchanges.get(destination);
    if (!src || !dst) return undefined;
    const rows = (this.exchangeBindings(vhost, source, "source") ?? []).filter((r) =>
      r.destination === destination && r.destination_type === destinationType
    );
    if (props === undefined) return rows;
    return rows.filter((r) =>
      matchesPropertiesKey(props, r.routing_key as string, r.arguments as Record<string, unknown>)
    );
  }

  private liveChannels(vhost?: string): [Connection, Channel][] {
    return this.liveConnections(vhost).flatMap((c) =>
      [...c.channels.values()].map((ch): [Connection, Channel] => [c, ch])
    );
  }

  /** Client connections as the management API lists them. */
  connectionDetails(vhost?: string): Row[] {
    return this.liveConnections(vhost).map((c) => this.connectionDetail(c));
  }

  connectionInfo(name: string): Row | undefined {
    const c = this.liveConnections().find((c) => c.name === name);
    return c && this.connectionDetail(c);
  }

  private connectionDetail(c: Connection): Row {
    const local = c.name.slice(c.name.indexOf(" -> ") + 4);
    const colon = local.lastIndexOf(":");
    const props = jsonArgs(c.clientProperties) as Row;
    return {
      name: c.name,
      node: this.nodeName,
      type: "network",
      state: "running",
      protocol: "AMQP 0-9-1",
      user: c.user?.name,
      vhost: c.vhost?.name,
      host: local.slice(0, colon),
      port: Number(local.slice(colon + 1)),
      peer_host: c.remoteAddress,
      peer_port: c.remotePort,
      ssl: c.tls,
      // null as RabbitMQ's for plain connections; for TLS ones the negotiated protocol version,
      // cipher and client certificate are not reported (yet).
      ssl_protocol: null,
      ssl_key_exchange: null,
      ssl_cipher: null,
      ssl_hash: null,
      peer_cert_subject: null,
      peer_cert_issuer: null,
      peer_cert_validity: null,
      channels: c.channels.size,
      channel_max: c.channelMax,
      frame_max: c.frameMax,
      timeout: c.heartbeat,
      connected_at: c.connectedAt,
      client_properties: props,
      user_provided_name: typeof props.connection_name === "string"
        ? props.connection_name
        : undefined,
      recv_oct: c.recvOct,
      send_oct: c.sendOct,
    };
  }

  /** Closes a client connection with 320 CONNECTION_FORCED and `reason` as its text. */
  closeConnection(name: string, reason = "Closed via management plugin"): void {
    const c = this.liveConnections().find((c) => c.name === name);
    if (!c) throw new ServiceError(`no such connection '${name}'`, "not_found");
    c.forceClose(reason);
  }

  /** Channels as the management API lists them (named `connection (number)`). */
  channelDetails(vhost?: string): Row[] {
    return this.liveChannels(vhost).map(([c, ch]) => this.channelDetail(c, ch));
  }

  channelInfo(name: string): Row | undefined {
    const found = this.liveChannels().find(([c, ch]) => channelName(c, ch) === name);
    if (!found) return undefined;
    const row = this.channelDetail(...found);
    row.consumer_details = found[1].consumerList().map((k) =>
      this.consumerDetail(found[0], found[1], k)
    );
    return row;
  }

  private channelDetail(c: Connection, ch: Channel): Row {
    return {
      name: channelName(c, ch),
      number: ch.id,
      node: this.nodeName,
      user: c.user?.name,
      vhost: c.vhost?.name,
      connection_details: { name: c.name, peer_host: c.remoteAddress, peer_port: c.remotePort },
      state: "running",
      consumer_count: ch.consumerCount,
      messages_unacknowledged: ch.unackedCount,
      messages_unconfirmed: 0,
      messages_uncommitted: 0,
      acks_uncommitted: 0,
      prefetch_count: ch.prefetchCount,
      global_prefetch_count: ch.globalPrefetch,
      message_stats: channelStats(ch.stats),
    };
  }

  /** Consumers as the management API lists them. */
  consumerDetails(vhost?: string): Row[] {
    return this.liveChannels(vhost).flatMap(([c, ch]) =>
      ch.consumerList().map((k) => this.consumerDetail(c, ch, k))
    );
  }

  private consumerDetail(c: Connection, ch: Channel, k: ReturnType<Channel["consumerList"]>[0]) {
    return {
      consumer_tag: k.tag,
      queue: { name: k.queue.name, vhost: k.queue.vhost },
      channel_details: {
        name: channelName(c, ch),
        number: ch.id,
        connection_name: c.name,
        peer_host: c.remoteAddress,
        peer_port: c.remotePort,
        user: c.user?.name,
        node: this.nodeName,
      },
      ack_required: !k.noAck,
      exclusive: k.exclusive,
      prefetch_count: k.prefetch,
      active: true,
      activity_status: "up",
      arguments: {},
    };
  }

  /** Users as the management API and definitions show them (with their password hash). */
  userDetails(): Row[] {
    return this.broker.users.list().map(userDetail);
  }

  userInfo(name: string): Row | undefined {
    const u = this.broker.users.get(name);
    return u && userDetail(u);
  }

  /**
   * Creates or updates a user (PUT /api/users/NAME); true when created. A password is hashed; a
   * given hash is kept with its algorithm; with neither, a new user gets no password (it cannot
   * log in with one) and an existing user keeps its own. Tags left out keep the existing ones.
   */
  upsertUser(input: UserInput & { hashingAlgorithm?: string }): boolean {
    validateName(input.name, "user");
    const existing = this.broker.users.get(input.name);
    const tags = input.tags ?? existing?.tags ?? [];
    let hash = existing?.passwordHash ?? "";
    let algorithm = existing?.hashingAlgorithm ?? HASHING_ALGORITHM;
    const givenAlgorithm = input.hashingAlgorithm ?? HASHING_ALGORITHM;
    if (input.password !== undefined) {
      hash = this.passwordHashOf({ name: input.name, password: input.password });
      algorithm = HASHING_ALGORITHM;
    } else if (input.passwordHash !== undefined) {
      if (givenAlgorithm === HASHING_ALGORITHM) {
        hash = this.passwordHashOf({ name: input.name, passwordHash: input.passwordHash });
      } else {
        if (input.passwordHash !== "" && !isBase64(input.passwordHash)) {
          throw new ServiceError("password_hash is not base64");
        }
        hash = input.passwordHash;
      }
      algorithm = givenAlgorithm;
    }
    const user: User = { name: input.name, passwordHash: hash, hashingAlgorithm: algorithm, tags };
    this.store.putUser(user);
    this.broker.users.set(user);
    return existing === undefined;
  }

  /** Vhosts as the management API lists them. */
  vhostDetails(): Row[] {
    return [...this.broker.vhosts.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => this.vhostDetail(v));
  }

  vhostInfo(name: string): Row | undefined {
    const v = this.broker.vhosts.get(name);
    return v && this.vhostDetail(v);
  }

  private vhostDetail(v: VHost): Row {
    return {
      name: v.name,
      description: v.description,
      tags: v.tags,
      metadata: { description: v.description, tags: v.tags },
      default_queue_type: "classic",
      tracing: false,
      cluster_state: { [this.nodeName]: "running" },
    };
  }

  /** Creates a vhost or updates its description and tags (PUT /api/vhosts/NAME); true when created. */
  putVhost(name: string, update: { description?: string; tags?: string[] } = {}): boolean {
    const v = this.broker.vhosts.get(name);
    if (!v) {
      this.addVhost(name, update.description ?? "");
      if (update.tags) this.putVhost(name, { tags: update.tags });
      return true;
    }
    if (update.description !== undefined) v.description = update.description;
    if (update.tags !== undefined) v.tags = update.tags;
    this.store.putVhost({ name, description: v.description, tags: v.tags });
    return false;
  }

  /** One user's permissions on one vhost, or undefined when it has none. */
  permissionInfo(user: string, vhost: string): Row | undefined {
    const p = this.broker.permissions.get(user, vhost);
    return p && { user, vhost, configure: p.configure, write: p.write, read: p.read };
  }

  userPermissions(user: string): Row[] {
    this.user(user);
    return this.listPermissions().filter((r) => r.user === user);
  }

  /** Counts of live objects, over every vhost or the ones named. */
  objectTotals(vhosts?: string[]): Row {
    const vs = vhosts === undefined
      ? [...this.broker.vhosts.values()]
      : vhosts.flatMap((n) => this.broker.vhosts.get(n) ?? []);
    const names = new Set(vs.map((v) => v.name));
    const conns = this.liveConnections().filter((c) => c.vhost && names.has(c.vhost.name));
    let channels = 0;
    let consumers = 0;
    for (const c of conns) {
      channels += c.channels.size;
      for (const ch of c.channels.values()) consumers += ch.consumerCount;
    }
    let queues = 0;
    let exchanges = 0;
    for (const v of vs) {
      queues += v.queues.size;
      exchanges += v.exchanges.size;
    }
    return { connections: conns.length, channels, exchanges, queues, consumers };
  }

  /**
   * Every message counter and queue length, for the admin server's rate sampler: cheap enough to
   * take every few seconds with tens of thousands of queues.
   */
  statsSample(): StatsSample {
    const sample: StatsSample = {
      vhosts: [],
      queues: [],
      exchanges: [],
      connections: [],
      channels: [],
    };
    for (const v of this.broker.vhosts.values()) {
      sample.vhosts.push({ vhost: v.name, name: v.name, counts: { publish: v.stats.publish } });
      for (const q of v.queues.values()) {
        const counts = queueStats(q.stats);
        counts.messages_ready = q.messageCount;
        counts.messages_unacknowledged = q.unackedCount;
        counts.messages = q.messageCount + q.unackedCount;
        sample.queues.push({ vhost: v.name, name: q.name, counts });
      }
      for (const ex of v.exchanges.values()) {
        sample.exchanges.push({
          vhost: v.name,
          name: ex.name,
          counts: { publish_in: ex.stats.publish, publish_out: ex.stats.publishOut },
        });
      }
    }
    for (const c of this.liveConnections()) {
      const vhost = c.vhost!.name;
      sample.connections.push({
        vhost,
        name: c.name,
        counts: { publish: c.stats.publish, recv_oct: c.recvOct, send_oct: c.sendOct },
      });
      for (const ch of c.channels.values()) {
        sample.channels.push({ vhost, name: channelName(c, ch), counts: channelStats(ch.stats) });
      }
    }
    return sample;
  }

  /** This process as the management API's node: memory, descriptors, uptime. */
  nodeStatus(): Row {
    let fdUsed: number | undefined;
    try {
      fdUsed = Array.from(Deno.readDirSync("/proc/self/fd")).length;
    } catch { /* not Linux */ }
    let fdTotal: number | undefined;
    try {
      const limits = Deno.readTextFileSync("/proc/self/limits");
      const m = /^Max open files\s+(\d+)/m.exec(limits);
      if (m) fdTotal = Number(m[1]);
    } catch { /* not Linux */ }
    let diskFree: number | undefined;
    try {
      const dir = this.store.path === ":memory:" ? "." : dirname(this.store.path);
      const fs = statfsSync(dir);
      diskFree = fs.bavail * fs.bsize;
    } catch { /* unknown */ }
    let memTotal = 0;
    try {
      memTotal = Deno.systemMemoryInfo().total;
    } catch { /* not allowed */ }
    const mem = Deno.memoryUsage();
    return {
      name: this.nodeName,
      running: this.server !== undefined,
      uptime: this.server ? Date.now() - this.server.startedAt : 0,
      mem_used: mem.rss,
      mem_heap_used: mem.heapUsed,
      mem_total: memTotal,
      disk_free: diskFree,
      fd_total: fdTotal,
      fd_used: fdUsed,
      sockets_used: this.liveConnections().length,
      processors: navigator.hardwareConcurrency,
      os_pid: String(Deno.pid),
      run_queue: 0,
      listeners: this.server?.listenerAddresses() ?? [],
      tls_listeners: this.server?.tlsListenerAddresses?.() ?? [],
    };
  }

  // ---- management operations, checked against the acting user's permissions as over AMQP

  /** 403 (`refused`) unless `actor` may do `kind` to the resource; no actor: internal, allowed. */
  private checkAccess(
    actor: string | undefined,
    vhost: VHost,
    kind: AccessKind,
    type: ResourceType,
    name: string,
  ): void {
    if (actor === undefined) return;
    const p = this.broker.permissions.get(actor, vhost.name);
    if (!p) {
      throw new ServiceError(
        `access to vhost '${vhost.name}' refused for user '${actor}'`,
        "refused",
      );
    }
    if (!p.allows(kind, resourceName(type, name))) {
      throw resourceRefused(type, name, vhost.name, actor);
    }
  }

  /**
   * Declares an exchange (PUT /api/exchanges/V/NAME); true when created, false when an
   * equivalent one exists; inequivalent properties are refused as exchange.declare refuses them.
   */
  declareExchange(
    vhost: string,
    name: string,
    opts: {
      type: string;
      durable: boolean;
      autoDelete: boolean;
      internal: boolean;
      arguments: FieldTable;
    },
    actor?: string,
  ): boolean {
    const v = this.vhost(vhost);
    return amqp(() => {
      v.checkBindable(name);
      this.checkAccess(actor, v, "configure", "exchange", name);
      const ae = opts.arguments["alternate-exchange"];
      if (typeof ae === "string") {
        this.checkAccess(actor, v, "read", "exchange", name);
        this.checkAccess(actor, v, "write", "exchange", ae);
      }
      const existed = v.exchanges.has(name);
      v.declareExchange({ name, passive: false, ...opts });
      return !existed;
    });
  }

  deleteExchange(vhost: string, name: string, ifUnused: boolean, actor?: string): void {
    const v = this.vhost(vhost);
    amqp(() => {
      v.checkDeletable(name);
      this.checkAccess(actor, v, "configure", "exchange", name);
      if (!v.exchanges.has(name)) throw new ServiceError(`no exchange '${name}'`, "not_found");
      v.deleteExchange(name, ifUnused);
    });
  }

  /** Declares a queue (PUT /api/queues/V/NAME); true when created. */
  declareQueue(
    vhost: string,
    name: string,
    opts: { durable: boolean; autoDelete: boolean; arguments: FieldTable },
    actor?: string,
  ): boolean {
    const v = this.vhost(vhost);
    return amqp(() => {
      if (name === "") throw new ServiceError("queue name is empty");
      v.checkQueueName(name, false);
      this.checkAccess(actor, v, "configure", "queue", name);
      const dlx = opts.arguments["x-dead-letter-exchange"];
      if (typeof dlx === "string") {
        this.checkAccess(actor, v, "read", "queue", name);
        this.checkAccess(actor, v, "write", "exchange", dlx);
      }
      const existed = v.queues.has(name);
      v.declareQueue({ name, passive: false, exclusive: false, ...opts }, MANAGEMENT_OWNER);
      return !existed;
    });
  }

  deleteQueue(
    vhost: string,
    name: string,
    opts: { ifUnused: boolean; ifEmpty: boolean },
    actor?: string,
  ): number {
    const v = this.vhost(vhost);
    return amqp(() => {
      this.checkAccess(actor, v, "configure", "queue", name);
      if (!v.queues.has(name)) throw new ServiceError(`no queue '${name}'`, "not_found");
      return v.deleteQueue(name, MANAGEMENT_OWNER, opts.ifUnused, opts.ifEmpty);
    });
  }

  /** Drops a queue's ready messages; returns how many. */
  purgeQueue(vhost: string, name: string, actor?: string): number {
    const v = this.vhost(vhost);
    return amqp(() => {
      this.checkAccess(actor, v, "read", "queue", name);
      return v.queue(name, MANAGEMENT_OWNER).purge();
    });
  }

  /**
   * Takes up to `count` messages from a queue's head (POST /api/queues/V/NAME/get), then puts
   * them back (marked redelivered) or settles them, as `ackmode` says.
   */
  getMessages(
    vhost: string,
    name: string,
    opts: { count: number; requeue: boolean; encoding: "auto" | "base64"; truncate?: number },
    actor?: string,
  ): Row[] {
    const v = this.vhost(vhost);
    return amqp(() => {
      this.checkAccess(actor, v, "read", "queue", name);
      const q = v.queue(name, MANAGEMENT_OWNER);
      const taken: QueuedMessage[] = [];
      const rows: Row[] = [];
      while (taken.length < opts.count) {
        const qm = q.get(false);
        if (!qm) break;
        taken.push(qm);
        const body = qm.msg.body;
        const shown = opts.truncate !== undefined && body.length > opts.truncate
          ? body.subarray(0, opts.truncate)
          : body;
        const text = opts.encoding === "auto" ? utf8OrUndefined(shown) : undefined;
        rows.push({
          payload_bytes: body.length,
          redelivered: qm.redelivered,
          exchange: qm.msg.exchange,
          routing_key: qm.msg.routingKey,
          message_count: q.messageCount,
          properties: propertiesToJson(qm.msg.props),
          payload: text ?? base64(shown),
          payload_encoding: text === undefined ? "base64" : "string",
        });
      }
      if (opts.requeue) q.requeue(taken);
      else for (const qm of taken) q.settle(qm);
      return rows;
    });
  }

  /**
   * Publishes one message (POST /api/exchanges/V/NAME/publish); resolves to whether it reached a
   * queue, once a persistent message is on disk.
   */
  async publish(
    vhost: string,
    exchange: string,
    routingKey: string,
    properties: BasicProperties,
    body: Uint8Array,
    actor?: string,
  ): Promise<boolean> {
    const v = this.vhost(vhost);
    const { routed, persisted } = amqp(() => {
      this.checkAccess(actor, v, "write", "exchange", exchange);
      const ex = v.exchange(exchange);
      if (ex.internal) {
        throw accessRefused(`cannot publish to internal exchange '${ex.name}' in vhost '${vhost}'`);
      }
      if (actor !== undefined && properties.userId !== undefined && properties.userId !== actor) {
        throw preconditionFailed(
          `user_id property set to '${properties.userId}' but authenticated user was '${actor}'`,
        );
      }
      const w = new Writer(64);
      encodeBasicProperties(w, properties);
      const msg = new Message(exchange, routingKey, w.bytes().slice(), body);
      const queues = new Set<Queue>();
      v.route(ex, msg, queues);
      v.stats.publish++;
      ex.stats.publish++;
      if (queues.size === 0) return { routed: false, persisted: false };
      ex.stats.publishOut++;
      return { routed: true, persisted: v.enqueue(msg, queues) };
    });
    if (persisted) await this.server?.messages?.sync();
    return routed;
  }

  /** Binds a queue or exchange to `source` (POST /api/bindings/V/e/SRC/q|e/DST). */
  bind(
    vhost: string,
    source: string,
    destinationType: "queue" | "exchange",
    destination: string,
    routingKey: string,
    args: FieldTable,
    actor?: string,
  ): void {
    const v = this.vhost(vhost);
    amqp(() => {
      this.checkAccess(actor, v, "write", destinationType, destination);
      v.checkBindable(source);
      this.checkAccess(actor, v, "read", "exchange", source);
      if (destinationType === "queue") {
        v.bindQueue(destination, source, routingKey, args, MANAGEMENT_OWNER);
      } else v.bindExchange(destination, source, routingKey, args);
    });
  }

  /** Removes the binding a properties_key names (DELETE /api/bindings/V/e/SRC/q|e/DST/PROPS). */
  unbind(
    vhost: string,
    source: string,
    destinationType: "queue" | "exchange",
    destination: string,
    props: string,
    actor?: string,
  ): void {
    const v = this.vhost(vhost);
    amqp(() => {
      this.checkAccess(actor, v, "write", destinationType, destination);
      v.checkBindable(source);
      this.checkAccess(actor, v, "read", "exchange", source);
      const src = v.exchanges.get(source);
      const binding = src &&
        [...src.bindings.values()].find((b) =>
          b.destination.name === destination &&
          (b.destination instanceof Exchange ? "exchange" : "queue") === destinationType &&
          matchesPropertiesKey(
            props,
            b.routingKey,
            jsonArgs(b.arguments) as Record<string, unknown>,
          )
        );
      if (!binding) throw new ServiceError("binding not found", "not_found");
      if (destinationType === "queue") {
        v.unbindQueue(destination, source, binding.routingKey, binding.arguments);
      } else v.unbindExchange(destination, source, binding.routingKey, binding.arguments);
    });
  }

  /**
   * RabbitMQ's aliveness test: declares the `aliveness-test` queue, publishes a message to it
   * and reads it back.
   */
  alivenessTest(vhost: string): void {
    const v = this.vhost(vhost);
    amqp(() => {
      const name = "aliveness-test";
      v.declareQueue(
        {
          name,
          passive: false,
          durable: false,
          exclusive: false,
          autoDelete: false,
          arguments: {},
        },
        MANAGEMENT_OWNER,
      );
      const body = new TextEncoder().encode("test_message");
      const w = new Writer(16);
      encodeBasicProperties(w, {});
      const q = v.queue(name, MANAGEMENT_OWNER);
      q.purge();
      v.enqueue(new Message("", name, w.bytes().slice(), body), new Set([q]));
      const qm = q.get(true);
      if (!qm || new TextDecoder().decode(qm.msg.body) !== "test_message") {
        throw new ServiceError("aliveness test failed: message not read back");
      }
    });
  }

  // ---- definitions

  /**
   * The broker's definitions in RabbitMQ's format (every vhost, or one: then only its queues,
   * exchanges and bindings, without vhost fields). Queues and exchanges are the durable ones, as
   * RabbitMQ exports them; `amq.*` and the default exchange are left out.
   */
  exportDefinitions(vhost?: string): Definitions {
    const vs = this.vhostsOf(vhost);
    const queues: QueueDefinition[] = [];
    const exchanges: ExchangeDefinition[] = [];
    const bindings: BindingDefinition[] = [];
    const policies: PolicyDefinitionRow[] = [];
    // Vhost limits are runtime parameters in RabbitMQ's definitions, with their vhost even in a
    // one-vhost export.
    const parameters: ParameterDefinition[] = vs
      .filter((v) => Object.keys(v.limits).length > 0)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((v) => ({
        value: { ...v.limits },
        vhost: v.name,
        component: VHOST_LIMITS_COMPONENT,
        name: VHOST_LIMITS_NAME,
      }));
    for (const v of vs) {
      for (const p of [...v.policies.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        policies.push(policyRow(p) as unknown as PolicyDefinitionRow);
      }
      for (const q of v.queues.values()) {
        if (!q.durable || q.exclusive) continue;
        queues.push({
          name: q.name,
          vhost: v.name,
          durable: true,
          auto_delete: q.autoDelete,
          arguments: jsonArgs(q.options.arguments) as Record<string, unknown>,
        });
      }
      for (const ex of v.exchanges.values()) {
        if (ex.durable && ex.name !== "" && !ex.name.startsWith("amq.")) {
          exchanges.push({
            name: ex.name,
            vhost: v.name,
            type: ex.type,
            durable: true,
            auto_delete: ex.autoDelete,
            internal: ex.internal,
            arguments: jsonArgs(ex.options.arguments) as Record<string, unknown>,
          });
        }
        if (!ex.durable || ex.name === "") continue;
        for (const b of ex.bindings.values()) {
          const d = b.destination;
          const durable = d instanceof Exchange ? d.durable : d.durable && !d.exclusive;
          if (!durable) continue;
          bindings.push({
            source: ex.name,
            vhost: v.name,
            destination: d.name,
            destination_type: d instanceof Exchange ? "exchange" : "queue",
            routing_key: b.routingKey,
            arguments: jsonArgs(b.arguments) as Record<string, unknown>,
          });
        }
      }
    }
    const head = {
      rabbit_version: RABBITMQ_COMPAT_VERSION,
      rabbitmq_version: RABBITMQ_COMPAT_VERSION,
      product_name: "broker",
      product_version: VERSION,
    };
    if (vhost !== undefined) {
      const strip = <T extends { vhost?: string }>(x: T): T => {
        const { vhost: _, ...rest } = x;
        return rest as T;
      };
      return {
        ...head,
        parameters,
        policies: policies.map(strip),
        queues: queues.map(strip),
        exchanges: exchanges.map(strip),
        bindings: bindings.map(strip),
      };
    }
    return {
      ...head,
      users: this.broker.users.list().map((u) => ({
        name: u.name,
        password_hash: u.passwordHash,
        hashing_algorithm: u.hashingAlgorithm,
        tags: u.tags,
        limits: {},
      })),
      vhosts: vs.sort((a, b) => a.name.localeCompare(b.name)).map((v) => ({
        name: v.name,
        description: v.description,
        tags: v.tags,
        metadata: { description: v.description, tags: v.tags },
        default_queue_type: "classic",
        limits: [],
      })),
      permissions: this.listPermissions() as unknown as Definitions["permissions"],
      topic_permissions: [],
      parameters,
      global_parameters: [],
      policies,
      queues,
      exchanges,
      bindings,
    };
  }

  /**
   * Applies a definitions document (RabbitMQ 3.x or ours): users, vhosts, permissions, then
   * exchanges, queues and bindings. The whole document is validated before anything changes;
   * existing users are updated, existing exchanges and queues kept as they are (as RabbitMQ does).
   * With `vhost`, entities go into that vhost and users, vhosts and permissions are not read.
   */
  importDefinitions(doc: unknown, vhost?: string): Row {
    let defs: ParsedDefinitions;
    try {
      defs = parseDefinitions(doc, vhost);
    } catch (err) {
      if (err instanceof DefinitionsError) throw new ServiceError(err.message);
      throw err;
    }
    if (vhost !== undefined) this.vhost(vhost);
    this.checkDefinitions(defs);
    for (const v of defs.vhosts) {
      this.putVhost(v.name, { description: v.description, tags: v.tags });
    }
    for (const u of defs.users) {
      this.upsertUser({
        name: u.name,
        password: u.passwordHash === undefined ? u.password : undefined,
        passwordHash: u.passwordHash ?? (u.password === undefined ? "" : undefined),
        hashingAlgorithm: u.passwordHash === undefined ? undefined : hashingAlgorithmOf(u),
        tags: u.tags,
      });
    }
    for (const p of defs.permissions) {
      this.setPermissions(p.user, p.vhost, p.configure, p.write, p.read);
    }
    for (const l of defs.vhostLimits) this.setVhostLimits(l.vhost, l.limits);
    for (const p of defs.policies) this.setPolicy(p);
    let skipped = 0;
    for (const e of defs.exchanges) {
      const v = this.vhost(e.vhost);
      if (v.exchanges.has(e.name) || e.name === "" || e.name.startsWith("amq.")) {
        skipped++;
        continue;
      }
      amqp(() => v.declareExchange({ passive: false, ...e }));
    }
    for (const q of defs.queues) {
      const v = this.vhost(q.vhost);
      if (v.queues.has(q.name) || q.name.startsWith("amq.")) {
        skipped++;
        continue;
      }
      amqp(() => v.declareQueue({ passive: false, exclusive: false, ...q }, MANAGEMENT_OWNER));
    }
    for (const b of defs.bindings) {
      const v = this.vhost(b.vhost);
      amqp(() => {
        if (b.destinationType === "queue") {
          v.bindQueue(b.destination, b.source, b.routingKey, b.arguments, MANAGEMENT_OWNER);
        } else v.bindExchange(b.destination, b.source, b.routingKey, b.arguments);
      });
    }
    return {
      users: defs.users.length,
      vhosts: defs.vhosts.length,
      permissions: defs.permissions.length,
      policies: defs.policies.length,
      vhost_limits: defs.vhostLimits.length,
      exchanges: defs.exchanges.length,
      queues: defs.queues.length,
      bindings: defs.bindings.length,
      existing_kept: skipped,
      ignored: defs.ignored,
    };
  }

  /** Everything an import needs that can be checked before anything is changed. */
  private checkDefinitions(defs: ParsedDefinitions): void {
    const vhosts = new Set([...this.broker.vhosts.keys(), ...defs.vhosts.map((v) => v.name)]);
    const users = new Set([
      ...this.broker.users.list().map((u) => u.name),
      ...defs.users.map((u) => u.name),
    ]);
    for (const v of defs.vhosts) validateName(v.name, "vhost");
    for (const u of defs.users) {
      validateName(u.name, "user");
      const algorithm = hashingAlgorithmOf(u);
      if (u.passwordHash !== undefined && u.passwordHash !== "") {
        const ok = algorithm === HASHING_ALGORITHM
          ? isPasswordHash(u.passwordHash)
          : isBase64(u.passwordHash);
        if (!ok) {
          throw new ServiceError(
            `user '${u.name}': password_hash is not a valid ${algorithm} hash`,
          );
        }
      }
    }
    const needVhost = (v: string, what: string) => {
      if (!vhosts.has(v)) throw new ServiceError(`${what}: no such vhost '${v}'`);
    };
    for (const p of defs.permissions) {
      needVhost(p.vhost, `permissions of '${p.user}'`);
      if (!users.has(p.user)) {
        throw new ServiceError(`permissions: no such user '${p.user}'`);
      }
      for (const pattern of [p.configure, p.write, p.read]) {
        const why = invalidPattern(pattern);
        if (why) {
          throw new ServiceError(
            `permissions of '${p.user}': '${pattern}' is not a valid regex: ${why}`,
          );
        }
      }
    }
    for (const e of defs.exchanges) {
      needVhost(e.vhost, `exchange '${e.name}'`);
      if (!isExchangeType(e.type)) {
        throw new ServiceError(`exchange '${e.name}': unknown exchange type '${e.type}'`);
      }
      amqp(() =>
        validateExchangeArguments(e.arguments, `exchange '${e.name}' in vhost '${e.vhost}'`)
      );
    }
    for (const q of defs.queues) {
      needVhost(q.vhost, `queue '${q.name}'`);
      // A quorum or stream queue in a RabbitMQ export is refused here, before anything changes.
      amqp(() => validateQueueArguments(q.arguments, `queue '${q.name}' in vhost '${q.vhost}'`));
    }
    for (const l of defs.vhostLimits) needVhost(l.vhost, "vhost limits");
    this.checkImportedQueueLimits(defs);
    for (const p of defs.policies) {
      needVhost(p.vhost, `policy '${p.name}'`);
      this.checkPolicy(p);
    }
    const imported = new Set([
      ...defs.exchanges.map((e) => `exchange\0${e.vhost}\0${e.name}`),
      ...defs.queues.map((q) => `queue\0${q.vhost}\0${q.name}`),
    ]);
    const exists = (type: "queue" | "exchange", vhost: string, name: string) => {
      if (type === "exchange" && isBuiltinExchange(name)) return true; // every vhost has them
      const v = this.broker.vhosts.get(vhost);
      const live = type === "queue" ? v?.queues.has(name) : v?.exchanges.has(name);
      return live || imported.has(`${type}\0${vhost}\0${name}`);
    };
    for (const b of defs.bindings) {
      const what = `binding from '${b.source}' to ${b.destinationType} '${b.destination}'`;
      needVhost(b.vhost, what);
      if (b.source === "" || !exists("exchange", b.vhost, b.source)) {
        throw new ServiceError(`${what}: no source exchange '${b.source}' in vhost '${b.vhost}'`);
      }
      if (!exists(b.destinationType, b.vhost, b.destination)) {
        throw new ServiceError(
          `${what}: no ${b.destinationType} '${b.destination}' in vhost '${b.vhost}'`,
        );
      }
    }
  }

  /**
   * Refuses an import whose new queues would take a vhost past its max-queues, before anything
   * changes (as RabbitMQ does). The limit is the one the import sets, else the vhost's own, so
   * that no queue declare fails halfway through the import.
   */
  private checkImportedQueueLimits(defs: ParsedDefinitions): void {
    const adding = new Map<string, Set<string>>();
    for (const q of defs.queues) {
      if (q.name.startsWith("amq.") || this.broker.vhosts.get(q.vhost)?.queues.has(q.name)) {
        continue;
      }
      const names = adding.get(q.vhost) ?? new Set<string>();
      adding.set(q.vhost, names.add(q.name));
    }
    for (const [vhost, names] of adding) {
      const v = this.broker.vhosts.get(vhost);
      const limits = defs.vhostLimits.findLast((l) => l.vhost === vhost)?.limits ?? v?.limits ?? {};
      limitsOrRefusal(() => checkImportQueueLimit(limits, vhost, v?.queues.size ?? 0, names.size));
    }
  }

  private closeConnections(match: (c: Connection) => boolean, reason: string): void {
    for (const c of this.liveConnections()) if (match(c)) c.forceClose(reason);
  }
}

/** Runs a limits parser, turning its refusal into a service error. */
function limitsOrRefusal<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof VhostLimitsError) throw new ServiceError(err.message);
    throw err;
  }
}

function validateName(name: string, what: string): void {
  if (typeof name !== "string" || name === "") throw new ServiceError(`${what} name is empty`);
  if (new TextEncoder().encode(name).length > 255) {
    throw new ServiceError(`${what} name is longer than 255 bytes`);
  }
}

/** A policy as RabbitMQ lists and exports it. */
function policyRow(p: Policy): Row {
  return {
    vhost: p.vhost,
    name: p.name,
    pattern: p.pattern,
    "apply-to": p.applyTo,
    definition: p.definition,
    priority: p.priority,
  };
}

function bindingRow(
  vhost: string,
  source: string,
  destination: string,
  destinationType: string,
  routingKey: string,
  args: FieldTable,
): Row {
  const argsJson = jsonArgs(args) as Record<string, unknown>;
  return {
    source,
    vhost,
    destination,
    destination_type: destinationType,
    routing_key: routingKey,
    arguments: argsJson,
    properties_key: propertiesKey(routingKey, argsJson),
  };
}

/** Arguments as JSON; the common empty table without a round trip. */
function jsonArgs(t: FieldTable): unknown {
  for (const _ in t) return tableToJson(t);
  return {};
}

/** The owner management operations act as: never the owner of an exclusive queue. */
const MANAGEMENT_OWNER = Symbol("management");

/** One entity's counters in a {@link StatsSample}, by the management API's names. */
export interface SampledEntity {
  vhost: string;
  name: string;
  counts: Record<string, number>;
}

export interface StatsSample {
  vhosts: SampledEntity[];
  queues: SampledEntity[];
  exchanges: SampledEntity[];
  connections: SampledEntity[];
  channels: SampledEntity[];
}

function queueStats(s: MessageStats): Record<string, number> {
  return {
    publish: s.publish,
    deliver: s.deliver,
    deliver_no_ack: s.deliverNoAck,
    get: s.get,
    get_no_ack: s.getNoAck,
    deliver_get: s.deliver + s.deliverNoAck + s.get + s.getNoAck,
    redeliver: s.redeliver,
    ack: s.ack,
  };
}

function channelStats(s: MessageStats): Record<string, number> {
  const row = queueStats(s);
  row.confirm = s.confirm;
  row.return_unroutable = s.returnUnroutable;
  row.drop_unroutable = s.dropUnroutable;
  return row;
}

function exchangeDetail(vhost: string, ex: Exchange): Row {
  return {
    name: ex.name,
    vhost,
    type: ex.type,
    durable: ex.durable,
    auto_delete: ex.autoDelete,
    internal: ex.internal,
    arguments: jsonArgs(ex.options.arguments),
    policy: ex.policy?.name ?? null,
    user_who_performed_action: "",
    message_stats: { publish_in: ex.stats.publish, publish_out: ex.stats.publishOut },
  };
}

function userDetail(u: User): Row {
  return {
    name: u.name,
    password_hash: u.passwordHash,
    hashing_algorithm: u.hashingAlgorithm,
    tags: u.tags,
    limits: {},
  };
}

/** Body bytes of a queue's ready messages, where the queue counts them. */
function readyBytes(q: Queue): number | undefined {
  const n = (q as { readyBytes?: unknown }).readyBytes;
  return typeof n === "number" ? n : undefined;
}

/** RabbitMQ names a channel after its connection and number. */
function channelName(c: Connection, ch: Channel): string {
  return `${c.name} (${ch.id})`;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "localhost";
  }
}

/**
 * Runs broker-model code for a management operation, turning its AMQP errors into service
 * errors: 404 is not_found, 403 refused, the rest invalid (text without the reply-code name).
 */
function amqp<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof AmqpError)) throw err;
    const detail = err.text.replace(/^[A-Z_]+ - /, "");
    const kind = err.code === NOT_FOUND
      ? "not_found"
      : err.code === ACCESS_REFUSED
      ? "refused"
      : "invalid";
    throw new ServiceError(detail, kind);
  }
}

function isBase64(s: string): boolean {
  try {
    atob(s);
    return true;
  } catch {
    return false;
  }
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * A definitions user's hashing algorithm: as given, else told by the hash's length (RabbitMQ
 * before 3.6 exported MD5 hashes without naming the algorithm).
 */
function hashingAlgorithmOf(u: { passwordHash?: string; hashingAlgorithm?: string }): string {
  if (u.hashingAlgorithm) return u.hashingAlgorithm;
  if (u.passwordHash && isBase64(u.passwordHash) && atob(u.passwordHash).length === 20) {
    return "rabbit_password_hashing_md5";
  }
  return HASHING_ALGORITHM;
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
