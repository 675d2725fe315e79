/**
 * Exchanges and their bindings. Each type keeps the index it routes with: a map by routing key
 * (direct), a list (fanout), a trie of patterns (topic), or the bindings' arguments (headers).
 * Destinations are queues or, for exchange-to-exchange bindings, other exchanges.
 */
import { TopicTrie } from "./topic_trie.ts";
import { headersMatch } from "./headers_match.ts";
import type { Queue } from "./queue.ts";
import type { Message } from "./message.ts";
import { plainValue } from "../amqp/table.ts";
import type { FieldTable } from "../amqp/table.ts";
import { MessageStats } from "./stats.ts";
import type { Policy } from "./policy.ts";

export const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers"] as const;
export type ExchangeType = typeof EXCHANGE_TYPES[number];

export const isExchangeType = (t: string): t is ExchangeType =>
  (EXCHANGE_TYPES as readonly string[]).includes(t);

export type Destination = Queue | Exchange;

export interface Binding {
  source: Exchange;
  destination: Destination;
  routingKey: string;
  arguments: FieldTable;
}

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

/** Identity of a binding: RabbitMQ tells bindings apart by destination, key and arguments. */
function bindingKey(destination: Destination, routingKey: string, args: FieldTable): string {
  const kind = destination instanceof Exchange ? "e" : "q";
  return `${kind}\0${destination.name}\0${routingKey}\0${stableJson(args)}`;
}

/** JSON with sorted keys (and bigints, bytes), so equal tables serialize equally. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, val) => {
    if (typeof val === "bigint") return `${val}n`;
    if (val instanceof Uint8Array) return Array.from(val);
    if (val && typeof val === "object" && !Array.isArray(val)) {
      return Object.fromEntries(Object.keys(val).sort().map((k) => [k, val[k]]));
    }
    return val;
  });
}

export class Exchange {
  readonly bindings = new Map<string, Binding>();
  /** publish = publish_in, publishOut = publish_out. */
  readonly stats = new MessageStats();
  private readonly direct = new Map<string, Map<Destination, number>>();
  private readonly fanout = new Map<Destination, number>();
  private readonly topic = new TopicTrie<Destination>();
  /** Bindings from this exchange to other exchanges. */
  private exchangeBindings = 0;
  /** Exchange-to-exchange bindings that have this exchange as destination (for deletion). */
  readonly inbound = new Set<Binding>();

  /**
   * The alternate exchange's name (argument `alternate-exchange`, else the policy's): unroutable
   * messages go there.
   */
  alternate: string | undefined;
  /** The policy that applies to the exchange (the vhost keeps this current), if any. */
  policy: Policy | undefined;

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly options: ExchangeOptions,
    policy?: Policy,
  ) {
    this.applyPolicy(policy);
  }

  /** Computes the effective settings: the argument wins over the policy, as in RabbitMQ. */
  applyPolicy(policy: Policy | undefined): void {
    this.policy = policy;
    const ae = this.options.arguments["alternate-exchange"];
    const arg = ae === undefined ? undefined : plainValue(ae);
    const fromPolicy = policy?.definition["alternate-exchange"];
    this.alternate = typeof arg === "string"
      ? arg
      : typeof fromPolicy === "string"
      ? fromPolicy
      : undefined;
  }

  get durable(): boolean {
    return this.options.durable;
  }

  get autoDelete(): boolean {
    return this.options.autoDelete;
  }

  /**
   * Whether {@link route} alone gives every queue a message reaches: no exchange-to-exchange
   * binding to follow and no alternate exchange to fall back on.
   */
  get routesToQueuesOnly(): boolean {
    return this.exchangeBindings === 0 && this.alternate === undefined;
  }

  get internal(): boolean {
    return this.options.internal;
  }

  /** Adds a binding; false when an identical one already exists. */
  bind(destination: Destination, routingKey: string, args: FieldTable): Binding | undefined {
    const key = bindingKey(destination, routingKey, args);
    if (this.bindings.has(key)) return undefined;
    const binding: Binding = { source: this, destination, routingKey, arguments: args };
    this.bindings.set(key, binding);
    if (destination instanceof Exchange) this.exchangeBindings++;
    switch (this.type) {
      case "direct": {
        let dests = this.direct.get(routingKey);
        if (!dests) this.direct.set(routingKey, dests = new Map());
        dests.set(destination, (dests.get(destination) ?? 0) + 1);
        break;
      }
      case "fanout":
        this.fanout.set(destination, (this.fanout.get(destination) ?? 0) + 1);
        break;
      case "topic":
        if (!this.hasOther(destination, routingKey, binding)) {
          this.topic.add(routingKey, destination);
        }
        break;
      case "headers":
        break;
    }
    return binding;
  }

  /** Removes a binding; the removed binding, or undefined when there was none. */
  unbind(destination: Destination, routingKey: string, args: FieldTable): Binding | undefined {
    const key = bindingKey(destination, routingKey, args);
    const binding = this.bindings.get(key);
    if (!binding) return undefined;
    this.removeBinding(key, binding);
    return binding;
  }

  /** Removes every binding to `destination` (it is being deleted); returns how many. */
  unbindDestination(destination: Destination): Binding[] {
    const removed: Binding[] = [];
    for (const [key, b] of this.bindings) {
      if (b.destination === destination) {
        this.removeBinding(key, b);
        removed.push(b);
      }
    }
    return removed;
  }

  private removeBinding(key: string, binding: Binding): void {
    this.bindings.delete(key);
    const { destination, routingKey } = binding;
    if (destination instanceof Exchange) this.exchangeBindings--;
    switch (this.type) {
      case "direct": {
        const dests = this.direct.get(routingKey)!;
        const n = dests.get(destination)! - 1;
        if (n > 0) dests.set(destination, n);
        else {
          dests.delete(destination);
          if (dests.size === 0) this.direct.delete(routingKey);
        }
        break;
      }
      case "fanout": {
        const n = this.fanout.get(destination)! - 1;
        if (n > 0) this.fanout.set(destination, n);
        else this.fanout.delete(destination);
        break;
      }
      case "topic":
        if (!this.hasOther(destination, routingKey, binding)) {
          this.topic.remove(routingKey, destination);
        }
        break;
      case "headers":
        break;
    }
  }

  /** Whether another binding (other arguments) joins the same destination by the same key. */
  private hasOther(destination: Destination, routingKey: string, except: Binding): boolean {
    for (const b of this.bindings.values()) {
      if (b !== except && b.destination === destination && b.routingKey === routingKey) return true;
    }
    return false;
  }

  /** Adds this exchange's direct destinations for a message to `out`. */
  route(msg: Message, out: Set<Destination>): void {
    switch (this.type) {
      case "direct": {
        const dests = this.direct.get(msg.routingKey);
        if (dests) { for (const d of dests.keys()) out.add(d); }
        return;
      }
      case "fanout":
        for (const d of this.fanout.keys()) out.add(d);
        return;
      case "topic":
        this.topic.match(msg.routingKey, out);
        return;
      case "headers": {
        if (this.bindings.size === 0) return;
        const headers = msg.headers;
        for (const b of this.bindings.values()) {
          if (headersMatch(b.arguments, headers)) out.add(b.destination);
        }
        return;
      }
    }
  }
}
