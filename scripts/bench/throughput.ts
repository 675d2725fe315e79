/**
 * The PerfTest-style run: producers publish to an exchange bound to N queues, consumers drain the
 * queues, and at the end the run drains what is left and compares sent with received.
 *
 * Body layout (when size allows): bytes 0-7 the publish time (float64, wall-clock ms, see wallNow),
 * bytes 8-11 the producer index, bytes 12-15 the producer's sequence number.
 *
 * @module
 */
import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { setImmediate } from "node:timers";
import { Histogram, type LatencySummary, roundedSummary } from "./histogram.ts";
import { closeQuietly, connect, now, round, runId, sleep, wallNow } from "./util.ts";
import { type BenchClient, type ConsumerFinal, type ConsumerPlan, Slot } from "./consumers.ts";
import { openWireProducer } from "./wire_load.ts";

/** What one throughput run does. */
export interface ThroughputOptions {
  uri: string;
  producers: number;
  consumers: number;
  queues: number;
  exchangeType: "direct" | "fanout";
  size: number;
  persistent: boolean;
  durable: boolean;
  /** Outstanding unconfirmed publishes per producer; 0 = no confirms. */
  confirm: number;
  /** Manual ack with multiple=true every N deliveries; 0 = auto-ack. */
  ackEvery: number;
  /** basic.qos prefetch per consumer; 0 = none. */
  prefetch: number;
  /** Total publish rate in msgs/s over all producers; 0 = as fast as possible. */
  rate: number;
  /** Seconds of publishing. */
  duration: number;
  /** Upper bound on the drain after publishing stops, in seconds. */
  drainTimeout: number;
  /** The client producers and consumers use (topology always goes through amqp-client). */
  client: BenchClient;
}

/** What one throughput run measured. */
export interface ThroughputResult {
  kind: "throughput";
  options: Omit<ThroughputOptions, "uri">;
  /** Messages published (basic.publish written to the socket). */
  sent: number;
  confirmed: number;
  nacked: number;
  /** sent × copies per message (queues for fanout, 1 for direct). */
  expected: number;
  /** Deliveries counted during the publishing window. */
  receivedInWindow: number;
  /** Deliveries counted in total, after draining. */
  received: number;
  /** Ready messages still in the queues after the drain gave up (not lost, just slow). */
  remaining: number;
  /** expected − received − remaining, never below 0. */
  lost: number;
  /** received beyond expected, or sequence numbers seen again / out of order. */
  duplicates: number;
  reordered: number;
  redelivered: number;
  publishRate: number;
  deliveryRate: number;
  /** Delivery rate in MB/s (10^6 bytes) of body. */
  deliveryMBps: number;
  publishSeconds: number;
  drainSeconds: number;
  latencyMs: LatencySummary;
  errors: string[];
}

interface Counters {
  sent: number;
  confirmed: number;
  nacked: number;
}

