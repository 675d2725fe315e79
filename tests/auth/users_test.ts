/** Users: authentication against stored hashes, and the loopback-address rule. */
import assert from "node:assert/strict";
import { HASHING_ALGORITHM, hashPassword } from "../../src/auth/password.ts";
import { isLoopbackAddress, UserStore } from "../../src/auth/users.ts";

Deno.test("isLoopbackAddress: 127.0.0.0/8, ::1 and IPv4-mapped 127.x", () => {
  for (const a of ["127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopbackAddress(a), true, a);
  }
  for (
    const a of [
      "192.0.2.2",
      "10.0.0.1",
      "0.0.0.0",
      "1.127.0.0",
      "128.0.0.1",
      "::",
      "::2",
      "fe80::1",
      "fd00::2",
      "::ffff:10.0.0.1",
      "",
    ]
  ) {
    assert.equal(isLoopbackAddress(a), false, a);
  }
});

function store(): UserStore {
  const s = new UserStore();
  s.set({
    name: "alice",
    passwordHash: hashPassword("pw"),
    hashingAlgorithm: HASHING_ALGORITHM,
    tags: [],
  });
  s.set({ name: "nopass", passwordHash: "", hashingAlgorithm: HASHING_ALGORITHM, tags: [] });
  s.set({
    name: "md5",
    passwordHash: hashPassword("pw"),
    hashingAlgorithm: "rabbit_password_hashing_md5",
    tags: [],
  });
  return s;
}

Deno.test("UserStore.authenticate: the right password of a known user", () => {
  const s = store();
  assert.equal(s.authenticate("alice", "pw")?.name, "alice");
  assert.equal(s.authenticate("alice", "PW"), undefined);
  assert.equal(s.authenticate("alice", ""), undefined);
  assert.equal(s.authenticate("bob", "pw"), undefined);
  assert.equal(s.authenticate("Alice", "pw"), undefined);
});

Deno.test("UserStore.authenticate: users without a password hash cannot log in with one", () => {
  const s = store();
  assert.equal(s.authenticate("nopass", ""), undefined);
  assert.equal(s.authenticate("nopass", "anything"), undefined);
  // A hash for another algorithm is not checked as SHA-256.
  assert.equal(s.authenticate("md5", "pw"), undefined);
});

Deno.test("UserStore: set replaces, delete removes, list sorts", () => {
  const s = store();
  s.set({
    name: "alice",
    passwordHash: hashPassword("new"),
    hashingAlgorithm: HASHING_ALGORITHM,
    tags: ["x"],
  });
  assert.equal(s.authenticate("alice", "pw"), undefined);
  assert.equal(s.authenticate("alice", "new")?.tags[0], "x");
  assert.deepEqual(s.list().map((u) => u.name), ["alice", "md5", "nopass"]);
  assert.equal(s.delete("alice"), true);
  assert.equal(s.delete("alice"), false);
  assert.equal(s.get("alice"), undefined);
  assert.equal(s.authenticate("alice", "new"), undefined);
});
