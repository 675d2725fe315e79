/**
 * Topic exchange bindings: a trie over the words of the binding patterns, matched by walking it
 * with the routing key's words.
 *
 * Semantics are RabbitMQ 3.10's (`split_topic_key`, `trie_match` in rabbit_exchange_type_topic;
 * checked against a live 3.10.8 broker):
 * - a key is split on every "." into words; the empty key has no words at all, while "a." is the
 *   two words "a" and "" (an empty word is a word: `*` matches it);
 * - `*` matches exactly one word and `#` zero or more; they are wildcards only as whole words
 *   ("a*" is a literal word), and a routing key's own "*" or "#" words are ordinary words;
 * - so "#" matches every key including "", "a.#" matches "a", "#.a" matches "a", "a.*" matches
 *   "a." but not "a", "*" does not match "" (no words) and "*.*" matches "." (two empty words).
 *
 * Matching runs the trie as an automaton: the set of nodes reachable after each word, deduplicated
 * per word, so a pattern such as "#.#.#.x" costs O(words × nodes), never exponential time.
 *
 * ```ts
 * const t = new TopicTrie<string>();
 * t.add("*.orange.*", "Q1");
 * t.add("lazy.#", "Q2");
 * const out = new Set<string>();
 * t.match("lazy.orange.elephant", out); // out: Q1, Q2
 * ```
 */

/** Routing keys whose results are remembered between changes to the bindings. */
const CACHE_MAX = 1024;
/** Matches to run uncached after a full cache proved mostly useless. */
const CACHE_PAUSE = 65536;

class TrieNode<T> {
  /** Children by literal word. */
  words: Map<string, TrieNode<T>> | null = null;
  /** The `*` child. */
  star: TrieNode<T> | null = null;
  /** The `#` child. */
  hash: TrieNode<T> | null = null;
  /** Values bound with the pattern that ends here. */
  values: Set<T> | null = null;
  /** Last match step this node was put in the active set (dedupes the active set). */
  mark = 0;

  /**
   * `word` is the edge from the parent ("*" and "#" for the wildcard children); a node reached
   * through a `#` edge stays active while the `#` swallows more words.
   */
  constructor(readonly word: string, readonly isHash: boolean) {}

  isEmpty(): boolean {
    return this.values === null && this.words === null && this.star === null &&
      this.hash === null;
  }
}

export class TopicTrie<T> {
  #root = new TrieNode<T>("", false);
  #size = 0;
  // Scratch arrays reused by match(): the active node sets before and after a word.
  #cur: TrieNode<T>[] = [];
  #next: TrieNode<T>[] = [];
  #step = 0;
  // Results by routing key, dropped on every add/remove: publishers tend to reuse a few keys.
  // When a full cache has served fewer hits than it holds keys (keys mostly unique), caching is
  // paused for CACHE_PAUSE matches, since filling it would only cost time.
  #cache = new Map<string, T[]>();
  #hits = 0;
  #pause = 0;

  /** Number of (pattern, value) pairs held. */
  get size(): number {
    return this.#size;
  }

