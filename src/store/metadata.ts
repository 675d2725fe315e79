/**
 * The metadata store: users, virtual hosts and permissions (and, later, durable exchanges, queues
 * and bindings), in SQLite (`node:sqlite`, built into Deno).
 *
 * Why SQLite: every change is one transaction in a WAL journal with synchronous=FULL, so a kill at
 * any instant leaves either the old or the new state, never a torn one; and SQLite's file locks make
 * it safe for the CLI and the server to open the same file at once (busy_timeout waits for the
 * other writer). Metadata is small and changes rarely, so a synchronous API is fine here.
 */
import { DatabaseSync } from "node:sqlite";

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

export interface MetadataSnapshot {
  users: StoredUser[];
  vhosts: StoredVhost[];
  permissions: StoredPermission[];
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
    return { users, vhosts, permissions };
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

  /** Deletes a vhost and every permission on it. */
  deleteVhost(name: string): void {
    this.transaction(() => {
      this.db.prepare("DELETE FROM permissions WHERE vhost = ?").run(name);
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
}
