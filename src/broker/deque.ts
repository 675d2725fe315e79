/**
 * A ring-buffer double-ended queue: O(1) push/shift at both ends at any depth (Array.shift is
 * linear past ~10 k entries), plus an ordered insert used to put requeued messages back in place.
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.items = new Array(cap);
  }

  get length(): number {
    return this.count;
  }

  private grow(): void {
    const old = this.items;
    const next = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }

  push(v: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = v;
    this.count++;
  }

  unshift(v: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = v;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return v;
  }

  peekLast(): T | undefined {
    return this.count === 0
      ? undefined
      : this.items[(this.head + this.count - 1) & (this.items.length - 1)];
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  at(i: number): T {
    return this.items[(this.head + i) & (this.items.length - 1)] as T;
  }

  /**
   * Inserts `v` before the first item for which `before(v, item)` holds, scanning from the front:
   * cheap when `v` belongs near the head, as requeued messages do.
   */
  insertOrdered(v: T, before: (a: T, b: T) => boolean): void {
    let i = 0;
    while (i < this.count && !before(v, this.at(i))) i++;
    if (i === 0) return this.unshift(v);
    if (i === this.count) return this.push(v);
    this.push(v); // grow if needed, then shift the tail right by one
    const mask = this.items.length - 1;
    for (let j = this.count - 1; j > i; j--) {
      this.items[(this.head + j) & mask] = this.items[(this.head + j - 1) & mask];
    }
    this.items[(this.head + i) & mask] = v;
  }

  clear(): void {
    this.items = new Array(16);
    this.head = 0;
    this.count = 0;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }
}
