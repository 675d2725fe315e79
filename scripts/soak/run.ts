/**
 * One soak run against a broker at an amqp:// URI: queues, consumers (in a worker), publishers
 * with confirms at a fixed rate, a line of figures every interval, then a drain and an exact
 * count of every message id (see ledger.ts).
 *
 * @module
 */
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import { Histogram, type LatencySummary, roundedSummary } from "../bench/histogram.ts";
import { closeQuietly, connect, now, round, runId, sleep } from "../bench/util.ts";
import type { ConsumerFinal, ConsumerPlan } from "./consumers.ts";
import { Slot } from "./consumers.ts";
import { BODY, Ledger, SeqSet, type Tally } from "./ledger.ts";
import { type MemorySample, MemorySampler, type MemorySource } from "./memory.ts";
import { Publishers } from "./publishers.ts";

/** What a soak run does. */
export interface SoakOptions {
  uri: string;
  /** Publisher plus consumer connections; publishers get half (rounded down). */
  connections: number;
  queues: number;
  /** Publishing time limit. */
  minutes: number;
  /** Total message limit (0: none); publishing stops at whichever limit comes first. */
  maxMessages: number;
  /** Messages per second per publisher. */
  rate: number;
  size: number;
  prefetch: number;
  /** Unconfirmed publishes per publisher. */
  window: number;
  persistent: boolean;
  /** Seconds between progress lines. */
  intervalS: number;
  /** Most seconds to wait for the consumers to catch up after publishing stops. */
  drainS: number;
  /** How many lost ids to list. */
  listLost: number;
  /** The broker's memory, when it can be read. */
  memory?: MemorySource;
  /** Where progress lines go. */
  log: (line: string) => void;
}

/** One progress interval. */
export interface IntervalFigures {
  /** Seconds since publishing started, at the end of the interval. */
  t: number;
  publishRate: number;
  confirmRate: number;
  deliveryRate: number;
  latencyMs: LatencySummary;
  /** Broker memory at the end of the interval, KiB. */
  memoryKiB?: number;
  connections: number;
  /** The machine's 1-minute load average (the soak shares the CPUs with the broker). */
  load: number;
}

/** What a soak run measured. */
export interface SoakResult {
  kind: "soak";
  uri: string;
  publishers: number;
  consumers: number;
  queues: number;
  ratePerPublisher: number;
  size: number;
  prefetch: number;
  window: number;
  persistent: boolean;
  connectSeconds: number;
  publishSeconds: number;
  drainSeconds: number;
  tally: Tally;
  /** Deliveries of an id already received (a redelivery counts once per extra copy). */
  duplicates: number;
  redelivered: number;
  /** Messages still in the queues after the drain, fetched with basic.get and counted. */
  fetchedAfterDrain: number;
  /** Confirmed publishes per second over the publishing window. */
  publishRate: number;
  /** Deliveries per second over the publishing window. */
  deliveryRate: number;
  latencyMs: LatencySummary;
  memory?: {
    source: string;
    baselineKiB?: number;
    connectedKiB?: number;
    peakKiB?: number;
    endKiB?: number;
    afterCloseKiB?: number;
    /** One reading per interval. */
    series: MemorySample[];
  };
  intervals: IntervalFigures[];
  errors: string[];
}

/** Request/response over the consumer worker (it answers in order). */
class ConsumerWorker {
  readonly #worker = new Worker(new URL("./consumer_worker.ts", import.meta.url), {
    type: "module",
  });
  #waiting: ((data: Record<string, unknown>) => void)[] = [];

  constructor() {
    this.#worker.onmessage = (e) => this.#waiting.shift()?.(e.data);
  }

  request(msg: unknown): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#worker.postMessage(msg);
    });
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

