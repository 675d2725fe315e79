/**
 * The metadata store (users, vhosts, permissions in SQLite): round trips, cascading deletes,
 * all-or-nothing transactions, seeding exactly once, and two stores on one file at once (the CLI
 * and the server).
 */
import assert from "node:assert/strict";
import { HASHING_ALGORITHM, hashPassword, verifyPassword } from "../../src/auth/password.ts";
import { openBroker } from "../../src/control/bootstrap.ts";
import { DEFAULT_CONFIG } from "../../src/config/types.ts";
import { METADATA_FILE, MetadataStore } from "../../src/store/metadata.ts";
import type { StoredUser } from "../../src/store/metadata.ts";

const user = (name: string, tags: string[] = []): StoredUser => ({
  name,
  passwordHash: hashPassword(`${name}-pw`),
  hashingAlgorithm: HASHING_ALGORITHM,
  tags,
});

const perm = (user: string, vhost: string, p = ".*") => ({
  user,
  vhost,
  configure: p,
  write: p,
  read: p,
});

/** The users, vhosts and permissions a store holds, as names. */
function summary(store: MetadataStore) {
  const s = store.load();
  return {
    users: s.users.map((u) => u.name),
    vhosts: s.vhosts.map((v) => v.name),
    permissions: s.permissions.map((p) => `${p.user}@${p.vhost}`),
  };
}

async function withTempDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "broker-metadata-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("MetadataStore: put and load round trip, upserts, on a file across reopen", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/${METADATA_FILE}`;
    let created = 0;
    const a = new MetadataStore(path, () => created++);
    assert.equal(a.isNew, true);
    assert.equal(created, 1);
    const alice = user("alice", ["administrator", "management"]);
    a.putUser(alice);
    a.putUser(user("bob"));
    a.putVhost({ name: "/", description: "Default", tags: [] });
    a.putVhost({ name: "dev", description: "Dévelopment ✓", tags: ["t1", "t2"] });
    a.putPermission({ user: "alice", vhost: "dev", configure: "^c", write: "", read: "^r$" });
    a.close();

    const b = new MetadataStore(path, () => created++);
    assert.equal(b.isNew, false);
    assert.equal(created, 1);
    const s = b.load();
    assert.deepEqual(s.users.find((u) => u.name === "alice"), alice);
    assert.deepEqual(s.users.map((u) => u.name), ["alice", "bob"]);
    assert.deepEqual(s.vhosts, [
      { name: "/", description: "Default", tags: [] },
      { name: "dev", description: "Dévelopment ✓", tags: ["t1", "t2"] },
    ]);
    assert.deepEqual(s.permissions, [
      { user: "alice", vhost: "dev", configure: "^c", write: "", read: "^r$" },
    ]);

    // Upserts replace in place.
    const newHash = hashPassword("changed");
    b.putUser({ ...alice, passwordHash: newHash, tags: [] });
    b.putVhost({ name: "dev", description: "", tags: [] });
    b.putPermission({ user: "alice", vhost: "dev", configure: ".*", write: ".*", read: ".*" });
    const s2 = b.load();
    assert.equal(s2.users.length, 2);
    const a2 = s2.users.find((u) => u.name === "alice")!;
    assert.deepEqual(a2.tags, []);
    assert.equal(verifyPassword("changed", a2.passwordHash), true);
    assert.deepEqual(s2.vhosts[1], { name: "dev", description: "", tags: [] });
    assert.deepEqual(s2.permissions, [perm("alice", "dev")]);
    b.close();
  });
});

Deno.test("MetadataStore: deleting a user or a vhost deletes its permissions only", () => {
  const s = new MetadataStore(":memory:");
  for (const u of ["alice", "bob"]) s.putUser(user(u));
  for (const v of ["/", "dev"]) s.putVhost({ name: v, description: "", tags: [] });
  for (const u of ["alice", "bob"]) for (const v of ["/", "dev"]) s.putPermission(perm(u, v));

  s.deleteUser("alice");
  assert.deepEqual(summary(s), {
    users: ["bob"],
    vhosts: ["/", "dev"],
    permissions: ["bob@/", "bob@dev"],
  });
  s.deleteVhost("dev");
  assert.deepEqual(summary(s), { users: ["bob"], vhosts: ["/"], permissions: ["bob@/"] });
  s.deletePermission("bob", "/");
  assert.deepEqual(summary(s), { users: ["bob"], vhosts: ["/"], permissions: [] });
  // Deleting what is not there is a no-op.
  s.deleteUser("nobody");
  s.deleteVhost("nowhere");
  s.deletePermission("bob", "nowhere");
  assert.deepEqual(summary(s), { users: ["bob"], vhosts: ["/"], permissions: [] });
  s.close();
});

