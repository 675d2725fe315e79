/**
 * A virtual host: its exchanges, queues and bindings, and every rule about declaring, deleting,
 * binding and routing them, with RabbitMQ's reply codes and texts.
 */
import {
  accessRefused,
  commandInvalid,
  inVhost,
  notFound,
  preconditionFailed,
  resourceLocked,
} from "../amqp/errors.ts";
import { plainValue } from "../amqp/table.ts";
import type { FieldTable, FieldValue } from "../amqp/table.ts";
import { Exchange, isExchangeType } from "./exchange.ts";
import { xMatchError } from "./headers_match.ts";
import {
  argumentTypeName,
  validateExchangeArguments,
  validateQueueArguments,
} from "./arguments.ts";
import type { Binding, Destination, ExchangeOptions } from "./exchange.ts";
import type { Message } from "./message.ts";
import { deadLetterCopy, isDeathCycle } from "./dead_letter.ts";
import type { DeathReason } from "./dead_letter.ts";
import { Queue } from "./queue.ts";
import type { QueueOptions } from "./queue.ts";
import { generatedQueueName } from "./names.ts";
import type { EntityPersistence, MessagePersistence } from "./persistence.ts";
import { MessageStats } from "./stats.ts";
import { matchPolicy } from "./policy.ts";
import type { Policy } from "./policy.ts";
import { checkQueueLimit } from "./vhost_limits.ts";
import type { VhostLimits } from "./vhost_limits.ts";

/** Whether every vhost has an exchange of this name from its creation (amq.direct, …). */
export const isBuiltinExchange = (name: string) =>
  name === "" || DEFAULT_EXCHANGES.some(([n]) => n === name);

const DEFAULT_EXCHANGES: [string, string][] = [
  ["amq.direct", "direct"],
  ["amq.fanout", "fanout"],
  ["amq.topic", "topic"],
  ["amq.headers", "headers"],
  ["amq.match", "headers"],
];

/** Exchange arguments compared on redeclare. */
const EXCHANGE_EQUIVALENCE_ARGS = ["alternate-exchange"];

/** Queue arguments compared on redeclare (others are ignored, as RabbitMQ does). */
const QUEUE_EQUIVALENCE_ARGS = [
  "x-expires",
  "x-message-ttl",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-overflow",
  "x-queue-mode",
  "x-queue-type",
  "x-single-active-consumer",
];

/** {@link VHost.enqueue}: the message was recorded in the message store. */
export const ENQUEUE_PERSISTED = 1;
/** {@link VHost.enqueue}: a queue refused the message (x-overflow=reject-publish and full). */
export const ENQUEUE_REJECTED = 2;

export interface DeclareQueueRequest extends Omit<QueueOptions, "owner"> {
  name: string;
  passive: boolean;
  /** The name came from {@link VHost.newQueueName}, so its `amq.gen-` prefix is allowed. */
  serverNamed?: boolean;
}

export interface DeclareExchangeRequest extends ExchangeOptions {
  name: string;
  type: string;
  passive: boolean;
}

