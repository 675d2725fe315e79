/**
 * Exact accounting of a soak run's message ids. Every message carries (publisher index, sequence
 * number); each publisher's confirmed and received sequence numbers are kept as bit sets, so loss
 * and duplicates are counted exactly (a million ids cost 125 KB per set).
 *
 *   const ledger = new Ledger(2);
 *   ledger.sent(0); ledger.confirmed(0, 0);        // publisher 0 sent seq 0, the broker confirmed it
 *   ledger.mergeReceived(0, receivedBits);         // what the consumers saw (from their worker)
 *   const t = ledger.tally(20);                    // t.lost === 0 unless a confirmed id never came
 *
 * @module
 */

/** Byte layout of a soak message body (bodies may be longer; the rest is padding). */
export const BODY = {
  /** float64, little-endian: wall-clock publish time in ms (see bench/util.ts wallNow). */
  time: 0,
  /** uint32, little-endian: the publisher's index. */
  publisher: 8,
  /** uint32, little-endian: the publisher's sequence number, from 0. */
  seq: 12,
  /** The smallest body that carries the fields above. */
  minSize: 16,
} as const;

/** A growable set of non-negative integers below 2^32, one bit each. */
export class SeqSet {
  #bits: Uint8Array;
  #size = 0;

  constructor(bits?: Uint8Array) {
    this.#bits = bits ?? new Uint8Array(256);
    if (bits) { for (const b of bits) this.#size += popcount(b); }
  }

  /** Number of members. */
  get size(): number {
    return this.#size;
  }

  /** The backing bytes (bit n is bit n%8 of byte n>>3), e.g. to post them to another thread. */
  get bits(): Uint8Array {
    return this.#bits;
  }

  /** Adds `n`; false when it was already a member. */
  add(n: number): boolean {
    const i = n >>> 3;
    if (i >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    const mask = 1 << (n & 7);
    if (this.#bits[i] & mask) return false;
    this.#bits[i] |= mask;
    this.#size++;
    return true;
  }

  has(n: number): boolean {
    const i = n >>> 3;
    return i < this.#bits.length && (this.#bits[i] & (1 << (n & 7))) !== 0;
  }

  /** Adds every member of `other`; returns how many were already members. */
  merge(other: SeqSet): number {
    let overlap = 0;
    const src = other.bits;
    for (let i = 0; i < src.length; i++) {
      const b = src[i];
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (b & (1 << bit) && !this.add(i * 8 + bit)) overlap++;
      }
    }
    return overlap;
  }
}

function popcount(b: number): number {
  let n = 0;
  for (; b; b &= b - 1) n++;
  return n;
}

/** The outcome of a run, by message id. */
export interface Tally {
  /** basic.publish calls made. */
  sent: number;
  /** Publishes the broker acked (basic.ack in confirm mode). */
  confirmed: number;
  /** Publishes the broker nacked, or that failed (their channel closed before a confirm). */
  nacked: number;
  /** Distinct ids received by the consumers. */
  received: number;
  /** Confirmed ids never received: the broker lost them. */
  lost: number;
  /** Up to the asked-for number of lost ids, as "p<publisher>#<seq>". */
  lostIds: string[];
  /** Ids received although their confirm never came (the run ended before it did, say). */
  receivedUnconfirmed: number;
  /** Ids neither confirmed nor received (no promise was made for them; not counted as lost). */
  unconfirmedMissing: number;
  /** Ids received that were never sent: corrupt bodies or a broker inventing messages. */
  unknown: number;
}

/** Per-publisher sent/confirmed/received ids of one run. */
export class Ledger {
  readonly #sent: number[];
  readonly #confirmed: SeqSet[];
  readonly #received: SeqSet[];
  #nacked = 0;

  constructor(readonly publishers: number) {
    this.#sent = new Array(publishers).fill(0);
    this.#confirmed = Array.from({ length: publishers }, () => new SeqSet());
    this.#received = Array.from({ length: publishers }, () => new SeqSet());
  }

  /** Takes the next sequence number of `publisher` (ids are handed out in order). */
  sent(publisher: number): number {
    return this.#sent[publisher]++;
  }

  /** How many ids `publisher` has taken so far. */
  sentBy(publisher: number): number {
    return this.#sent[publisher];
  }

  confirmed(publisher: number, seq: number): void {
    this.#confirmed[publisher].add(seq);
  }

  /** A publish the broker nacked, or whose channel closed before its confirm. */
  nacked(): void {
    this.#nacked++;
  }

  /** Adds ids the consumers received; returns how many had been received already. */
  mergeReceived(publisher: number, ids: SeqSet): number {
    return this.#received[publisher].merge(ids);
  }

  /** Records one id received outside the consumers (e.g. fetched from a queue after the run). */
  received(publisher: number, seq: number): boolean {
    return this.#received[publisher].add(seq);
  }

  /** Counts everything; lists at most `listLost` lost ids. */
  tally(listLost: number): Tally {
    const t: Tally = {
      sent: 0,
      confirmed: 0,
      nacked: this.#nacked,
      received: 0,
      lost: 0,
      lostIds: [],
      receivedUnconfirmed: 0,
      unconfirmedMissing: 0,
      unknown: 0,
    };
    for (let p = 0; p < this.publishers; p++) {
      const sent = this.#sent[p];
      const conf = this.#confirmed[p];
      const recv = this.#received[p];
      t.sent += sent;
      t.confirmed += conf.size;
      t.received += recv.size;
      let known = 0;
      for (let seq = 0; seq < sent; seq++) {
        const c = conf.has(seq);
        const r = recv.has(seq);
        if (r) known++;
        if (c && !r) {
          t.lost++;
          if (t.lostIds.length < listLost) t.lostIds.push(`p${p}#${seq}`);
        } else if (!c && r) t.receivedUnconfirmed++;
        else if (!c && !r) t.unconfirmedMissing++;
      }
      // Members at or past `sent` were never published.
      t.unknown += recv.size - known;
    }
    return t;
  }
}
