/**
 * The consuming side of a soak run, in its own Worker (see consumer_worker.ts) so that consumers
 * and publishers each get a thread. Consumer j reads queue j % queues on its own connection with
 * manual acks (one basic.ack per delivery) and a prefetch; every delivery's id goes into a
 * per-publisher {@link SeqSet} (a second sighting is a duplicate) and its latency, from the
 * timestamp in the body, into a histogram. Counters are shared with the main thread through a
 * SharedArrayBuffer; the id sets go back once, when the consumers stop.
 *
 * @module
 */
import type { AMQPClient, AMQPConsumer, AMQPMessage } from "@cloudamqp/amqp-client";
import { Histogram, type HistogramState, type LatencySummary } from "../bench/histogram.ts";
import { closeQuietly, connect, sleep, wallNow } from "../bench/util.ts";
import { BODY, SeqSet } from "./ledger.ts";

/** Slots of the shared Float64Array the consumers count into (one writer: the worker). */
export const enum Slot {
  /** Deliveries, duplicates included. */
  Received = 0,
  /** Deliveries of an id already received. */
  Duplicates = 1,
  /** Deliveries with the redelivered flag. */
  Redelivered = 2,
  /** Consumer connections open. */
  Connected = 3,
  /** Bodies without a valid id (too short, or an unknown publisher). */
  Unknown = 4,
  Size = 5,
}

/** What the consumers need to know. */
export interface ConsumerPlan {
  uri: string;
  queueNames: string[];
  consumers: number;
  prefetch: number;
  /** Number of publishers (ids name a publisher below this). */
  publishers: number;
  /** Connections opened at once while connecting. */
  connectBatch: number;
}

/** What the consumers report when stopped. */
export interface ConsumerFinal {
  histogram: HistogramState;
  /** Per publisher, the received sequence numbers (SeqSet bits). */
  received: Uint8Array[];
  errors: string[];
}

/** The running consumers. */
export interface Consumers {
  /** Latency of the deliveries since the previous call. */
  interval(): LatencySummary;
  /** Cancels every consumer (in-flight deliveries are still acked), closes, and reports. */
  stop(): Promise<ConsumerFinal>;
}

/** Connects the consumers and starts consuming. */
export async function startConsumers(plan: ConsumerPlan, shared: Float64Array): Promise<Consumers> {
  const errors: string[] = [];
  const total = new Histogram();
  let interval = new Histogram();
  const received = Array.from({ length: plan.publishers }, () => new SeqSet());
  const clients: AMQPClient[] = [];
  const consumers: AMQPConsumer[] = [];
  let stopping = false;

  const onMessage = (msg: AMQPMessage) => {
    shared[Slot.Received]++;
    if (msg.redelivered) shared[Slot.Redelivered]++;
    const body = msg.body;
    if (body && body.byteLength >= BODY.minSize) {
      const dv = new DataView(body.buffer, body.byteOffset, BODY.minSize);
      const ms = wallNow() - dv.getFloat64(BODY.time, true);
      total.record(ms);
      interval.record(ms);
      const p = dv.getUint32(BODY.publisher, true);
      if (p < received.length) {
        if (!received[p].add(dv.getUint32(BODY.seq, true))) shared[Slot.Duplicates]++;
      } else shared[Slot.Unknown]++;
    } else shared[Slot.Unknown]++;
    msg.ack().catch((e) => errors.length < 100 && errors.push(`ack: ${e.message}`));
  };

  const open = async (j: number) => {
    const client = await connect(plan.uri, errors, `soak-consumer-${j}`);
    clients.push(client);
    shared[Slot.Connected]++;
    client.onerror = (e) => {
      shared[Slot.Connected]--;
      if (!stopping && errors.length < 100) errors.push(`soak-consumer-${j}: ${e.message}`);
    };
    const ch = await client.channel();
    if (plan.prefetch > 0) await ch.basicQos(plan.prefetch);
    const queue = plan.queueNames[j % plan.queueNames.length];
    consumers.push(await ch.basicConsume(queue, { noAck: false }, onMessage));
  };
  for (let j = 0; j < plan.consumers; j += plan.connectBatch) {
    const n = Math.min(plan.connectBatch, plan.consumers - j);
    await Promise.all(Array.from({ length: n }, (_, k) => open(j + k)));
  }

  return {
    interval() {
      const s = interval.summary();
      interval = new Histogram();
      return s;
    },
    async stop() {
      stopping = true;
      // basic.cancel first: deliveries before cancel-ok are acked before the connection closes,
      // so nothing delivered here is requeued (which would show up as a duplicate elsewhere).
      await Promise.all(consumers.map((c) => c.cancel().catch(() => {})));
      await sleep(200);
      for (let i = 0; i < clients.length; i += 100) {
        await Promise.all(clients.slice(i, i + 100).map((c) => closeQuietly(c)));
      }
      return {
        histogram: total.state(),
        received: received.map((s) => s.bits),
        errors: errors.slice(0, 20),
      };
    },
  };
}