/** Runs one throughput/latency measurement. */
export async function runThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const id = runId();
  const exchange = `bench.${o.exchangeType}.${id}`;
  const queueNames = Array.from({ length: o.queues }, (_, i) => `bench.${id}.q${i}`);
  const errors: string[] = [];
  const c: Counters = { sent: 0, confirmed: 0, nacked: 0 };
  const hist = new Histogram();
  const clients: AMQPClient[] = [];

  // Topology, from a separate admin connection.
  const admin = await connect(o.uri, errors, "bench-admin");
  clients.push(admin);
  const adminCh = await admin.channel();
  await adminCh.exchangeDeclare(exchange, o.exchangeType, { durable: o.durable });
  for (let i = 0; i < o.queues; i++) {
    await adminCh.queueDeclare(queueNames[i], { durable: o.durable });
    await adminCh.queueBind(queueNames[i], exchange, o.exchangeType === "direct" ? `k${i}` : "");
  }

  // Consumers run in a worker thread: consumer j reads queue j % queues, on its own connection.
  const sharedBuf = new SharedArrayBuffer(Slot.Size * 8);
  const shared = new Float64Array(sharedBuf);
  shared[Slot.Measuring] = 1;
  const worker = new Worker(new URL("./consumer_worker.ts", import.meta.url), { type: "module" });
  const fromWorker = (): Promise<Record<string, unknown>> =>
    new Promise((resolve) => worker.onmessage = (e) => resolve(e.data));
  const plan: ConsumerPlan = {
    uri: o.uri,
    queueNames,
    consumers: o.consumers,
    ackEvery: o.ackEvery,
    prefetch: o.prefetch,
    size: o.size,
    client: o.client,
  };
  const ready = fromWorker();
  worker.postMessage({ plan, shared: sharedBuf });
  const started = await ready;
  if (started.error) {
    worker.terminate();
    throw new Error(`consumers: ${started.error}`);
  }

  // Producers, each on its own connection.
  let stop = false;
  const done = () => stop || now() >= deadline;
  let deadline = Infinity;
  const runs: ((done: () => boolean) => Promise<void>)[] = [];
  const closers: (() => Promise<void>)[] = [];
  for (let p = 0; p < o.producers; p++) {
    if (o.client === "wire") {
      const plan = { ...o, exchange };
      const producer = await openWireProducer(plan, p, c, errors);
      runs.push(producer.run);
      closers.push(producer.close);
      continue;
    }
    const client = await connect(o.uri, errors, `bench-producer-${p}`);
    clients.push(client);
    const ch = await client.channel();
    if (o.confirm > 0) await ch.confirmSelect();
    runs.push((d) => produce(o, p, client, ch, exchange, c, errors, d));
  }

  const t0 = now();
  deadline = t0 + o.duration * 1000;
  const stopTimer = setTimeout(() => stop = true, o.duration * 1000);
  await Promise.all(runs.map((run) => run(done)));
  clearTimeout(stopTimer);
  const publishSeconds = (now() - t0) / 1000;
  shared[Slot.Measuring] = 0;
  const windowReceived = shared[Slot.ReceivedInWindow];

  // Drain: until everything expected arrived, nothing arrives for 3 s, or the drain timeout.
  const copies = o.exchangeType === "fanout" ? o.queues : 1;
  const expected = c.sent * copies;
  const drainStart = now();
  let lastCount = shared[Slot.Received];
  let lastProgress = now();
  while (shared[Slot.Received] < expected && now() - drainStart < o.drainTimeout * 1000) {
    await sleep(50);
    if (shared[Slot.Received] !== lastCount) {
      lastCount = shared[Slot.Received];
      lastProgress = now();
    } else if (now() - lastProgress > 3000) break;
  }
  const drainSeconds = (now() - drainStart) / 1000;
  const stopped = fromWorker();
  worker.postMessage("stop");
  const final = (await stopped).final as ConsumerFinal | undefined;
  worker.terminate();
  if (final) {
    hist.merge(final.histogram);
    errors.push(...final.errors);
  }

  // What is still ready in the queues counts as remaining, not lost.
  let remaining = 0;
  for (const q of queueNames) {
    try {
      const ok = await adminCh.queueDeclare(q, { passive: true });
      remaining += ok.messageCount;
    } catch (e) {
      errors.push(`passive declare ${q}: ${(e as Error).message}`);
    }
  }
  const received = shared[Slot.Received];

  for (const close of closers) await close();
  for (const client of clients.slice(1)) await closeQuietly(client);
  try {
    for (const q of queueNames) await adminCh.queueDelete(q);
    await adminCh.exchangeDelete(exchange);
  } catch (e) {
    errors.push(`cleanup: ${(e as Error).message}`);
  }
  await closeQuietly(admin);

  const { uri: _uri, ...options } = o;
  return {
    kind: "throughput",
    options,
    sent: c.sent,
    confirmed: c.confirmed,
    nacked: c.nacked,
    expected,
    receivedInWindow: windowReceived,
    received,
    remaining,
    lost: Math.max(0, expected - received - remaining),
    duplicates: Math.max(0, received - expected),
    reordered: shared[Slot.Reordered],
    redelivered: shared[Slot.Redelivered],
    publishRate: round(c.sent / publishSeconds, 0),
    deliveryRate: round(windowReceived / publishSeconds, 0),
    deliveryMBps: round((windowReceived * o.size) / publishSeconds / 1e6, 2),
    publishSeconds: round(publishSeconds, 2),
    drainSeconds: round(drainSeconds, 2),
    latencyMs: roundedSummary(hist.summary(), 3),
    errors: errors.slice(0, 20),
  };
}

/** One producer's loop: batches of publishes, flow-controlled by socket writes or confirms. */
async function produce(
  o: ThroughputOptions,
  p: number,
  client: AMQPClient,
  ch: AMQPChannel,
  exchange: string,
  c: Counters,
  errors: string[],
  done: () => boolean,
): Promise<void> {
  const body = new Uint8Array(o.size);
  const dv = o.size >= 16 ? new DataView(body.buffer, 0, 16) : undefined;
  if (dv) dv.setUint32(8, p, true);
  const props = o.persistent ? { deliveryMode: 2 } : {};
  const keys = Array.from({ length: o.queues }, (_, i) => `k${i}`);
  const share = o.rate > 0 ? o.rate / o.producers : 0;
  const start = now();
  let seq = 0;
  let outstanding = 0;
  let wake: (() => void) | undefined;
  const onConfirm = () => {
    outstanding--;
    c.confirmed++;
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const onNack = (e: Error) => {
    outstanding--;
    c.nacked++;
    if (errors.length < 100) errors.push(`publish: ${e.message}`);
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  let lastWrite: Promise<number> | undefined;
  while (!done() && !ch.closed && !client.closed) {
    let batch = 128;
    if (share > 0) {
      const due = Math.floor((share * (now() - start)) / 1000) - seq;
      if (due <= 0) {
        await sleep(1);
        continue;
      }
      batch = Math.min(due, 128);
    }
    if (o.confirm > 0) batch = Math.min(batch, o.confirm - outstanding);
    for (let i = 0; i < batch; i++) {
      if (dv) {
        dv.setFloat64(0, wallNow(), true);
        dv.setUint32(12, seq, true);
      }
      seq++;
      const key = o.exchangeType === "direct" ? keys[seq % o.queues] : "";
      let pr: Promise<number>;
      try {
        pr = ch.basicPublish(exchange, key, body, props);
      } catch (e) {
        errors.push(`publish: ${(e as Error).message}`);
        return;
      }
      c.sent++;
      if (o.confirm > 0) {
        outstanding++;
        pr.then(onConfirm, onNack);
      } else {
        pr.catch((e) => errors.length < 100 && errors.push(`publish: ${e.message}`));
        lastWrite = pr;
      }
    }
    if (o.confirm > 0) {
      while (outstanding >= o.confirm && !ch.closed) {
        await new Promise<void>((resolve) => wake = resolve);
      }
    } else if (lastWrite) {
      // Resolves when the socket has taken the batch: TCP back-pressure from the broker.
      await lastWrite.catch(() => {});
    }
    // A macrotask turn, so the consumers' socket reads in this same process get their share.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Wait (bounded) for the confirms still outstanding.
  const until = now() + 30_000;
  while (o.confirm > 0 && outstanding > 0 && now() < until && !ch.closed) await sleep(10);
}