  /** Adds `value` under `pattern`; false when that exact pair was already there. */
  add(pattern: string, value: T): boolean {
    let node = this.#root;
    for (const word of splitKey(pattern)) node = child(node, word);
    if (node.values === null) node.values = new Set();
    else if (node.values.has(value)) return false;
    node.values.add(value);
    this.#size++;
    if (this.#cache.size > 0) this.#cache.clear();
    return true;
  }

  /** Whether `value` is held under exactly `pattern`. */
  has(pattern: string, value: T): boolean {
    const path = this.#path(pattern);
    return path !== null && path[path.length - 1].values?.has(value) === true;
  }

  /** Removes `value` from `pattern`, pruning nodes left empty; false when it was not there. */
  remove(pattern: string, value: T): boolean {
    const path = this.#path(pattern);
    if (path === null) return false;
    const last = path[path.length - 1];
    if (last.values === null || !last.values.delete(value)) return false;
    if (last.values.size === 0) last.values = null;
    this.#size--;
    if (this.#cache.size > 0) this.#cache.clear();
    for (let i = path.length - 1; i > 0 && path[i].isEmpty(); i--) unlink(path[i - 1], path[i]);
    return true;
  }

  /** Removes everything. */
  clear(): void {
    this.#root = new TrieNode<T>("", false);
    this.#size = 0;
    this.#cache.clear();
  }

  /** Adds to `out` every value whose pattern matches `routingKey`. */
  match(routingKey: string, out: Set<T>): void {
    if (this.#size === 0) return;
    const caching = this.#pause === 0;
    if (caching) {
      const cached = this.#cache.get(routingKey);
      if (cached !== undefined) {
        this.#hits++;
        for (let i = 0; i < cached.length; i++) out.add(cached[i]);
        return;
      }
    } else this.#pause--;
    let cur = this.#cur;
    let next = this.#next;
    cur.length = 0;
    let step = this.#nextStep();
    activate(this.#root, cur, step);

    const key = routingKey;
    const len = key.length;
    // The empty key has no words; otherwise there are (number of dots + 1) words.
    let start = len === 0 ? 1 : 0;
    while (start <= len && cur.length > 0) {
      let dot = key.indexOf(".", start);
      if (dot < 0) dot = len;
      const word = key.slice(start, dot);
      start = dot + 1;
      step = this.#nextStep();
      next.length = 0;
      for (let i = 0; i < cur.length; i++) {
        const node = cur[i];
        if (node.isHash) activate(node, next, step);
        if (node.words !== null) {
          const c = node.words.get(word);
          if (c !== undefined) activate(c, next, step);
        }
        if (node.star !== null) activate(node.star, next, step);
      }
      const t = cur;
      cur = next;
      next = t;
    }

    if (!caching) {
      for (let i = 0; i < cur.length; i++) {
        const values = cur[i].values;
        if (values !== null) { for (const v of values) out.add(v); }
      }
    } else {
      const found: T[] = [];
      for (let i = 0; i < cur.length; i++) {
        const values = cur[i].values;
        if (values !== null) { for (const v of values) found.push(v); }
      }
      const cache = this.#cache;
      if (cache.size >= CACHE_MAX) {
        if (this.#hits < CACHE_MAX) this.#pause = CACHE_PAUSE;
        this.#hits = 0;
        cache.clear();
      }
      cache.set(routingKey, found);
      for (let i = 0; i < found.length; i++) out.add(found[i]);
    }
    cur.length = 0;
    next.length = 0;
  }

  #nextStep(): number {
    if (this.#step >= 0x3fffffff) {
      // Stamps wrap only after ~10^9 words routed; reset every node's mark first.
      const stack = [this.#root];
      while (stack.length > 0) {
        const n = stack.pop()!;
        n.mark = 0;
        if (n.words !== null) { for (const c of n.words.values()) stack.push(c); }
        if (n.star !== null) stack.push(n.star);
        if (n.hash !== null) stack.push(n.hash);
      }
      this.#step = 0;
    }
    return ++this.#step;
  }

  /** The nodes from the root to `pattern`'s node, or null when the pattern has no node. */
  #path(pattern: string): TrieNode<T>[] | null {
    const path: TrieNode<T>[] = [this.#root];
    let node = this.#root;
    for (const word of splitKey(pattern)) {
      const next = word === "*" ? node.star : word === "#" ? node.hash : node.words?.get(word);
      if (next === null || next === undefined) return null;
      path.push(next);
      node = next;
    }
    return path;
  }
}

/** Puts `node` in the active set, with the `#` children that can match zero words after it. */
function activate<T>(node: TrieNode<T>, set: TrieNode<T>[], step: number): void {
  let n: TrieNode<T> | null = node;
  while (n !== null && n.mark !== step) {
    n.mark = step;
    set.push(n);
    n = n.hash;
  }
}

/** A topic key's words: the empty key has none ("a." is "a" and ""). */
function splitKey(key: string): string[] {
  return key.length === 0 ? [] : key.split(".");
}

function child<T>(node: TrieNode<T>, word: string): TrieNode<T> {
  if (word === "*") return node.star ??= new TrieNode<T>(word, false);
  if (word === "#") return node.hash ??= new TrieNode<T>(word, true);
  node.words ??= new Map();
  let c = node.words.get(word);
  if (c === undefined) {
    c = new TrieNode<T>(word, false);
    node.words.set(word, c);
  }
  return c;
}

function unlink<T>(parent: TrieNode<T>, node: TrieNode<T>): void {
  if (parent.star === node) parent.star = null;
  else if (parent.hash === node) parent.hash = null;
  else if (parent.words !== null) {
    parent.words.delete(node.word);
    if (parent.words.size === 0) parent.words = null;
  }
}
