/**
 * Worker entry for the consuming side of a soak run (see consumers.ts).
 *
 * Messages in: `{ start: { plan, shared } }`, then any number of `"interval"`, then `"stop"`.
 * Messages out: `{ ready: true }` or `{ error }`, `{ interval: LatencySummary }`, and
 * `{ final: ConsumerFinal }` (its id bit sets transferred) after stop.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { type ConsumerPlan, type Consumers, startConsumers } from "./consumers.ts";

let consumers: Consumers | undefined;

self.onmessage = async (e: MessageEvent) => {
  try {
    if (e.data === "interval") {
      self.postMessage({ interval: consumers?.interval() });
    } else if (e.data === "stop") {
      const final = await consumers?.stop();
      self.postMessage({ final }, final ? final.received.map((b) => b.buffer as ArrayBuffer) : []);
    } else {
      const { plan, shared } = e.data.start as { plan: ConsumerPlan; shared: SharedArrayBuffer };
      consumers = await startConsumers(plan, new Float64Array(shared));
      self.postMessage({ ready: true });
    }
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
