/**
 * Producers and consumers on the minimal wire client (wire.ts): the same work and the same body
 * layout as the @cloudamqp/amqp-client ones in throughput.ts and consumers.ts, at far less CPU
 * per message on the client's side.
 *
 * @module
 */
import { Histogram } from "./histogram.ts";
import { type ConsumerFinal, type ConsumerPlan, Slot } from "./consumers.ts";
import { now, sleep, wallNow } from "./util.ts";
import {
  FRAME_BODY,
  FRAME_HEADER,
  FRAME_METHOD,
  M,
  publishTemplate,
  WireConnection,
} from "./wire.ts";

/** Connects the consumers (one connection each); returns a function that closes them and reports. */
export async function startWireConsumers(
  plan: ConsumerPlan,
  shared: Float64Array,
): Promise<() => Promise<ConsumerFinal>> {
  const errors: string[] = [];
  const hist = new Histogram();
  const conns: WireConnection[] = [];
  const flushers: ReturnType<typeof setInterval>[] = [];
  const manual = plan.ackEvery > 0;
  for (let j = 0; j < plan.consumers; j++) {
    const c = await WireConnection.open(plan.uri, `bench-consumer-${j}`);
    conns.push(c);
    if (plan.prefetch > 0) await c.qos(plan.prefetch);
    const lastSeq = new Map<number, number>();
    let pending = 0;
    let lastTag = 0;
    let lastAt = 0;
    let bodyLeft = 0;
    let bodySeen = 0;
    let redelivered = false;
    const delivered = () => {
      shared[Slot.Received]++;
      if (shared[Slot.Measuring] === 1) shared[Slot.ReceivedInWindow]++;
      if (redelivered) shared[Slot.Redelivered]++;
      if (manual && ++pending >= plan.ackEvery) {
        pending = 0;
        c.ack(lastTag, true).catch((e) => errors.push(`ack: ${e.message}`));
      }
    };
    c.onFrame = (type, _ch, buf, view, s, e) => {
      if (type === FRAME_METHOD) {
        if (view.getUint32(s) !== M.DELIVER) return;
        const tagAt = s + 5 + buf[s + 4];
        lastTag = Number(view.getBigUint64(tagAt));
        redelivered = (buf[tagAt + 8] & 1) === 1;
        lastAt = performance.now();
      } else if (type === FRAME_HEADER) {
        bodyLeft = Number(view.getBigUint64(s + 4));
        bodySeen = 0;
        if (bodyLeft === 0) delivered();
      } else if (type === FRAME_BODY) {
        if (bodySeen === 0 && e - s >= 16) {
          hist.record(wallNow() - view.getFloat64(s, true));
          const p = view.getUint32(s + 8, true);
          const seq = view.getUint32(s + 12, true);
          const prev = lastSeq.get(p);
          if (prev !== undefined && seq <= prev) shared[Slot.Reordered]++;
          else lastSeq.set(p, seq);
        }
        bodySeen += e - s;
        bodyLeft -= e - s;
        if (bodyLeft <= 0) delivered();
      }
    };
    await c.consume(plan.queueNames[j % plan.queueNames.length], !manual);
    if (manual) {
      // Acks what a partial batch left unacked once deliveries pause (end of run, small prefetch).
      flushers.push(setInterval(() => {
        if (pending > 0 && performance.now() - lastAt > 20 && !c.closed) {
          pending = 0;
          c.ack(lastTag, true).catch((e) => errors.push(`ack: ${e.message}`));
        }
      }, 25));
    }
  }
  return async () => {
    await sleep(100);
    for (const f of flushers) clearInterval(f);
    await sleep(30);
    for (const c of conns) {
      if (c.error) errors.push(c.error);
      await c.close();
    }
    return { histogram: hist.state(), errors: errors.slice(0, 20) };
  };
}

