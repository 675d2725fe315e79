import assert from "node:assert/strict";
import { TopicTrie } from "../../src/broker/topic_trie.ts";

function matches<T>(trie: TopicTrie<T>, key: string): T[] {
  const out = new Set<T>();
  trie.match(key, out);
  return [...out].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
}

/** Does `pattern` match `key`? One pattern, one trie. */
function one(pattern: string, key: string): boolean {
  const t = new TopicTrie<number>();
  t.add(pattern, 1);
  return matches(t, key).length === 1;
}

/**
 * A reference matcher written straight from RabbitMQ's rules (split_topic_key, then `*` = one word,
 * `#` = zero or more), used to check the trie on random input.
 */
function reference(pattern: string, key: string): boolean {
  const split = (s: string) => s === "" ? [] : s.split(".");
  const p = split(pattern);
  const k = split(key);
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const id = i * 1000 + j;
    const hit = memo.get(id);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === p.length) r = j === k.length;
    else if (p[i] === "#") r = go(i + 1, j) || (j < k.length && go(i, j + 1));
    else r = j < k.length && (p[i] === "*" || p[i] === k[j]) && go(i + 1, j + 1);
    memo.set(id, r);
    return r;
  };
  return go(0, 0);
}

Deno.test("topic: RabbitMQ tutorial five examples", () => {
  const t = new TopicTrie<string>();
  t.add("*.orange.*", "Q1");
  t.add("*.*.rabbit", "Q2");
  t.add("lazy.#", "Q2");
  assert.deepEqual(matches(t, "quick.orange.rabbit"), ["Q1", "Q2"]);
  assert.deepEqual(matches(t, "lazy.orange.elephant"), ["Q1", "Q2"]);
  assert.deepEqual(matches(t, "quick.orange.fox"), ["Q1"]);
  assert.deepEqual(matches(t, "lazy.brown.fox"), ["Q2"]);
  assert.deepEqual(matches(t, "lazy.pink.rabbit"), ["Q2"]); // once, though two bindings match
  assert.deepEqual(matches(t, "quick.brown.fox"), []);
  assert.deepEqual(matches(t, "orange"), []);
  assert.deepEqual(matches(t, "quick.orange.male.rabbit"), []);
  assert.deepEqual(matches(t, "lazy.orange.male.rabbit"), ["Q2"]);
  assert.deepEqual(matches(t, "lazy"), ["Q2"]);
});

Deno.test("topic: the empty key has no words; empty words are words", () => {
  // split_topic_key(<<>>) = [], split_topic_key(<<"a.">>) = ["a", ""].
  assert.equal(one("", ""), true);
  assert.equal(one("#", ""), true);
  assert.equal(one("#.#", ""), true);
  assert.equal(one("*", ""), false);
  assert.equal(one("", "a"), false);
  assert.equal(one("a", ""), false);
  assert.equal(one("*", "."), false);
  assert.equal(one("*.*", "."), true);
  assert.equal(one(".", "."), true);
  assert.equal(one(".", ""), false);
  assert.equal(one("a.*", "a."), true);
  assert.equal(one("a.*", "a"), false);
  assert.equal(one("a.", "a."), true);
  assert.equal(one("a.", "a"), false);
  assert.equal(one("*.a", ".a"), true);
  assert.equal(one("a.*.b", "a..b"), true);
  assert.equal(one("a..b", "a..b"), true);
  assert.equal(one("a.b", "a..b"), false);
  assert.equal(one("#", "."), true);
  assert.equal(one("#", ".."), true);
  assert.equal(one("a.#", "a."), true);
  assert.equal(one("#.", "a."), true);
  assert.equal(one("#.", "a"), false);
});

