/**
 * Message rates. The broker only counts (plain integer increments on the hot path); every 5 s this
 * sampler reads all counters through the control service and derives per-second rates for each
 * queue, exchange, connection and channel, per-vhost and overall totals, and a 10-minute history
 * of the totals for charts (`?msg_rates_age=600&msg_rates_incr=5` → `samples`).
 *
 * Totals stay monotonic when things go away: the last counts of a deleted queue, closed channel or
 * connection are kept ("retired") in its vhost's totals, and a deleted vhost's in the overall ones.
 *
 *   const rates = new Rates(service); rates.start(); … rates.stop();
 */
import type { ControlService, SampledEntity, StatsSample } from "../control/service.ts";
import { HttpError } from "./http.ts";
import { log } from "../log.ts";

export type Counts = Record<string, number>;
type Row = Record<string, unknown>;

export const SAMPLE_INTERVAL_MS = 5_000;
/** Ten minutes of 5-second samples. */
export const HISTORY_SAMPLES = 120;

/** Queue counters and lengths that add up into vhost and overall totals. */
export const QUEUE_TOTALS = [
  "deliver",
  "deliver_no_ack",
  "get",
  "get_no_ack",
  "deliver_get",
  "redeliver",
  "ack",
];
export const LENGTHS = ["messages", "messages_ready", "messages_unacknowledged"];
const CHANNEL_TOTALS = ["confirm", "return_unroutable", "drop_unroutable"];
const CONNECTION_TOTALS = ["recv_oct", "send_oct"];
const GAUGES = new Set(LENGTHS);

/** The message_stats fields of totals (vhosts, overview). */
export const MESSAGE_TOTALS = ["publish", ...QUEUE_TOTALS, ...CHANNEL_TOTALS];

type Kind = "q" | "e" | "c" | "ch" | "v";

const TOTAL_FIELDS: Record<Kind, string[]> = {
  q: QUEUE_TOTALS,
  ch: CHANNEL_TOTALS,
  c: CONNECTION_TOTALS,
  e: [],
  v: ["publish"],
};

interface Entry {
  kind: Kind;
  vhost: string;
  counts: Counts;
}

interface HistoryPoint {
  at: number;
  total: Counts;
  byVhost: Map<string, Counts>;
}

const key = (kind: Kind, vhost: string, name: string) => `${kind}\0${vhost}\0${name}`;

function addInto(target: Counts, counts: Counts, fields: Iterable<string>): void {
  for (const f of fields) target[f] = (target[f] ?? 0) + (counts[f] ?? 0);
}

/** A counter went down: the entity was deleted and re-created under the same name. */
function restarted(before: Counts, now: Counts): boolean {
  for (const f in now) if (!GAUGES.has(f) && now[f] < before[f]) return true;
  return false;
}

const round = (x: number) => Math.round(x * 100) / 100;

export class Rates {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastAt = 0;
  private prev = new Map<string, Entry>();
  private entityRates = new Map<string, Counts>();
  /** Counts of entities gone from a vhost that still exists. */
  private readonly retired = new Map<string, Counts>();
  /** Counts of vhosts gone. */
  private retiredGlobal: Counts = {};
  private prevTotals = new Map<string, Counts>();
  private vhostRates = new Map<string, Counts>();
  private totalRates: Counts = {};
  /** Oldest first. */
  private readonly history: HistoryPoint[] = [];

  constructor(
    private readonly service: ControlService,
    private readonly intervalMs = SAMPLE_INTERVAL_MS,
    private readonly historySize = HISTORY_SAMPLES,
  ) {}

