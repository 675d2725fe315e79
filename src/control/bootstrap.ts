/**
 * Opening a data dir: the metadata store (seeded with the default user, vhost and permissions when
 * it is new, as RabbitMQ does on first boot), the broker model loaded from it, and, for a server,
 * the message store with durable queues' messages recovered.
 */
import { Broker } from "../broker/broker.ts";
import { HASHING_ALGORITHM, hashPassword } from "../auth/password.ts";
import type { BrokerConfig } from "../config/types.ts";
import { METADATA_FILE, MetadataStore } from "../store/metadata.ts";
import { MessageStore } from "../store/message_store.ts";
import { restoreDurable } from "../store/entity_store.ts";

export type SeedConfig = Pick<
  BrokerConfig,
  "defaultUser" | "defaultPass" | "defaultVhost" | "defaultUserTags" | "defaultPermissions"
>;

export const MESSAGES_DIR = "messages";

/** Creates the data dir (owner-only) and returns its metadata store path. */
export function prepareDataDir(dataDir: string): string {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return `${dataDir}/${METADATA_FILE}`;
}

export interface OpenedBroker {
  broker: Broker;
  store: MetadataStore;
  /** Present for a server on a data dir (not in memory, not for offline CLI use). */
  messages: MessageStore | undefined;
}

/**
 * Opens the store in `dataDir` (in memory when undefined) and loads the model from it. With
 * `messages`, also opens the message store and recovers durable queues' messages.
 */
export function openBroker(
  dataDir: string | undefined,
  seed: SeedConfig,
  options: { messages: boolean } = { messages: false },
): OpenedBroker {
  const path = dataDir === undefined ? ":memory:" : prepareDataDir(dataDir);
  const store = new MetadataStore(path, (s) => seedDefaults(s, seed));
  const snapshot = store.load();
  const broker = Broker.fromSnapshot(snapshot);
  const messages = dataDir !== undefined && options.messages
    ? new MessageStore(`${dataDir}/${MESSAGES_DIR}`)
    : undefined;
  restoreDurable(broker, snapshot, store, messages);
  return { broker, store, messages };
}

function seedDefaults(store: MetadataStore, seed: SeedConfig): void {
  store.putVhost({ name: seed.defaultVhost, description: "Default virtual host", tags: [] });
  store.putUser({
    name: seed.defaultUser,
    passwordHash: hashPassword(seed.defaultPass),
    hashingAlgorithm: HASHING_ALGORITHM,
    tags: seed.defaultUserTags,
  });
  store.putPermission({
    user: seed.defaultUser,
    vhost: seed.defaultVhost,
    ...seed.defaultPermissions,
  });
}