/** What a producer needs (a subset of the throughput options). */
export interface WireProducerPlan {
  uri: string;
  exchange: string;
  exchangeType: "direct" | "fanout";
  queues: number;
  producers: number;
  size: number;
  persistent: boolean;
  confirm: number;
  rate: number;
}

/** Shared counters of all producers. */
export interface ProducerCounters {
  sent: number;
  confirmed: number;
  nacked: number;
}

/** A connected producer: run() publishes until done() says stop. */
export async function openWireProducer(
  plan: WireProducerPlan,
  p: number,
  c: ProducerCounters,
  errors: string[],
): Promise<{ run: (done: () => boolean) => Promise<void>; close: () => Promise<void> }> {
  const conn = await WireConnection.open(plan.uri, `bench-producer-${p}`);
  if (plan.confirm > 0) await conn.confirmSelect();
  const keys = plan.exchangeType === "direct"
    ? Array.from({ length: plan.queues }, (_, i) => `k${i}`)
    : [""];
  const templates = keys.map((k) =>
    publishTemplate(1, plan.exchange, k, plan.size, plan.persistent, conn.frameMax)
  );
  const stamp = plan.size >= 16;
  const share = plan.rate > 0 ? plan.rate / plan.producers : 0;
  // Confirms: the broker acks publish sequence numbers; `acked` is the highest one covered.
  let outstanding = 0;
  let acked = 0;
  let wake: (() => void) | undefined;
  conn.onFrame = (type, _ch, _buf, view, s) => {
    if (type !== FRAME_METHOD) return;
    const mid = view.getUint32(s);
    if (mid !== M.ACK && mid !== M.NACK) return;
    const tag = Number(view.getBigUint64(s + 4));
    const multiple = (view.getUint8(s + 12) & 1) === 1;
    const n = multiple ? tag - acked : 1;
    if (multiple) acked = tag;
    else if (tag === acked + 1) acked = tag;
    outstanding -= n;
    if (mid === M.ACK) c.confirmed += n;
    else c.nacked += n;
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };

  const batchMax = 256;
  const maxMsg = templates[0].frames.length;
  let batch = new Uint8Array(maxMsg * batchMax);
  let view = new DataView(batch.buffer);

  const run = async (done: () => boolean) => {
    const start = now();
    let seq = 0;
    while (!done() && !conn.closed) {
      let n = batchMax;
      if (share > 0) {
        const due = Math.floor((share * (now() - start)) / 1000) - seq;
        if (due <= 0) {
          await sleep(1);
          continue;
        }
        n = Math.min(due, batchMax);
      }
      if (plan.confirm > 0) n = Math.min(n, plan.confirm - outstanding);
      if (n > 0) {
        if (batch.length < n * maxMsg) {
          batch = new Uint8Array(n * maxMsg);
          view = new DataView(batch.buffer);
        }
        let pos = 0;
        const t = wallNow();
        for (let i = 0; i < n; i++) {
          const tpl = templates[seq % templates.length];
          batch.set(tpl.frames, pos);
          if (stamp) {
            const b = pos + tpl.bodyOffset;
            view.setFloat64(b, t, true);
            view.setUint32(b + 8, p, true);
            view.setUint32(b + 12, seq, true);
          }
          pos += tpl.frames.length;
          seq++;
        }
        try {
          await conn.write(batch.subarray(0, pos));
        } catch (e) {
          errors.push(`publish: ${(e as Error).message}`);
          return;
        }
        c.sent += n;
        if (plan.confirm > 0) outstanding += n;
      }
      if (plan.confirm > 0) {
        while (outstanding >= plan.confirm && !conn.closed) {
          await new Promise<void>((resolve) => wake = resolve);
        }
      }
    }
    // Wait (bounded) for the confirms still outstanding.
    const until = now() + 30_000;
    while (plan.confirm > 0 && outstanding > 0 && now() < until && !conn.closed) await sleep(10);
    if (conn.error) errors.push(conn.error);
  };
  return {
    run,
    close: async () => {
      if (conn.error) errors.push(conn.error);
      await conn.close();
    },
  };
}