  /** Takes a first sample and then one every interval. */
  start(): void {
    this.tick();
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (err) {
        log.error("message rate sampling failed", { error: String((err as Error)?.stack ?? err) });
      }
    }, this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample: entity rates, retirements, totals and their history. */
  tick(now = Date.now()): void {
    const sample = this.service.statsSample();
    const cur = new Map<string, Entry>();
    const put = (kind: Kind, list: SampledEntity[]) => {
      for (const e of list) {
        cur.set(key(kind, e.vhost, e.name), { kind, vhost: e.vhost, counts: e.counts });
      }
    };
    put("v", sample.vhosts);
    put("q", sample.queues);
    put("e", sample.exchanges);
    put("c", sample.connections);
    put("ch", sample.channels);

    // Vhosts gone (or re-created) take their totals into the overall ones.
    const reset = new Set<string>();
    for (const [name, totals] of this.prevTotals) {
      const now = cur.get(key("v", name, name));
      if (now && !restarted(this.prev.get(key("v", name, name))?.counts ?? {}, now.counts)) {
        continue;
      }
      addInto(this.retiredGlobal, totals, Object.keys(totals).filter((f) => !GAUGES.has(f)));
      this.retired.delete(name);
      reset.add(name);
    }
    // Entities gone from a live vhost leave their counts in its totals.
    for (const [k, old] of this.prev) {
      if (old.kind === "v" || reset.has(old.vhost)) continue;
      const now = cur.get(k);
      if (now && !restarted(old.counts, now.counts)) continue;
      let r = this.retired.get(old.vhost);
      if (!r) this.retired.set(old.vhost, r = {});
      addInto(r, old.counts, TOTAL_FIELDS[old.kind]);
    }

    const dt = (now - this.lastAt) / 1000;
    const first = this.lastAt === 0 || dt <= 0;
    const rates = new Map<string, Counts>();
    if (!first) {
      for (const [k, e] of cur) {
        const before = this.prev.get(k);
        const base = before && !restarted(before.counts, e.counts) ? before.counts : {};
        const r: Counts = {};
        for (const f in e.counts) r[f] = round((e.counts[f] - (base[f] ?? 0)) / dt);
        rates.set(k, r);
      }
    }
    this.entityRates = rates;

    const byVhost = this.totalsOf(sample);
    const total = this.sum(byVhost, undefined);
    this.vhostRates = new Map();
    for (const [name, t] of byVhost) {
      const before = reset.has(name) ? undefined : this.prevTotals.get(name);
      this.vhostRates.set(name, first ? {} : diffRate(t, before ?? {}, dt));
    }
    const last = this.history[this.history.length - 1];
    this.totalRates = first || !last ? {} : diffRate(total, last.total, dt);
    this.history.push({ at: now, total, byVhost });
    if (this.history.length > this.historySize) this.history.shift();
    this.prev = cur;
    this.prevTotals = byVhost;
    this.lastAt = now;
  }

  /** Per-vhost totals now: live counts plus what left each vhost. */
  totalsOf(sample: StatsSample): Map<string, Counts> {
    const m = new Map<string, Counts>();
    for (const v of sample.vhosts) {
      const t: Counts = { publish: v.counts.publish };
      for (const f of [...QUEUE_TOTALS, ...LENGTHS, ...CHANNEL_TOTALS, ...CONNECTION_TOTALS]) {
        t[f] = 0;
      }
      const r = this.retired.get(v.name);
      if (r) addInto(t, r, Object.keys(r));
      m.set(v.name, t);
    }
    const add = (list: SampledEntity[], fields: string[]) => {
      for (const e of list) {
        const t = m.get(e.vhost);
        if (t) addInto(t, e.counts, fields);
      }
    };
    add(sample.queues, [...QUEUE_TOTALS, ...LENGTHS]);
    add(sample.channels, CHANNEL_TOTALS);
    add(sample.connections, CONNECTION_TOTALS);
    return m;
  }

  /** The sum over some vhosts (all of them, and deleted ones, when `vhosts` is undefined). */
  private sum(byVhost: Map<string, Counts>, vhosts: Set<string> | undefined): Counts {
    const out: Counts = {};
    for (const [name, t] of byVhost) {
      if (vhosts === undefined || vhosts.has(name)) addInto(out, t, Object.keys(t));
    }
    if (vhosts === undefined) addInto(out, this.retiredGlobal, Object.keys(this.retiredGlobal));
    return out;
  }

  /** Rates of one queue ("q"), exchange ("e"), connection ("c") or channel ("ch"). */
  of(kind: Kind, vhost: string, name: string): Counts | undefined {
    return this.entityRates.get(key(kind, vhost, name));
  }

  /** Live totals and rates per vhost. */
  vhostTotals(): { counts: Map<string, Counts>; rates: Map<string, Counts> } {
    return { counts: this.totalsOf(this.service.statsSample()), rates: this.vhostRates };
  }

