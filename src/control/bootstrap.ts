/**
 * Opening a data dir: the metadata store (seeded with the default user, vhost and permissions when
 * it is new, as RabbitMQ does on first boot) and the broker model loaded from it.
 */
import { Broker } from "../broker/broker.ts";
import { HASHING_ALGORITHM, hashPassword } from "../auth/password.ts";
import type { BrokerConfig } from "../config/types.ts";
import { METADATA_FILE, MetadataStore } from "../store/metadata.ts";

export type SeedConfig = Pick<
  BrokerConfig,
  "defaultUser" | "defaultPass" | "defaultVhost" | "defaultUserTags" | "defaultPermissions"
>;

/** Creates the data dir (owner-only) and returns its metadata store path. */
export function prepareDataDir(dataDir: string): string {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return `${dataDir}/${METADATA_FILE}`;
}

/** Opens the store in `dataDir` (in memory when undefined) and loads the model from it. */
export function openBroker(
  dataDir: string | undefined,
  seed: SeedConfig,
): { broker: Broker; store: MetadataStore } {
  const path = dataDir === undefined ? ":memory:" : prepareDataDir(dataDir);
  const store = new MetadataStore(path, (s) => seedDefaults(s, seed));
  return { broker: Broker.fromSnapshot(store.load()), store };
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