Deno.test("topic: # alone, at the start, in the middle, at the end", () => {
  for (const key of ["", "a", "a.b", "a.b.c.d.e", ".", "#", "*"]) assert.equal(one("#", key), true);

  assert.equal(one("a.#", "a"), true);
  assert.equal(one("a.#", "a.b"), true);
  assert.equal(one("a.#", "a.b.c"), true);
  assert.equal(one("a.#", "b"), false);
  assert.equal(one("a.#", "b.a"), false);
  assert.equal(one("a.#", ""), false);

  assert.equal(one("#.a", "a"), true);
  assert.equal(one("#.a", "x.a"), true);
  assert.equal(one("#.a", "x.y.z.a"), true);
  assert.equal(one("#.a", "a.x"), false);
  assert.equal(one("#.a", ""), false);

  assert.equal(one("a.#.b", "a.b"), true);
  assert.equal(one("a.#.b", "a.x.b"), true);
  assert.equal(one("a.#.b", "a.x.y.b"), true);
  assert.equal(one("a.#.b", "a.b.b"), true);
  assert.equal(one("a.#.b", "a.b.c"), false);
  assert.equal(one("a.#.b", "a"), false);
  assert.equal(one("a.#.b", "b"), false);

  assert.equal(one("#.a.#", "a"), true);
  assert.equal(one("#.a.#", "x.a.y"), true);
  assert.equal(one("#.a.#", "x.y"), false);
  assert.equal(one("#.#", "a.b.c"), true);
  assert.equal(one("#.*", ""), false);
  assert.equal(one("#.*", "a"), true);
  assert.equal(one("*.#", "a"), true);
  assert.equal(one("*.#", ""), false);
  assert.equal(one("#.*.#", "a"), true);
  assert.equal(one("#.*.*.#", "a"), false);
  assert.equal(one("#.*.*.#", "a.b"), true);
  assert.equal(one("a.#.#.b", "a.b"), true);
  assert.equal(one("a.#.*.#.b", "a.b"), false);
  assert.equal(one("a.#.*.#.b", "a.x.b"), true);
});

Deno.test("topic: * matches exactly one word", () => {
  assert.equal(one("*", "a"), true);
  assert.equal(one("*", "a.b"), false);
  assert.equal(one("*.b", "a.b"), true);
  assert.equal(one("a.*", "a.b"), true);
  assert.equal(one("a.*", "a.b.c"), false);
  assert.equal(one("*.*", "a.b"), true);
  assert.equal(one("*.*", "a"), false);
  assert.equal(one("a.*.c", "a.b.c"), true);
  assert.equal(one("a.*.c", "a.c"), false);
});

Deno.test("topic: wildcards only as whole words; key wildcards are literal words", () => {
  assert.equal(one("a*", "ab"), false);
  assert.equal(one("a*", "a*"), true);
  assert.equal(one("#a", "a"), false);
  assert.equal(one("#a", "#a"), true);
  assert.equal(one("a.b", "a.*"), false);
  assert.equal(one("a.*", "a.*"), true);
  assert.equal(one("a.#", "a.#"), true);
  assert.equal(one("a.b", "a.#"), false);
  assert.equal(one("a", "A"), false);
  assert.equal(one("ä.ö", "ä.ö"), true);
});

Deno.test("topic: several values per pattern, add/remove bookkeeping", () => {
  const t = new TopicTrie<string>();
  assert.equal(t.add("a.*", "q1"), true);
  assert.equal(t.add("a.*", "q2"), true);
  assert.equal(t.add("a.*", "q1"), false);
  assert.equal(t.add("a.#", "q1"), true);
  assert.equal(t.add("#", "q3"), true);
  assert.equal(t.size, 4);
  assert.deepEqual(matches(t, "a.b"), ["q1", "q2", "q3"]);
  assert.equal(t.has("a.*", "q2"), true);
  assert.equal(t.has("a.*", "q3"), false);
  assert.equal(t.has("a.b", "q1"), false);

  assert.equal(t.remove("a.*", "q1"), true);
  assert.equal(t.remove("a.*", "q1"), false);
  assert.equal(t.remove("a.b", "q1"), false);
  assert.equal(t.remove("x.y.z", "q1"), false);
  assert.equal(t.size, 3);
  assert.deepEqual(matches(t, "a.b"), ["q1", "q2", "q3"]); // q1 still via a.#
  assert.equal(t.remove("a.#", "q1"), true);
  assert.deepEqual(matches(t, "a.b"), ["q2", "q3"]);
  assert.deepEqual(matches(t, "a"), ["q3"]);
  assert.equal(t.remove("#", "q3"), true);
  assert.equal(t.remove("a.*", "q2"), true);
  assert.equal(t.size, 0);
  assert.deepEqual(matches(t, "a.b"), []);
  // Removing a prefix pattern leaves longer patterns through the same nodes alone.
  t.add("a", "x");
  t.add("a.b.c", "y");
  t.remove("a", "x");
  assert.deepEqual(matches(t, "a.b.c"), ["y"]);
  assert.deepEqual(matches(t, "a"), []);
  t.add("a", "x");
  t.remove("a.b.c", "y");
  assert.deepEqual(matches(t, "a"), ["x"]);
  t.clear();
  assert.equal(t.size, 0);
  assert.deepEqual(matches(t, "a"), []);
});

Deno.test("topic: values are compared by identity and the out set is only added to", () => {
  const t = new TopicTrie<{ name: string }>();
  const a = { name: "a" };
  const b = { name: "a" };
  assert.equal(t.add("k", a), true);
  assert.equal(t.add("k", b), true);
  const out = new Set<{ name: string }>([{ name: "before" }]);
  t.match("k", out);
  assert.equal(out.size, 3);
});

