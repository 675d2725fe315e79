/**
 * A log-bucketed latency histogram (1 % relative precision, 1 µs to ~30 min) so that millions of
 * samples cost a fixed 2,200 counters.
 *
 * @module
 */

const GROWTH = Math.log(1.01);
const BUCKETS = 2200;

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** A histogram's counters, for posting between workers. */
export interface HistogramState {
  counts: number[];
  count: number;
  sum: number;
  max: number;
}

/** Records durations in milliseconds; reports percentiles accurate to about 1 %. */
export class Histogram {
  #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Adds one sample, in milliseconds. */
  record(ms: number): void {
    if (!(ms >= 0)) ms = 0;
    const us = ms * 1000;
    const b = us < 1 ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(us) / GROWTH) + 1);
    this.#counts[b]++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** The counters, as plain data. */
  state(): HistogramState {
    return { counts: [...this.#counts], count: this.#count, sum: this.#sum, max: this.#max };
  }

  /** Adds the samples of another histogram's state. */
  merge(s: HistogramState): void {
    for (let b = 0; b < BUCKETS; b++) this.#counts[b] += s.counts[b] ?? 0;
    this.#count += s.count;
    this.#sum += s.sum;
    if (s.max > this.#max) this.#max = s.max;
  }

  /** Number of samples. */
  get count(): number {
    return this.#count;
  }

  /** The value (ms) below which the fraction `q` of samples lie. */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const target = Math.ceil(q * this.#count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b];
      if (seen >= target) {
        const upperUs = b === 0 ? 1 : Math.exp(b * GROWTH);
        return Math.min(upperUs / 1000, this.#max);
      }
    }
    return this.#max;
  }

  /** p50/p95/p99/max/mean in milliseconds. */
  summary(): LatencySummary {
    return {
      count: this.#count,
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
      max: this.#max,
      mean: this.#count ? this.#sum / this.#count : 0,
    };
  }
}

/** A summary with its milliseconds rounded to `digits` decimals, for reports. */
export function roundedSummary(s: LatencySummary, digits: number): LatencySummary {
  const f = 10 ** digits;
  const r = (n: number) => Math.round(n * f) / f;
  return {
    count: s.count,
    p50: r(s.p50),
    p95: r(s.p95),
    p99: r(s.p99),
    max: r(s.max),
    mean: r(s.mean),
  };
}
