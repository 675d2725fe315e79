/**
 * Permission patterns as RabbitMQ matches them (re:run on the resource name): unanchored regular
 * expressions, an empty pattern allowing nothing, the default exchange checked as `amq.default`.
 */
import assert from "node:assert/strict";
import {
  invalidPattern,
  Permission,
  PermissionTable,
  resourceName,
  resourceRefused,
} from "../../src/auth/permissions.ts";

const allows = (pattern: string, name: string) =>
  new Permission(pattern, pattern, pattern).allows("configure", name);

Deno.test("permission patterns: unanchored unless the pattern anchors itself", () => {
  assert.equal(allows("foo", "foo"), true);
  assert.equal(allows("foo", "xfooy"), true);
  assert.equal(allows("foo", "fo"), false);
  assert.equal(allows("^foo", "foo-bar"), true);
  assert.equal(allows("^foo", "x-foo"), false);
  assert.equal(allows("foo$", "x-foo"), true);
  assert.equal(allows("foo$", "foo-x"), false);
  assert.equal(allows("^foo$", "foo"), true);
  assert.equal(allows("^foo$", "foo2"), false);
  assert.equal(allows("^(cfg|all)-", "all-q"), true);
  assert.equal(allows("^(cfg|all)-", "w-q"), false);
});

Deno.test("permission patterns: '' denies everything, '.*' allows everything", () => {
  for (const name of ["", "a", "amq.default", "amq.gen-abc", "anything at all"]) {
    assert.equal(allows("", name), false, name);
    assert.equal(allows(".*", name), true, name);
  }
  // '^$' is not the empty pattern: it matches the empty name only.
  assert.equal(allows("^$", ""), true);
  assert.equal(allows("^$", "a"), false);
});

Deno.test("permission patterns: amq.gen and amq.default", () => {
  assert.equal(allows("^amq\\.gen.*", "amq.gen-JzTY20BRgKO-HjmUJj0wLg"), true);
  assert.equal(allows("^amq\\.gen.*", "amqXgen-1"), false);
  assert.equal(allows("^amq\\.gen.*", "x.amq.gen-1"), false);
  // An unescaped dot matches any character, as in RabbitMQ.
  assert.equal(allows("^amq.gen", "amqXgen-1"), true);
  assert.equal(allows("^amq\\.default$", resourceName("exchange", "")), true);
  assert.equal(resourceName("exchange", ""), "amq.default");
  assert.equal(resourceName("queue", ""), "");
  assert.equal(resourceName("exchange", "x"), "x");
});

Deno.test("permission patterns: case-sensitive, and each kind has its own pattern", () => {
  assert.equal(allows("^Foo", "foo"), false);
  const p = new Permission("^c-", "^w-", "^r-");
  assert.deepEqual(
    ["configure", "write", "read"].map((k) =>
      ["c-1", "w-1", "r-1"].filter((n) => p.allows(k as "configure" | "write" | "read", n))
    ),
    [["c-1"], ["w-1"], ["r-1"]],
  );
  assert.equal(p.configure, "^c-");
  assert.equal(p.write, "^w-");
  assert.equal(p.read, "^r-");
});

Deno.test("invalidPattern: says why a pattern does not compile", () => {
  for (const ok of ["", ".*", "^amq\\.gen.*", "^(a|b)-[0-9]+$"]) {
    assert.equal(invalidPattern(ok), null);
  }
  for (const bad of ["(", "[a-", "*", "a{2,1}"]) {
    const why = invalidPattern(bad);
    assert.equal(typeof why, "string", bad);
    assert.notEqual(why, "");
  }
});

Deno.test("resourceRefused: RabbitMQ's 403 text", () => {
  const e = resourceRefused("exchange", "", "/", "bob");
  assert.equal(e.code, 403);
  assert.equal(
    e.text,
    "ACCESS_REFUSED - access to exchange 'amq.default' in vhost '/' refused for user 'bob'",
  );
  assert.equal(
    resourceRefused("queue", "q1", "dev", "alice").text,
    "ACCESS_REFUSED - access to queue 'q1' in vhost 'dev' refused for user 'alice'",
  );
});

Deno.test("PermissionTable: per user and vhost, with a version bumped on every change", () => {
  const t = new PermissionTable();
  const v0 = t.version;
  t.set("alice", "/", new Permission(".*", ".*", ".*"));
  t.set("alice", "dev", new Permission("", "", ""));
  t.set("bob", "/", new Permission("^b", "^b", "^b"));
  assert.ok(t.version > v0);
  assert.equal(t.get("alice", "/")?.configure, ".*");
  assert.equal(t.get("alice", "dev")?.configure, "");
  assert.equal(t.get("bob", "dev"), undefined);
  assert.equal(t.get("carol", "/"), undefined);
  assert.deepEqual(t.list().map((e) => `${e.vhost}:${e.user}`), ["/:alice", "/:bob", "dev:alice"]);

  const v1 = t.version;
  assert.equal(t.delete("bob", "/"), true);
  assert.ok(t.version > v1);
  assert.equal(t.get("bob", "/"), undefined);

  t.set("bob", "/", new Permission("^b", "^b", "^b"));
  const v2 = t.version;
  t.deleteWhere({ user: "alice" });
  assert.ok(t.version > v2);
  assert.deepEqual(t.list().map((e) => `${e.vhost}:${e.user}`), ["/:bob"]);
  t.set("carol", "dev", new Permission("", "", ""));
  t.deleteWhere({ vhost: "/" });
  assert.deepEqual(t.list().map((e) => `${e.vhost}:${e.user}`), ["dev:carol"]);
});

Deno.test("PermissionTable: user and vhost names cannot collide through the key", () => {
  const t = new PermissionTable();
  t.set("a", "b/c", new Permission(".*", "", ""));
  assert.equal(t.get("a/b", "c"), undefined);
  assert.equal(t.get("a", "b/c")?.configure, ".*");
});