  /**
   * Totals now, their rates and their history, over every vhost (undefined) or some: what
   * /api/overview shows a monitoring user, or a management user for its own vhosts.
   */
  totals(vhosts: Set<string> | undefined): {
    counts: Counts;
    rates: Counts;
    history: { at: number; counts: Counts }[];
  } {
    const counts = this.sum(this.totalsOf(this.service.statsSample()), vhosts);
    if (vhosts === undefined) {
      return {
        counts,
        rates: this.totalRates,
        history: this.history.map((h) => ({ at: h.at, counts: h.total })),
      };
    }
    const rates: Counts = {};
    for (const v of vhosts) {
      const r = this.vhostRates.get(v);
      if (r) addInto(rates, r, Object.keys(r));
    }
    return {
      counts,
      rates,
      history: this.history.map((h) => ({ at: h.at, counts: this.sum(h.byVhost, vhosts) })),
    };
  }
}

function diffRate(now: Counts, before: Counts, dt: number): Counts {
  const r: Counts = {};
  for (const f in now) r[f] = round((now[f] - (before[f] ?? 0)) / dt);
  return r;
}

/** A requested history range, in seconds. */
export interface Range {
  age: number;
  incr: number;
}

/** `msg_rates_age`/`msg_rates_incr` (or another prefix: lengths, data_rates) from a request. */
export function rangeOf(url: URL, prefix: string): Range | undefined {
  const age = url.searchParams.get(`${prefix}_age`);
  const incr = url.searchParams.get(`${prefix}_incr`);
  if (age === null || incr === null) return undefined;
  const a = Number(age);
  const i = Number(incr);
  if (!Number.isInteger(a) || !Number.isInteger(i) || a <= 0 || i <= 0 || a / i > 500) {
    throw new HttpError(
      400,
      "bad_request",
      `Invalid range parameters: age ${age}, incr ${incr}`,
    );
  }
  return { age: a, incr: i };
}

/**
 * `field_details` for a counter or length: its rate, and with a range the samples (newest first)
 * from the history with their average and average rate, as RabbitMQ's management API gives them.
 */
function detailsOf(
  field: string,
  rate: number,
  history?: { at: number; counts: Counts }[],
  range?: Range,
): Row {
  if (!history || !range || history.length === 0) return { rate };
  const last = Math.floor(history[history.length - 1].at / (range.incr * 1000)) *
    (range.incr * 1000);
  const first = last - range.age * 1000;
  const samples: { sample: number; timestamp: number }[] = [];
  let h = history.length - 1;
  for (let t = last; t >= first; t -= range.incr * 1000) {
    while (h >= 0 && history[h].at > t) h--;
    if (h < 0) break;
    samples.push({ sample: history[h].counts[field] ?? 0, timestamp: t });
  }
  let avg = 0;
  let avgRate = 0;
  if (samples.length > 0) {
    avg = samples.reduce((a, s) => a + s.sample, 0) / samples.length;
    const span = (samples[0].timestamp - samples[samples.length - 1].timestamp) / 1000;
    avgRate = span > 0 ? (samples[0].sample - samples[samples.length - 1].sample) / span : 0;
  }
  return { rate, samples, avg_rate: round(avgRate), avg: round(avg) };
}

/**
 * Counts with their `_details` beside each (`publish`, `publish_details: {rate}`), for the
 * fields named (all of the counts by default).
 */
export function withDetails(
  counts: Counts,
  rates: Counts | undefined,
  fields: string[] = Object.keys(counts),
  history?: { at: number; counts: Counts }[],
  range?: Range,
): Row {
  const out: Row = {};
  for (const f of fields) {
    out[f] = counts[f] ?? 0;
    out[`${f}_details`] = detailsOf(f, rates?.[f] ?? 0, history, range);
  }
  return out;
}

/** Adds `_details` to a row's own counts and to its message_stats, from an entity's rates. */
export function augmentRow(row: Row, rates: Counts | undefined, lengthFields: string[]): Row {
  const out: Row = { ...row };
  for (const f of lengthFields) {
    if (typeof row[f] === "number") out[`${f}_details`] = { rate: rates?.[f] ?? 0 };
  }
  const stats = row.message_stats as Counts | undefined;
  if (stats) out.message_stats = withDetails(stats, rates);
  return out;
}
