/**
 * Scenario "queues": declare many queues, send one message through each, time every phase.
 *
 * @module
 */
import { closeQuietly, connect, now, round, runId } from "./util.ts";

/** What the queue-churn scenario measured. */
export interface QueuesResult {
  kind: "queues";
  queues: number;
  declareMs: number;
  /** Publishing one message to each queue and getting it back with basic.get. */
  throughMs: number;
  deleteMs: number;
  /** declare + through. */
  totalMs: number;
  received: number;
  lost: number;
  errors: string[];
}

/** Declares `count` queues on one channel, publishes one message to each, gets each back. */
export async function runQueues(uri: string, count: number): Promise<QueuesResult> {
  const errors: string[] = [];
  const id = runId();
  const names = Array.from({ length: count }, (_, i) => `bench.${id}.many${i}`);
  const client = await connect(uri, errors, "bench-queues");
  const ch = await client.channel();
  const t0 = now();
  await Promise.all(names.map((q) => ch.queueDeclare(q)));
  const t1 = now();
  const body = new Uint8Array(64);
  await Promise.all(names.map((q) => ch.basicPublish("", q, body)));
  let received = 0;
  const deadline = now() + 30_000;
  for (const q of names) {
    for (;;) {
      const msg = await ch.basicGet(q, { noAck: true });
      if (msg) {
        received++;
        break;
      }
      if (now() > deadline) break;
    }
  }
  const t2 = now();
  await Promise.all(names.map((q) => ch.queueDelete(q)));
  const t3 = now();
  await closeQuietly(client);
  return {
    kind: "queues",
    queues: count,
    declareMs: round(t1 - t0, 1),
    throughMs: round(t2 - t1, 1),
    deleteMs: round(t3 - t2, 1),
    totalMs: round(t2 - t0, 1),
    received,
    lost: count - received,
    errors,
  };
}