Deno.test("MetadataStore: a transaction is stored whole or not at all", () => {
  const s = new MetadataStore(":memory:");
  s.putUser(user("keep"));
  assert.throws(() =>
    s.transaction(() => {
      s.putUser(user("half"));
      s.putVhost({ name: "half", description: "", tags: [] });
      s.deleteUser("keep");
      throw new Error("boom");
    }), /boom/);
  assert.deepEqual(summary(s), { users: ["keep"], vhosts: [], permissions: [] });

  // Nested transactions are flat: the inner one commits with the outer one.
  const out = s.transaction(() => {
    s.putUser(user("outer"));
    return s.transaction(() => {
      s.putUser(user("inner"));
      return 42;
    });
  });
  assert.equal(out, 42);
  assert.deepEqual(summary(s).users, ["inner", "keep", "outer"]);
  // A store still works after a rolled-back transaction.
  assert.throws(() =>
    s.transaction(() =>
      s.transaction(() => {
        s.putUser(user("gone"));
        throw new Error("inner boom");
      })
    )
  );
  assert.deepEqual(summary(s).users, ["inner", "keep", "outer"]);
  s.close();
});

Deno.test("MetadataStore: two stores open on one file see each other's commits", async () => {
  await withTempDir((dir) => {
    const path = `${dir}/${METADATA_FILE}`;
    let seeded = 0;
    const seed = (st: MetadataStore) => {
      seeded++;
      st.putVhost({ name: "/", description: "", tags: [] });
    };
    const server = new MetadataStore(path, seed);
    const cli = new MetadataStore(path, seed);
    assert.equal(seeded, 1);
    assert.equal(server.isNew, true);
    assert.equal(cli.isNew, false);

    cli.putUser(user("from-cli"));
    cli.putPermission(perm("from-cli", "/"));
    assert.deepEqual(summary(server), {
      users: ["from-cli"],
      vhosts: ["/"],
      permissions: ["from-cli@/"],
    });
    server.putUser(user("from-server"));
    server.deleteUser("from-cli");
    assert.deepEqual(summary(cli), { users: ["from-server"], vhosts: ["/"], permissions: [] });

    // A transaction in one is invisible to the other until it commits, and then all of it is.
    server.transaction(() => {
      server.putVhost({ name: "dev", description: "", tags: [] });
      server.putPermission(perm("from-server", "dev"));
      assert.deepEqual(summary(cli).vhosts, ["/"]);
    });
    assert.deepEqual(summary(cli), {
      users: ["from-server"],
      vhosts: ["/", "dev"],
      permissions: ["from-server@dev"],
    });
    cli.close();
    // Closing one leaves the other working.
    server.putUser(user("after"));
    assert.deepEqual(summary(server).users, ["after", "from-server"]);
    server.close();
  });
});

Deno.test("openBroker: seeds guest, / and full permissions once, on first open only", async () => {
  await withTempDir(async (dir) => {
    const dataDir = `${dir}/data`;
    const first = openBroker(dataDir, DEFAULT_CONFIG);
    try {
      assert.equal(first.store.isNew, true);
      assert.equal((await Deno.stat(dataDir)).mode! & 0o777, 0o700);
      await Deno.stat(`${dataDir}/${METADATA_FILE}`);
      const guest = first.broker.users.get("guest");
      assert.ok(guest);
      assert.deepEqual(guest.tags, ["administrator"]);
      assert.equal(guest.hashingAlgorithm, HASHING_ALGORITHM);
      assert.equal(verifyPassword("guest", guest.passwordHash), true);
      assert.ok(first.broker.vhosts.has("/"));
      const p = first.broker.permissions.get("guest", "/");
      assert.deepEqual([p?.configure, p?.write, p?.read], [".*", ".*", ".*"]);
      // The user deletes guest; it must not come back.
      first.store.deleteUser("guest");
      first.store.putUser(user("admin"));
    } finally {
      first.store.close();
    }

    // Reopening, even with other defaults, seeds nothing.
    const second = openBroker(dataDir, {
      ...DEFAULT_CONFIG,
      defaultUser: "other",
      defaultPass: "other",
      defaultVhost: "other",
    });
    try {
      assert.equal(second.store.isNew, false);
      assert.deepEqual(second.broker.users.list().map((u) => u.name), ["admin"]);
      assert.deepEqual([...second.broker.vhosts.keys()], ["/"]);
      assert.equal(second.broker.permissions.get("guest", "/"), undefined);
    } finally {
      second.store.close();
    }
  });
});

Deno.test("openBroker: seeds from the configured defaults; in memory without a data dir", () => {
  const { broker, store } = openBroker(undefined, {
    ...DEFAULT_CONFIG,
    defaultUser: "admin",
    defaultPass: "secret",
    defaultVhost: "main",
    defaultUserTags: ["management"],
    defaultPermissions: { configure: "^c", write: "^w", read: "^r" },
  });
  try {
    assert.equal(store.path, ":memory:");
    assert.deepEqual(broker.users.list().map((u) => [u.name, u.tags]), [["admin", ["management"]]]);
    assert.ok(broker.users.authenticate("admin", "secret"));
    assert.deepEqual([...broker.vhosts.keys()], ["main"]);
    const p = broker.permissions.get("admin", "main");
    assert.deepEqual([p?.configure, p?.write, p?.read], ["^c", "^w", "^r"]);
  } finally {
    store.close();
  }
});
