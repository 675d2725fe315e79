/**
 * Worker entry for the consuming side of a throughput run (see consumers.ts).
 *
 * Messages in: `{ plan, shared }` to start, then `"stop"`. Messages out: `{ ready: true }`,
 * `{ error }`, and `{ final }` after stop.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { type ConsumerPlan, startConsumers } from "./consumers.ts";
import { startWireConsumers } from "./wire_load.ts";

let stop: (() => Promise<unknown>) | undefined;

self.onmessage = async (e: MessageEvent) => {
  try {
    if (e.data === "stop") {
      const final = stop ? await stop() : undefined;
      self.postMessage({ final });
      return;
    }
    const { plan, shared } = e.data as { plan: ConsumerPlan; shared: SharedArrayBuffer };
    const start = plan.client === "wire" ? startWireConsumers : startConsumers;
    stop = await start(plan, new Float64Array(shared));
    self.postMessage({ ready: true });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