/** Runs the soak. Throws when the connections cannot be opened. */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const id = runId();
  const queueNames = Array.from({ length: o.queues }, (_, i) => `soak.${id}.q${i}`);
  const publishers = Math.floor(o.connections / 2);
  const consumers = o.connections - publishers;
  const errors: string[] = [];
  const ledger = new Ledger(publishers);
  const sampler = o.memory ? new MemorySampler(o.memory) : undefined;
  const baseline = await sampler?.sample();
  sampler?.start();

  const admin = await connect(o.uri, errors, "soak-admin");
  const adminCh = await admin.channel();
  for (const q of queueNames) await adminCh.queueDeclare(q, { durable: o.persistent });

  const sharedBuf = new SharedArrayBuffer(Slot.Size * 8);
  const shared = new Float64Array(sharedBuf);
  const worker = new ConsumerWorker();
  let pubs: Publishers | undefined;
  try {
    const t0 = now();
    const plan: ConsumerPlan = {
      uri: o.uri,
      queueNames,
      consumers,
      prefetch: o.prefetch,
      publishers,
      connectBatch: 25,
    };
    const started = await worker.request({ start: { plan, shared: sharedBuf } });
    if (started.error) throw new Error(`consumers: ${started.error}`);
    pubs = await Publishers.open(
      {
        uri: o.uri,
        queueNames,
        publishers,
        rate: o.rate,
        size: o.size,
        persistent: o.persistent,
        window: o.window,
        maxMessages: o.maxMessages,
        connectBatch: 25,
      },
      ledger,
      errors,
    );
    const connectSeconds = (now() - t0) / 1000;
    await sleep(1000); // the connections' buffers and the first GC settle
    const connected = await sampler?.sample();
    o.log(
      `${publishers} publishers and ${consumers} consumers connected in ` +
        `${round(connectSeconds, 1)} s over ${o.queues} queues; publishing ` +
        `${o.rate} msg/s each (${o.rate * publishers} msg/s) for ${o.minutes} min` +
        (o.maxMessages ? ` or ${o.maxMessages} messages` : ""),
    );

    // Publish, with a progress line every interval.
    const intervals: IntervalFigures[] = [];
    const c = pubs.counters;
    const tStart = now();
    const deadline = tStart + o.minutes * 60_000;
    let last = { t: tStart, sent: 0, confirmed: 0, received: 0 };
    const windowEnd = { received: 0 };
    const report = async () => {
      const t = now();
      const s = (t - last.t) / 1000;
      const received = shared[Slot.Received];
      const lat = (await worker.request("interval")).interval as LatencySummary;
      const fig: IntervalFigures = {
        t: round((t - tStart) / 1000, 1),
        publishRate: round((c.sent - last.sent) / s, 0),
        confirmRate: round((c.confirmed - last.confirmed) / s, 0),
        deliveryRate: round((received - last.received) / s, 0),
        latencyMs: lat,
        memoryKiB: sampler?.last,
        connections: c.connected + shared[Slot.Connected],
        load: round(Deno.loadavg()[0], 2),
      };
      intervals.push(fig);
      o.log(formatInterval(fig, c.sent - received));
      last = { t, sent: c.sent, confirmed: c.confirmed, received };
    };
    const ticker = setInterval(() => report().catch(() => {}), o.intervalS * 1000);
    await pubs.run(() => now() >= deadline);
    const publishSeconds = (now() - tStart) / 1000;
    clearInterval(ticker);
    if (now() - last.t > 1000) await report(); // the last, partial interval
    await pubs.settle(10_000);
    windowEnd.received = shared[Slot.Received];
    const endKiB = await sampler?.sample();

    // Drain: until every confirmed id can have arrived, nothing arrives for 5 s, or the limit.
    const distinct = () => shared[Slot.Received] - shared[Slot.Duplicates] - shared[Slot.Unknown];
    const drainStart = now();
    let lastCount = -1;
    let lastProgress = now();
    while (distinct() < c.confirmed && now() - drainStart < o.drainS * 1000) {
      if (distinct() !== lastCount) {
        lastCount = distinct();
        lastProgress = now();
      } else if (now() - lastProgress > 5000) break;
      await sleep(50);
    }
    const drainSeconds = (now() - drainStart) / 1000;
    const stopped = await worker.request("stop");
    const final = stopped.final as ConsumerFinal | undefined;
    if (!final) throw new Error(`consumers: ${stopped.error ?? "no final report"}`);
    errors.push(...final.errors);
    let duplicates = shared[Slot.Duplicates];
    final.received.forEach((bits, p) => duplicates += ledger.mergeReceived(p, new SeqSet(bits)));
    const fetchedAfterDrain = await fetchLeftovers(adminCh, queueNames, ledger, errors);

    await pubs.close();
    pubs = undefined;
    const hist = new Histogram();
    hist.merge(final.histogram);
    await sleep(2000);
    const afterClose = await sampler?.sample();
    sampler?.stop();
    const tally = ledger.tally(o.listLost);
    tally.unknown += shared[Slot.Unknown];
    return {
      kind: "soak",
      uri: o.uri,
      publishers,
      consumers,
      queues: o.queues,
      ratePerPublisher: o.rate,
      size: o.size,
      prefetch: o.prefetch,
      window: o.window,
      persistent: o.persistent,
      connectSeconds: round(connectSeconds, 2),
      publishSeconds: round(publishSeconds, 1),
      drainSeconds: round(drainSeconds, 1),
      tally,
      duplicates,
      redelivered: shared[Slot.Redelivered],
      fetchedAfterDrain,
      publishRate: round(tally.confirmed / publishSeconds, 0),
      deliveryRate: round(windowEnd.received / publishSeconds, 0),
      latencyMs: roundedSummary(hist.summary(), 2),
      memory: sampler && {
        source: sampler.source.label,
        baselineKiB: baseline,
        connectedKiB: connected,
        peakKiB: sampler.peak(),
        endKiB,
        afterCloseKiB: afterClose,
        series: intervals.flatMap((i) =>
          i.memoryKiB === undefined ? [] : [{ t: i.t, kib: i.memoryKiB }]
        ),
      },
      intervals,
      errors: errors.slice(0, 20),
    };
  } finally {
    sampler?.stop();
    worker.terminate();
    await pubs?.close();
    try {
      for (const q of queueNames) await adminCh.queueDelete(q);
    } catch (e) {
      errors.push(`cleanup: ${(e as Error).message}`);
    }
    await closeQuietly(admin);
  }
}

