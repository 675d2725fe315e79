/**
 * The consuming side of a throughput run. It runs in its own Worker (see consumer_worker.ts), so
 * that the client's consumers and producers each get a thread, as PerfTest's do; counters are
 * shared with the main thread through a SharedArrayBuffer.
 *
 * @module
 */
import type { AMQPClient, AMQPMessage } from "@cloudamqp/amqp-client";
import { Histogram, type HistogramState } from "./histogram.ts";
import { closeQuietly, connect, sleep, wallNow } from "./util.ts";

/** Slots of the shared Float64Array the consumers count into (one writer: the worker). */
export const enum Slot {
  Received = 0,
  ReceivedInWindow = 1,
  Redelivered = 2,
  Reordered = 3,
  /** Set to 1 by the main thread while the publishing window is open. */
  Measuring = 4,
  Size = 5,
}

/** What the consumers need to know. */
export interface ConsumerPlan {
  uri: string;
  queueNames: string[];
  consumers: number;
  ackEvery: number;
  prefetch: number;
  size: number;
  /** Which client library the consumers use. */
  client: BenchClient;
}

/** The benchmark's clients: the minimal wire client (wire.ts) or @cloudamqp/amqp-client. */
export type BenchClient = "wire" | "amqp-client";

/** What the consumers report when stopped. */
export interface ConsumerFinal {
  histogram: HistogramState;
  errors: string[];
}

/** Connects the consumers; returns a function that closes them and reports. */
export async function startConsumers(
  plan: ConsumerPlan,
  shared: Float64Array,
): Promise<() => Promise<ConsumerFinal>> {
  const errors: string[] = [];
  const hist = new Histogram();
  const clients: AMQPClient[] = [];
  const flushers: ReturnType<typeof setInterval>[] = [];
  const stamp = plan.size >= 16;
  const manual = plan.ackEvery > 0;
  for (let j = 0; j < plan.consumers; j++) {
    const client = await connect(plan.uri, errors, `bench-consumer-${j}`);
    clients.push(client);
    const ch = await client.channel();
    if (plan.prefetch > 0) await ch.basicQos(plan.prefetch);
    const lastSeq = new Map<number, number>();
    let pending = 0;
    let lastTag = 0;
    let lastAt = 0;
    const onMessage = (msg: AMQPMessage) => {
      shared[Slot.Received]++;
      if (shared[Slot.Measuring] === 1) shared[Slot.ReceivedInWindow]++;
      if (msg.redelivered) shared[Slot.Redelivered]++;
      const body = msg.body as Uint8Array | null;
      if (stamp && body && body.byteLength >= 16) {
        const dv = new DataView(body.buffer, body.byteOffset, 16);
        hist.record(wallNow() - dv.getFloat64(0, true));
        const p = dv.getUint32(8, true);
        const seq = dv.getUint32(12, true);
        const prev = lastSeq.get(p);
        if (prev !== undefined && seq <= prev) shared[Slot.Reordered]++;
        else lastSeq.set(p, seq);
      }
      if (manual) {
        lastTag = msg.deliveryTag;
        lastAt = performance.now();
        if (++pending >= plan.ackEvery) {
          pending = 0;
          ch.basicAck(lastTag, true).catch((e) => errors.push(`ack: ${e.message}`));
        }
      }
    };
    const queue = plan.queueNames[j % plan.queueNames.length];
    await ch.basicConsume(queue, { noAck: !manual }, onMessage);
    if (manual) {
      // Acks what a partial batch left unacked once deliveries pause (end of run, small prefetch).
      flushers.push(setInterval(() => {
        if (pending > 0 && performance.now() - lastAt > 20 && !ch.closed) {
          pending = 0;
          ch.basicAck(lastTag, true).catch((e) => errors.push(`ack: ${e.message}`));
        }
      }, 25));
    }
  }
  return async () => {
    await sleep(100); // let the flushers send the last acks
    for (const f of flushers) clearInterval(f);
    await sleep(30);
    for (const c of clients) await closeQuietly(c);
    return { histogram: hist.state(), errors: errors.slice(0, 20) };
  };
}
