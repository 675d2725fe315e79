/**
 * Durable exchanges, queues and bindings in the metadata store: the {@link EntityPersistence}
 * the broker model calls, and the restore of those entities on start. Each change commits
 * (fsync'd, SQLite synchronous=FULL) before the method that made it is answered.
 */
import type { EntityPersistence } from "../broker/persistence.ts";
import { Exchange, isExchangeType, stableJson } from "../broker/exchange.ts";
import type { Binding } from "../broker/exchange.ts";
import { Queue } from "../broker/queue.ts";
import type { Broker } from "../broker/broker.ts";
import type { MetadataSnapshot, MetadataStore, StoredBinding } from "./metadata.ts";
import type { MessageStore } from "./message_store.ts";
import { log } from "../log.ts";

function storedBinding(b: Binding, vhost: string): StoredBinding {
  return {
    vhost,
    source: b.source.name,
    destinationType: b.destination instanceof Exchange ? "exchange" : "queue",
    destination: b.destination.name,
    routingKey: b.routingKey,
    arguments: b.arguments,
  };
}

/** Binding identity in the table: its arguments, canonically serialized. */
const argsKey = (b: Binding) => stableJson(b.arguments);

export class EntityStore implements EntityPersistence {
  constructor(private readonly store: MetadataStore) {}

  exchangeDeclared(ex: Exchange, vhost: string): void {
    this.store.putExchange({
      vhost,
      name: ex.name,
      type: ex.type,
      autoDelete: ex.autoDelete,
      internal: ex.internal,
      arguments: ex.options.arguments,
    });
  }

  exchangeDeleted(ex: Exchange, vhost: string): void {
    this.store.deleteExchange(vhost, ex.name);
  }

  queueDeclared(q: Queue): number {
    return this.store.putQueue({
      vhost: q.vhost,
      name: q.name,
      autoDelete: q.autoDelete,
      arguments: q.options.arguments,
    });
  }

  queueDeleted(q: Queue): void {
    this.store.deleteQueue(q.vhost, q.name);
  }

  bindingAdded(b: Binding, vhost: string): void {
    this.store.putBinding(storedBinding(b, vhost), argsKey(b));
  }

  bindingRemoved(b: Binding, vhost: string): void {
    this.store.deleteBinding(storedBinding(b, vhost), argsKey(b));
  }
}

/**
 * Rebuilds durable exchanges, queues and bindings from the snapshot (with the policies that
 * Broker.fromSnapshot loaded already applied), then the messages of durable
 * queues from the message store, and attaches both stores to every vhost for what follows.
 */
export function restoreDurable(
  broker: Broker,
  snapshot: MetadataSnapshot,
  store: MetadataStore,
  messages: MessageStore | undefined,
): void {
  const queuesById = new Map<number, Queue>();
  for (const e of snapshot.exchanges) {
    const vhost = broker.vhosts.get(e.vhost);
    if (!vhost || vhost.exchanges.has(e.name) || !isExchangeType(e.type)) continue;
    vhost.exchanges.set(
      e.name,
      new Exchange(e.name, e.type, {
        durable: true,
        autoDelete: e.autoDelete,
        internal: e.internal,
        arguments: e.arguments,
      }, vhost.policyFor(e.name, "exchanges")),
    );
  }
  for (const q of snapshot.queues) {
    const vhost = broker.vhosts.get(q.vhost);
    if (!vhost) continue;
    const queue = new Queue(q.name, q.vhost, {
      durable: true,
      exclusive: false,
      autoDelete: q.autoDelete,
      arguments: q.arguments,
      owner: undefined,
    }, vhost.policyFor(q.name, "queues"));
    vhost.messages = messages;
    vhost.addQueue(queue, q.id);
    vhost.messages = undefined;
    queuesById.set(q.id, queue);
  }
  let bindings = 0;
  for (const b of snapshot.bindings) {
    const vhost = broker.vhosts.get(b.vhost);
    const source = vhost?.exchanges.get(b.source);
    const dest = b.destinationType === "queue"
      ? vhost?.queues.get(b.destination)
      : vhost?.exchanges.get(b.destination);
    if (!source || !dest) {
      log.warn("dropping a stored binding whose ends are gone", { ...b, arguments: undefined });
      continue;
    }
    const binding = source.bind(dest, b.routingKey, b.arguments);
    if (binding && dest instanceof Exchange) dest.inbound.add(binding);
    bindings++;
  }
  // A server's start-up line (the CLI opens the store offline without a message store).
  if (messages) {
    log.info("definitions recovered", {
      vhosts: broker.vhosts.size,
      users: broker.users.list().length,
      durable_exchanges: snapshot.exchanges.length,
      durable_queues: queuesById.size,
      bindings,
    });
  }
  messages?.recover(queuesById);
  broker.attachPersistence(new EntityStore(store), messages);
}