export class VHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  readonly defaultExchange: Exchange;
  readonly stats = new MessageStats();
  private readonly routeScratch = new Set<Destination>();
  /** Durable storage of entities and messages; undefined when running without a data dir. */
  persistence: EntityPersistence | undefined;
  messages: MessagePersistence | undefined;
  /** Policies by name (see {@link setPolicy}); the one that applies is kept on each entity. */
  readonly policies = new Map<string, Policy>();
  /** max-connections and max-queues (see vhost_limits.ts); the connection side checks the first. */
  limits: VhostLimits = {};

  constructor(readonly name: string, public description = "", public tags: string[] = []) {
    const opts = { durable: true, autoDelete: false, internal: false, arguments: {} };
    this.defaultExchange = new Exchange("", "direct", opts);
    this.exchanges.set("", this.defaultExchange);
    for (const [n, t] of DEFAULT_EXCHANGES) {
      this.exchanges.set(n, new Exchange(n, t as "direct", { ...opts }));
    }
  }

  private exchangeText(name: string): string {
    return inVhost("exchange", name, this.name);
  }

  private queueText(name: string): string {
    return inVhost("queue", name, this.name);
  }

  // ---- policies

  /** The policy that applies to a queue or exchange of this name, if any. */
  policyFor(name: string, kind: "queues" | "exchanges"): Policy | undefined {
    if (kind === "exchanges" && name === "") return undefined; // never the default exchange
    return matchPolicy(this.policies.values(), name, kind);
  }

  /** Adds or replaces a policy and applies the policies again to every queue and exchange. */
  setPolicy(policy: Policy): void {
    this.policies.set(policy.name, policy);
    this.reapplyPolicies();
  }

  /** Removes a policy (false when there was none) and applies the rest again. */
  clearPolicy(name: string): boolean {
    if (!this.policies.delete(name)) return false;
    this.reapplyPolicies();
    return true;
  }

  private reapplyPolicies(): void {
    for (const ex of this.exchanges.values()) {
      if (ex.name !== "") ex.applyPolicy(this.policyFor(ex.name, "exchanges"));
    }
    for (const q of [...this.queues.values()]) q.applyPolicy(this.policyFor(q.name, "queues"));
  }

  // ---- exchanges

  /** Looks up an exchange for use: 404 when missing. */
  exchange(name: string): Exchange {
    const ex = this.exchanges.get(name);
    if (!ex) throw notFound(`no ${this.exchangeText(name)}`);
    return ex;
  }

  declareExchange(req: DeclareExchangeRequest): Exchange {
    this.checkBindable(req.name);
    const existing = this.exchanges.get(req.name);
    if (req.passive) {
      if (!existing) throw notFound(`no ${this.exchangeText(req.name)}`);
      return existing;
    }
    if (!isExchangeType(req.type)) throw commandInvalid(`unknown exchange type '${req.type}'`);
    if (existing) {
      const what = this.exchangeText(req.name);
      checkSame(what, "type", req.type, existing.type);
      checkSame(what, "durable", req.durable, existing.durable);
      checkSame(what, "auto_delete", req.autoDelete, existing.autoDelete);
      checkSame(what, "internal", req.internal, existing.internal);
      checkArgs(what, EXCHANGE_EQUIVALENCE_ARGS, req.arguments, existing.options.arguments);
      return existing;
    }
    if (req.name.startsWith("amq.")) {
      throw accessRefused(`exchange name '${req.name}' contains reserved prefix 'amq.*'`);
    }
    validateExchangeArguments(req.arguments, this.exchangeText(req.name));
    const ex = new Exchange(req.name, req.type, {
      durable: req.durable,
      autoDelete: req.autoDelete,
      internal: req.internal,
      arguments: req.arguments,
    }, this.policyFor(req.name, "exchanges"));
    this.exchanges.set(req.name, ex);
    if (ex.durable) this.persistence?.exchangeDeclared(ex, this.name);
    return ex;
  }

  /** 403 for exchanges that can never be deleted: the default one and the `amq.*` ones. */
  checkDeletable(name: string): void {
    this.checkBindable(name);
    if (name.startsWith("amq.") && this.exchanges.has(name)) {
      throw accessRefused(
        `deletion of system exchange '${name}' in vhost '${this.name}' not allowed`,
      );
    }
  }

  /** 403 for the default exchange, which cannot be declared, deleted or bound. */
  checkBindable(name: string): void {
    if (name === "") throw accessRefused("operation not permitted on the default exchange");
  }

  /** 403 for a client-chosen queue name with the reserved `amq.` prefix. */
  checkQueueName(name: string, serverNamed: boolean): void {
    if (name.startsWith("amq.") && !serverNamed) {
      throw accessRefused(`queue name '${name}' contains reserved prefix 'amq.*'`);
    }
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    this.checkDeletable(name);
    const ex = this.exchanges.get(name);
    if (!ex) return; // RabbitMQ answers delete-ok for a missing exchange
    if (ifUnused && ex.bindings.size > 0) {
      throw preconditionFailed(`${this.exchangeText(name)} in use`);
    }
    this.removeExchange(ex);
  }

  private removeExchange(ex: Exchange): void {
    this.exchanges.delete(ex.name);
    if (ex.durable) this.persistence?.exchangeDeleted(ex, this.name);
    for (const b of ex.bindings.values()) {
      if (b.destination instanceof Exchange) b.destination.inbound.delete(b);
    }
    ex.bindings.clear();
    for (const b of [...ex.inbound]) {
      b.source.unbind(ex, b.routingKey, b.arguments);
      this.afterUnbind(b.source);
    }
    ex.inbound.clear();
  }

  /** An auto-delete exchange goes when its last outgoing binding does. */
  private afterUnbind(source: Exchange): void {
    if (
      source.autoDelete && source.bindings.size === 0 && this.exchanges.get(source.name) === source
    ) {
      this.removeExchange(source);
    }
  }

  // ---- queues

  /**
   * Finds a queue for an operation by `owner`'s connection: 404 when missing, 405 when another
   * connection holds it exclusively.
   */
  queue(name: string, owner: unknown): Queue {
    const q = this.queues.get(name);
    if (!q) throw notFound(`no ${this.queueText(name)}`);
    this.checkExclusive(q, owner);
    return q;
  }

  private checkExclusive(q: Queue, owner: unknown): void {
    if (q.exclusive && q.options.owner !== owner) throw this.locked(q);
  }

  private locked(q: Queue) {
    return resourceLocked(
      `cannot obtain exclusive access to locked ${
        this.queueText(q.name)
      }. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
    );
  }

  /** A fresh server-generated queue name (`amq.gen-…`). */
  newQueueName(): string {
    let name;
    do name = generatedQueueName(); while (this.queues.has(name));
    return name;
  }

  declareQueue(req: DeclareQueueRequest, owner: unknown): Queue {
    if (req.passive) {
      if (req.name === "") throw notFound(`no ${this.queueText(req.name)}`);
      const q = this.queue(req.name, owner);
      q.renewLease(); // a passive declare is a use too (x-expires), as in RabbitMQ
      return q;
    }
    const name = req.name === "" ? this.newQueueName() : req.name;
    this.checkQueueName(name, req.serverNamed || req.name === "");
    const existing = this.queues.get(name);
    if (existing) {
      this.checkExclusive(existing, owner);
      if (existing.exclusive !== req.exclusive) throw this.locked(existing);
      this.checkQueueEquivalence(existing, req);
      existing.renewLease();
      return existing;
    }
    // The vhost's queue limit comes before the arguments' validation, as in RabbitMQ.
    checkQueueLimit(this.limits, this.name, name, this.queues.size);
    // Arguments are validated when a queue is made; a redeclare is compared instead (as RabbitMQ).
    validateQueueArguments(req.arguments, this.queueText(name));
    const q = new Queue(name, this.name, {
      durable: req.durable,
      exclusive: req.exclusive,
      autoDelete: req.autoDelete,
      arguments: req.arguments,
      owner: req.exclusive ? owner : undefined,
    }, this.policyFor(name, "queues"));
    this.addQueue(q);
    return q;
  }

  /** Registers a queue; a durable one is stored first (and gets its message-store id). */
  addQueue(q: Queue, durableId = 0): void {
    q.onAutoDelete = (queue) => this.removeQueue(queue);
    // Both hooks are set on every queue: a policy may give it expires or a dead-letter exchange.
    q.onExpired = (queue) => this.removeQueue(queue);
    q.renewLease();
    q.onDeadLetter = (queue, msg, reason) => this.deadLetter(queue, msg, reason);
    if (q.durable && !q.exclusive) {
      q.durableId = durableId || (this.persistence?.queueDeclared(q) ?? 0);
      if (q.durableId) q.persistence = this.messages;
    }
    this.queues.set(q.name, q);
  }

  private checkQueueEquivalence(q: Queue, req: DeclareQueueRequest): void {
    const what = this.queueText(q.name);
    checkSame(what, "durable", req.durable, q.durable);
    checkSame(what, "auto_delete", req.autoDelete, q.autoDelete);
    checkArgs(what, QUEUE_EQUIVALENCE_ARGS, req.arguments, q.options.arguments);
  }

  deleteQueue(name: string, owner: unknown, ifUnused: boolean, ifEmpty: boolean): number {
    const q = this.queues.get(name);
    if (!q) return 0; // RabbitMQ answers delete-ok with 0 for a missing queue
    this.checkExclusive(q, owner);
    if (ifUnused && q.consumerCount > 0) throw preconditionFailed(`${this.queueText(name)} in use`);
    if (ifEmpty && q.messageCount > 0) {
      throw preconditionFailed(`${this.queueText(name)} not empty`);
    }
    return this.removeQueue(q);
  }

  /** Deletes a queue with its bindings; returns the number of ready messages dropped. */
  removeQueue(q: Queue): number {
    if (this.queues.get(q.name) !== q) return 0;
    this.queues.delete(q.name);
    if (q.durableId) this.persistence?.queueDeleted(q);
    for (const ex of [...this.exchanges.values()]) {
      if (ex.unbindDestination(q).length > 0) this.afterUnbind(ex);
    }
    return q.markDeleted();
  }

  /** A connection closed: its exclusive queues go with it. */
  connectionClosed(owner: unknown): void {
    for (const q of [...this.queues.values()]) {
      if (q.exclusive && q.options.owner === owner) this.removeQueue(q);
    }
  }

  // ---- bindings

  /** An exchange named in a binding: never the default one; 404 if missing unless `must` is false. */
  private sourceExchange(name: string): Exchange;
  private sourceExchange(name: string, must: false): Exchange | undefined;
  private sourceExchange(name: string, must = true): Exchange | undefined {
    this.checkBindable(name);
    return must ? this.exchange(name) : this.exchanges.get(name);
  }

  /** Binds a queue; the exchange is checked before the queue, as RabbitMQ reports it. */
  bindQueue(
    queueName: string,
    exchangeName: string,
    routingKey: string,
    args: FieldTable,
    owner: unknown,
  ): void {
    const ex = this.sourceExchange(exchangeName);
    const q = this.queue(queueName, owner);
    checkBindingArgs(ex, args);
    const b = ex.bind(q, routingKey, args);
    if (b && isDurable(b)) this.persistence?.bindingAdded(b, this.name);
  }

  /** Unbinding what is not there (binding, queue or exchange) succeeds, as in RabbitMQ. */
  unbindQueue(queueName: string, exchangeName: string, routingKey: string, args: FieldTable): void {
    const ex = this.sourceExchange(exchangeName, false);
    const q = this.queues.get(queueName);
    const b = ex && q ? ex.unbind(q, routingKey, args) : undefined;
    if (b) {
      if (isDurable(b)) this.persistence?.bindingRemoved(b, this.name);
      this.afterUnbind(ex!);
    }
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    const dst = this.sourceExchange(destination);
    const src = this.sourceExchange(source);
    checkBindingArgs(src, args);
    const b = src.bind(dst, routingKey, args);
    if (b) {
      dst.inbound.add(b);
      if (isDurable(b)) this.persistence?.bindingAdded(b, this.name);
    }
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    const dst = this.sourceExchange(destination, false);
    const src = this.sourceExchange(source, false);
    const b: Binding | undefined = dst && src ? src.unbind(dst, routingKey, args) : undefined;
    if (b) {
      dst!.inbound.delete(b);
      if (isDurable(b)) this.persistence?.bindingRemoved(b, this.name);
      this.afterUnbind(src!);
    }
  }

  // ---- routing

  /**
   * Puts a routed message into its queues. A persistent message that reached durable queues is
   * first recorded in the message store (once for all of them); returns whether it was.
   */
  enqueue(msg: Message, queues: Set<Queue>): boolean {
    return (this.enqueueRouted(msg, queues) & ENQUEUE_PERSISTED) !== 0;
  }

  /**
   * {@link enqueue}, telling more: {@link ENQUEUE_PERSISTED} when the message was stored, plus
   * {@link ENQUEUE_REJECTED} when a full queue refused it (x-overflow=reject-publish); the other
   * queues still take it.
   */
  enqueueRouted(msg: Message, queues: Set<Queue>): number {
    let result = 0;
    let rejected: Queue[] | undefined;
    let durable: Queue[] | undefined;
    for (const q of queues) {
      // A full queue with x-overflow=reject-publish refuses the message (and so never stores it).
      if (q.rejectsPublish && q.wouldOverflow(msg)) {
        (rejected ??= []).push(q);
        result |= ENQUEUE_REJECTED;
      } else if (q.durableId) (durable ??= []).push(q);
    }
    if (durable && this.messages && msg.persistent) {
      this.messages.persist(msg, durable);
      result |= ENQUEUE_PERSISTED;
    }
    if (rejected) {
      for (const q of queues) if (!rejected.includes(q)) q.enqueue(msg);
      // reject-publish-dlx: the refused message is dead-lettered as if dropped for its length.
      for (const q of rejected) {
        if (q.deadLettersRefused && q.deadLetterExchange !== undefined) {
          q.onDeadLetter?.(q, msg, "maxlen");
        }
      }
    } else {
      for (const q of queues) q.enqueue(msg);
    }
    return result;
  }

  /**
   * Publishes the dead-lettered copy of a message that left `q` for `reason` to q's dead-letter
   * exchange (a missing one drops it, as RabbitMQ does). Queues the copy already died in, with no
   * rejection since, are left out: that is a dead-letter cycle (not checked for rejections).
   */
  deadLetter(q: Queue, msg: Message, reason: DeathReason): void {
    if (q.deadLetterExchange === undefined) return;
    const ex = this.exchanges.get(q.deadLetterExchange);
    if (!ex) return;
    const copy = deadLetterCopy(msg, reason, q.name, ex.name, q.deadLetterRoutingKey, Date.now());
    const queues = new Set<Queue>();
    this.route(ex, copy, queues);
    if (reason !== "rejected" && queues.size > 0) {
      const deaths = copy.headers?.["x-death"];
      for (const target of queues) if (isDeathCycle(target.name, deaths)) queues.delete(target);
    }
    if (queues.size > 0) this.enqueueRouted(copy, queues);
  }

  /**
   * The queues a message published to `ex` reaches, following exchange-to-exchange bindings
   * (each exchange visited once, so cycles end).
   */
  route(ex: Exchange, msg: Message, out: Set<Queue>): void {
    if (ex === this.defaultExchange) {
      const q = this.queues.get(msg.routingKey);
      if (q) out.add(q);
      return;
    }
    if (ex.routesToQueuesOnly) {
      // Every destination is a queue: no scratch set, no walk over exchanges.
      ex.route(msg, out as Set<Destination>);
      return;
    }
    // Routing is never re-entered while it runs, so one scratch set serves every call.
    const dests = this.routeScratch;
    dests.clear();
    this.routeVia(ex, msg, dests);
    if (dests.size === 0) return;
    let visited: Set<Exchange> | undefined;
    for (const d of dests) {
      if (d instanceof Queue) {
        out.add(d);
      } else {
        visited ??= new Set([ex]);
        if (!visited.has(d)) {
          visited.add(d);
          this.routeVia(d, msg, dests); // Set iteration visits entries added during the loop
        }
      }
    }
  }

  /**
   * Adds what one exchange routes a message to. An exchange that routes it nowhere (no queue, no
   * exchange) hands it to its alternate exchange, if that exists, as RabbitMQ does; the caller's
   * visited set ends alternate-exchange cycles.
   */
  private routeVia(x: Exchange, msg: Message, dests: Set<Destination>): void {
    const before = dests.size;
    x.route(msg, dests);
    const ae = x.alternate;
    if (ae === undefined || dests.size > before) return;
    if (before > 0) {
      // Nothing new, but it may have routed to destinations already found: look exactly.
      const own = new Set<Destination>();
      x.route(msg, own);
      if (own.size > 0) return;
    }
    const alt = this.exchanges.get(ae);
    if (alt) dests.add(alt);
  }
}

/** A binding is stored when both its ends are (RabbitMQ's rule for durable bindings). */
function isDurable(b: Binding): boolean {
  const d = b.destination;
  const destDurable = d instanceof Exchange ? d.durable : d.durableId !== 0;
  return b.source.durable && b.source.name !== "" && destDurable;
}

/** 406 when a redeclare's property differs from the existing entity's. */
function checkSame(what: string, arg: string, received: unknown, current: unknown): void {
  if (received !== current) {
    throw preconditionFailed(
      `inequivalent arg '${arg}' for ${what}: received '${received}' but current is '${current}'`,
    );
  }
}

/** 406 on the first compared argument that differs, worded as RabbitMQ words it. */
function checkArgs(what: string, names: string[], received: FieldTable, current: FieldTable): void {
  for (const arg of names) {
    const r = received[arg];
    const c = current[arg];
    if (sameArg(r, c) || isDefaultEquivalent(arg, r, c)) continue;
    const detail = r !== undefined && c !== undefined
      ? `received '${plainValue(r)}' but current is '${plainValue(c)}'`
      : `received ${describeArg(r)} but current is ${describeArg(c)}`;
    throw preconditionFailed(`inequivalent arg '${arg}' for ${what}: ${detail}`);
  }
}

/** Arguments whose absence means a value: `x-queue-type` absent is `classic`, as in RabbitMQ. */
const ARGUMENT_DEFAULTS: Record<string, string> = { "x-queue-type": "classic" };

function isDefaultEquivalent(
  arg: string,
  a: FieldValue | undefined,
  b: FieldValue | undefined,
): boolean {
  const dflt = ARGUMENT_DEFAULTS[arg];
  if (dflt === undefined) return false;
  const value = (v: FieldValue | undefined) => v === undefined ? dflt : plainValue(v);
  return value(a) === value(b);
}

/** Headers-exchange bindings must carry a valid x-match (406 otherwise). */
function checkBindingArgs(ex: Exchange, args: FieldTable): void {
  if (ex.type !== "headers") return;
  const xMatch = args["x-match"];
  const err = xMatchError(xMatch === undefined ? undefined : plainValue(xMatch));
  if (err) throw preconditionFailed(err);
}

function sameArg(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(plainValue(a), bigintSafe) === JSON.stringify(plainValue(b), bigintSafe);
}

const bigintSafe = (_k: string, v: unknown) => typeof v === "bigint" ? v.toString() : v;

/** RabbitMQ's wording for an argument value: `the value '100' of type 'signedint'`, or `none`. */
function describeArg(v: FieldValue | undefined): string {
  if (v === undefined) return "none";
  return `the value '${plainValue(v)}' of type '${argumentTypeName(v)}'`;
}