Deno.test("topic: pruned nodes are rebuilt cleanly", () => {
  const t = new TopicTrie<number>();
  for (let round = 0; round < 3; round++) {
    t.add("a.#.b", 1);
    t.add("a.*.b", 2);
    assert.deepEqual(matches(t, "a.x.b"), [1, 2]);
    t.remove("a.#.b", 1);
    t.remove("a.*.b", 2);
    assert.deepEqual(matches(t, "a.x.b"), []);
    assert.equal(t.size, 0);
  }
});

Deno.test("topic: many # do not blow up", () => {
  const t = new TopicTrie<number>();
  t.add("#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.#.x", 1);
  t.add("#.a.#.a.#.a.#.a.#.a.#.a.#.b", 2);
  const key = Array(120).fill("a").join("."); // 239 bytes: under the 255 limit
  const start = performance.now();
  assert.deepEqual(matches(t, key), []);
  assert.deepEqual(matches(t, key + ".x"), [1]);
  assert.deepEqual(matches(t, key + ".b"), [2]);
  assert.ok(performance.now() - start < 1000);
});

Deno.test("topic: 100k bindings, exact and wildcard", () => {
  const t = new TopicTrie<number>();
  const n = 100_000;
  for (let i = 0; i < n; i++) t.add(`stock.${i % 100}.${i}`, i);
  t.add("stock.*.42", -1);
  t.add("stock.#", -2);
  assert.equal(t.size, n + 2);
  assert.deepEqual(matches(t, "stock.42.42"), [-2, -1, 42]);
  assert.deepEqual(matches(t, "stock.7.99907"), [-2, 99907]);
  assert.deepEqual(matches(t, "stock.8.99907"), [-2]);
  for (let i = 0; i < n; i += 2) assert.equal(t.remove(`stock.${i % 100}.${i}`, i), true);
  assert.equal(t.size, n / 2 + 2);
  assert.deepEqual(matches(t, "stock.42.42"), [-2, -1]);
  assert.deepEqual(matches(t, "stock.43.43"), [-2, 43]);
});

Deno.test("topic: agrees with a reference matcher on random patterns and keys", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const words = ["a", "b", "c", ""];
  const patWords = [...words, "*", "#"];
  const make = (pool: string[], max: number) => {
    const n = rand(max + 1);
    if (n === 0) return "";
    const ws: string[] = [];
    for (let i = 0; i < n; i++) ws.push(pool[rand(pool.length)]);
    return ws.join(".");
  };
  const patterns: string[] = [];
  const t = new TopicTrie<string>();
  for (let i = 0; i < 400; i++) {
    const p = make(patWords, 5);
    if (t.add(p, p)) patterns.push(p);
  }
  for (let i = 0; i < 1500; i++) {
    const key = make(words, 6);
    const expected = patterns.filter((p) => reference(p, key)).sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    assert.deepEqual(matches(t, key), expected, `key ${JSON.stringify(key)}`);
  }
  // Remove half, check again.
  for (const p of patterns.splice(0, patterns.length / 2)) assert.equal(t.remove(p, p), true);
  assert.equal(t.size, patterns.length);
  for (let i = 0; i < 500; i++) {
    const key = make(words, 6);
    const expected = patterns.filter((p) => reference(p, key)).sort((a, b) =>
      a < b ? -1 : a > b ? 1 : 0
    );
    assert.deepEqual(matches(t, key), expected, `key ${JSON.stringify(key)}`);
  }
});

Deno.test("topic: remembered results follow every change, across many distinct keys", () => {
  const t = new TopicTrie<string>();
  t.add("k.*", "star");
  t.add("k.#", "hash");
  // More distinct keys than the result cache holds, twice over, then repeats.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5000; i++) {
      const key = round === 2 ? `k.${i % 10}` : `k.${i}`;
      assert.deepEqual(matches(t, key), ["hash", "star"], key);
    }
  }
  assert.deepEqual(matches(t, "k.1"), ["hash", "star"]);
  t.add("k.1", "exact");
  assert.deepEqual(matches(t, "k.1"), ["exact", "hash", "star"]);
  t.remove("k.*", "star");
  assert.deepEqual(matches(t, "k.1"), ["exact", "hash"]);
  assert.deepEqual(matches(t, "k.2"), ["hash"]);
  t.clear();
  assert.deepEqual(matches(t, "k.1"), []);
  t.add("#", "all");
  assert.deepEqual(matches(t, "k.1"), ["all"]);
});