/**
 * Takes whatever the drain left in the queues with basic.get and records it, so a message that
 * was merely slow is not counted as lost. Returns how many were fetched.
 */
async function fetchLeftovers(
  ch: AMQPChannel,
  queueNames: string[],
  ledger: Ledger,
  errors: string[],
): Promise<number> {
  let fetched = 0;
  for (const q of queueNames) {
    try {
      for (;;) {
        const msg = await ch.basicGet(q, { noAck: true });
        if (!msg) break;
        fetched++;
        const body = msg.body;
        if (body && body.byteLength >= BODY.minSize) {
          const dv = new DataView(body.buffer, body.byteOffset, BODY.minSize);
          const p = dv.getUint32(BODY.publisher, true);
          if (p < ledger.publishers) ledger.received(p, dv.getUint32(BODY.seq, true));
        }
      }
    } catch (e) {
      errors.push(`fetching leftovers from ${q}: ${(e as Error).message}`);
    }
  }
  return fetched;
}

const n = (v: number) => v.toLocaleString("en-US");
const mib = (kib: number | undefined) => kib === undefined ? "-" : `${round(kib / 1024, 0)} MiB`;

/** A progress line: rates, latency, memory, what is in flight. */
export function formatInterval(f: IntervalFigures, inFlight: number): string {
  const l = f.latencyMs;
  return `t=${String(Math.round(f.t)).padStart(5)} s  publish ${n(f.publishRate).padStart(7)}/s` +
    `  confirm ${n(f.confirmRate).padStart(7)}/s  deliver ${n(f.deliveryRate).padStart(7)}/s` +
    `  latency p50 ${round(l.p50, 1)} p99 ${round(l.p99, 1)} max ${round(l.max, 0)} ms` +
    `  broker ${mib(f.memoryKiB)}  in flight ${n(inFlight)}  connections ${f.connections}` +
    `  load ${f.load}`;
}
