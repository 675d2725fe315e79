/**
 * The metadata store: users, virtual hosts (with their limits), permissions, policies, and durable
 * exchanges, queues and bindings, in SQLite (`node:sqlite`, built into Deno).
 *
 * Why SQLite: every change is one transaction in a WAL journal with synchronous=FULL, so a kill at
 * any instant leaves either the old or the new state, never a torn one; and SQLite's file locks make
 * it safe for the CLI and the server to open the same file at once (busy_timeout waits for the
 * other writer). Metadata is small and changes rarely, so a synchronous API is fine here.
 */
import { DatabaseSync } from "node:sqlite";
import { Reader } from "../amqp/reader.ts";
import { Writer } from "../amqp/writer.ts";
import type { FieldTable } from "../amqp/table.ts";

export interface StoredUser {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
}

export interface StoredVhost {
  name: string;
  description: string;
  tags: string[];
}

export interface StoredPermission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface StoredExchange {
  vhost: string;
  name: string;
  type: string;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface StoredQueue {
  /** Never reused, so messages of a deleted queue can be told apart in the message log. */
  id: number;
  vhost: string;
  name: string;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface StoredBinding {
  vhost: string;
  source: string;
  destinationType: "queue" | "exchange";
  destination: string;
  routingKey: string;
  arguments: FieldTable;
}

export interface StoredPolicy {
  vhost: string;
  name: string;
  pattern: string;
  applyTo: string;
  /** The definition as RabbitMQ writes it: `{"message-ttl": 60000, …}`. */
  definition: Record<string, string | number>;
  priority: number;
}

/** A vhost's limits as RabbitMQ writes them: `{"max-connections": 2, "max-queues": 10}`. */
export interface StoredVhostLimits {
  vhost: string;
  limits: Record<string, number>;
}

export interface MetadataSnapshot {
  users: StoredUser[];
  vhosts: StoredVhost[];
  permissions: StoredPermission[];
  exchanges: StoredExchange[];
  queues: StoredQueue[];
  bindings: StoredBinding[];
  policies: StoredPolicy[];
  vhostLimits: StoredVhostLimits[];
}

/** Field tables are kept in AMQP's own encoding, so every value keeps its wire type. */
function encodeTable(t: FieldTable): Uint8Array {
  const w = new Writer(256);
  w.table(t);
  return w.bytes().slice();
}

function decodeTable(v: unknown): FieldTable {
  const bytes = v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer);
  return new Reader(bytes).table();
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  password_hash TEXT NOT NULL,
  hashing_algorithm TEXT NOT NULL,
  tags TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vhosts (
  name TEXT PRIMARY KEY,
  description TEXT NOT NULL DEFAULT '',
  tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS exchanges (
  vhost TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  auto_delete INTEGER NOT NULL,
  internal INTEGER NOT NULL,
  arguments BLOB NOT NULL,
  PRIMARY KEY (vhost, name)
);
CREATE TABLE IF NOT EXISTS queues (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vhost TEXT NOT NULL,
  name TEXT NOT NULL,
  auto_delete INTEGER NOT NULL,
  arguments BLOB NOT NULL,
  UNIQUE (vhost, name)
);
CREATE TABLE IF NOT EXISTS bindings (
  vhost TEXT NOT NULL,
  source TEXT NOT NULL,
  destination_type TEXT NOT NULL,
  destination TEXT NOT NULL,
  routing_key TEXT NOT NULL,
  arguments BLOB NOT NULL,
  args_key TEXT NOT NULL,
  PRIMARY KEY (vhost, source, destination_type, destination, routing_key, args_key)
);
CREATE TABLE IF NOT EXISTS policies (
  vhost TEXT NOT NULL,
  name TEXT NOT NULL,
  pattern TEXT NOT NULL,
  apply_to TEXT NOT NULL,
  definition TEXT NOT NULL,
  priority INTEGER NOT NULL,
  PRIMARY KEY (vhost, name)
);
CREATE TABLE IF NOT EXISTS vhost_limits (
  vhost TEXT PRIMARY KEY,
  limits TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS permissions (
  user TEXT NOT NULL,
  vhost TEXT NOT NULL,
  configure TEXT NOT NULL,
  write TEXT NOT NULL,
  read TEXT NOT NULL,
  PRIMARY KEY (user, vhost)
);
`;

export const METADATA_FILE = "metadata.db";

export class MetadataStore {
  private readonly db: DatabaseSync;
  /** True when this store was created just now (defaults are seeded only then). */
  readonly isNew: boolean;

  /**
   * Opens (creating if needed) the store at `path`; ":memory:" for a throwaway one. `onCreate`
   * runs inside the transaction that creates the store, so whoever opens the file first (server
   * or CLI) seeds it, and nobody ever sees it unseeded.
   */
  constructor(readonly path: string, onCreate?: (store: MetadataStore) => void) {
    this.db = new DatabaseSync(path);
    this.db.exec("PRAGMA busy_timeout = 10000");
    if (path !== ":memory:") {
      this.db.exec("PRAGMA journal_mode = WAL");
      this.db.exec("PRAGMA synchronous = FULL");
    }
    this.db.exec(SCHEMA);
    const created = this.transaction(() => {
      const row = this.db.prepare("SELECT value FROM meta WHERE key = 'created'").get();
      if (row) return false;
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('created', ?)").run(
        new Date().toISOString(),
      );
      onCreate?.(this);
      return true;
    });
    this.isNew = created;
  }

  close(): void {
    this.db.close();
  }

  private inTransaction = false;

  /** Runs `fn` in one IMMEDIATE transaction: all of it is stored, or none. Nests flat. */
  transaction<T>(fn: () => T): T {
    if (this.inTransaction) return fn();
    this.inTransaction = true;
    try {
      return this.runTransaction(fn);
    } finally {
      this.inTransaction = false;
    }
  }

  private runTransaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  load(): MetadataSnapshot {
    const users = this.db.prepare("SELECT * FROM users ORDER BY name").all().map((r) => ({
      name: String(r.name),
      passwordHash: String(r.password_hash),
      hashingAlgorithm: String(r.hashing_algorithm),
      tags: JSON.parse(String(r.tags)) as string[],
    }));
    const vhosts = this.db.prepare("SELECT * FROM vhosts ORDER BY name").all().map((r) => ({
      name: String(r.name),
      description: String(r.description),
      tags: JSON.parse(String(r.tags)) as string[],
    }));
    const permissions = this.db.prepare("SELECT * FROM permissions ORDER BY vhost, user").all()
      .map((r) => ({
        user: String(r.user),
        vhost: String(r.vhost),
        configure: String(r.configure),
        write: String(r.write),
        read: String(r.read),
      }));
    const exchanges = this.db.prepare("SELECT * FROM exchanges").all().map((r) => ({
      vhost: String(r.vhost),
      name: String(r.name),
      type: String(r.type),
      autoDelete: r.auto_delete === 1,
      internal: r.internal === 1,
      arguments: decodeTable(r.arguments),
    }));
    const queues = this.db.prepare("SELECT * FROM queues ORDER BY id").all().map((r) => ({
      id: Number(r.id),
      vhost: String(r.vhost),
      name: String(r.name),
      autoDelete: r.auto_delete === 1,
      arguments: decodeTable(r.arguments),
    }));
    const bindings = this.db.prepare("SELECT * FROM bindings").all().map((r) => ({
      vhost: String(r.vhost),
      source: String(r.source),
      destinationType: String(r.destination_type) as "queue" | "exchange",
      destination: String(r.destination),
      routingKey: String(r.routing_key),
      arguments: decodeTable(r.arguments),
    }));
    const policies = this.db.prepare("SELECT * FROM policies ORDER BY vhost, name").all()
      .map((r) => ({
        vhost: String(r.vhost),
        name: String(r.name),
        pattern: String(r.pattern),
        applyTo: String(r.apply_to),
        definition: JSON.parse(String(r.definition)) as Record<string, string | number>,
        priority: Number(r.priority),
      }));
    const vhostLimits = this.db.prepare("SELECT * FROM vhost_limits ORDER BY vhost").all()
      .map((r) => ({
        vhost: String(r.vhost),
        limits: JSON.parse(String(r.limits)) as Record<string, number>,
      }));
    return { users, vhosts, permissions, exchanges, queues, bindings, policies, vhostLimits };
  }

  putUser(u: StoredUser): void {
    this.db.prepare(
      `INSERT INTO users (name, password_hash, hashing_algorithm, tags) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash,
         hashing_algorithm = excluded.hashing_algorithm, tags = excluded.tags`,
    ).run(u.name, u.passwordHash, u.hashingAlgorithm, JSON.stringify(u.tags));
  }

  /** Deletes a user and every permission it had. */
  deleteUser(name: string): void {
    this.transaction(() => {
      this.db.prepare("DELETE FROM permissions WHERE user = ?").run(name);
      this.db.prepare("DELETE FROM users WHERE name = ?").run(name);
    });
  }

  putVhost(v: StoredVhost): void {
    this.db.prepare(
      `INSERT INTO vhosts (name, description, tags) VALUES (?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET description = excluded.description, tags = excluded.tags`,
    ).run(v.name, v.description, JSON.stringify(v.tags));
  }

  /** Deletes a vhost with its permissions and durable entities. */
  deleteVhost(name: string): void {
    this.transaction(() => {
      const tables = ["permissions", "exchanges", "queues", "bindings", "policies", "vhost_limits"];
      for (const t of tables) {
        this.db.prepare(`DELETE FROM ${t} WHERE vhost = ?`).run(name);
      }
      this.db.prepare("DELETE FROM vhosts WHERE name = ?").run(name);
    });
  }

  putPermission(p: StoredPermission): void {
    this.db.prepare(
      `INSERT INTO permissions (user, vhost, configure, write, read) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user, vhost) DO UPDATE SET configure = excluded.configure,
         write = excluded.write, read = excluded.read`,
    ).run(p.user, p.vhost, p.configure, p.write, p.read);
  }

  deletePermission(user: string, vhost: string): void {
    this.db.prepare("DELETE FROM permissions WHERE user = ? AND vhost = ?").run(user, vhost);
  }

  putPolicy(p: StoredPolicy): void {
    this.db.prepare(
      `INSERT OR REPLACE INTO policies (vhost, name, pattern, apply_to, definition, priority)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(p.vhost, p.name, p.pattern, p.applyTo, JSON.stringify(p.definition), p.priority);
  }

  deletePolicy(vhost: string, name: string): void {
    this.db.prepare("DELETE FROM policies WHERE vhost = ? AND name = ?").run(vhost, name);
  }

  /** Stores a vhost's limits (replacing them); none at all removes the row. */
  putVhostLimits(l: StoredVhostLimits): void {
    if (Object.keys(l.limits).length === 0) {
      this.db.prepare("DELETE FROM vhost_limits WHERE vhost = ?").run(l.vhost);
      return;
    }
    this.db.prepare("INSERT OR REPLACE INTO vhost_limits (vhost, limits) VALUES (?, ?)").run(
      l.vhost,
      JSON.stringify(l.limits),
    );
  }

  putExchange(e: StoredExchange): void {
    this.db.prepare(
      `INSERT OR REPLACE INTO exchanges (vhost, name, type, auto_delete, internal, arguments)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      e.vhost,
      e.name,
      e.type,
      e.autoDelete ? 1 : 0,
      e.internal ? 1 : 0,
      encodeTable(e.arguments),
    );
  }

  /** Deletes an exchange and every binding from or to it. */
  deleteExchange(vhost: string, name: string): void {
    this.transaction(() => {
      this.db.prepare("DELETE FROM exchanges WHERE vhost = ? AND name = ?").run(vhost, name);
      this.db.prepare(
        `DELETE FROM bindings WHERE vhost = ? AND (source = ? OR
           (destination_type = 'exchange' AND destination = ?))`,
      ).run(vhost, name, name);
    });
  }

  /** Stores a durable queue; returns its id. */
  putQueue(q: Omit<StoredQueue, "id">): number {
    const row = this.db.prepare(
      `INSERT INTO queues (vhost, name, auto_delete, arguments) VALUES (?, ?, ?, ?)
       ON CONFLICT(vhost, name) DO UPDATE SET auto_delete = excluded.auto_delete,
         arguments = excluded.arguments
       RETURNING id`,
    ).get(q.vhost, q.name, q.autoDelete ? 1 : 0, encodeTable(q.arguments));
    return Number(row!.id);
  }

  /** Deletes a durable queue and every binding to it. */
  deleteQueue(vhost: string, name: string): void {
    this.transaction(() => {
      this.db.prepare("DELETE FROM queues WHERE vhost = ? AND name = ?").run(vhost, name);
      this.db.prepare(
        "DELETE FROM bindings WHERE vhost = ? AND destination_type = 'queue' AND destination = ?",
      ).run(vhost, name);
    });
  }

  putBinding(b: StoredBinding, argsKey: string): void {
    this.db.prepare(
      `INSERT OR REPLACE INTO bindings
         (vhost, source, destination_type, destination, routing_key, arguments, args_key)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      b.vhost,
      b.source,
      b.destinationType,
      b.destination,
      b.routingKey,
      encodeTable(b.arguments),
      argsKey,
    );
  }

  deleteBinding(b: StoredBinding, argsKey: string): void {
    this.db.prepare(
      `DELETE FROM bindings WHERE vhost = ? AND source = ? AND destination_type = ?
         AND destination = ? AND routing_key = ? AND args_key = ?`,
    ).run(b.vhost, b.source, b.destinationType, b.destination, b.routingKey, argsKey);
  }
}
