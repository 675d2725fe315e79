import assert from "node:assert/strict";
import { type GcOptions, IdleCollector } from "../../src/server/idle_gc.ts";

const MiB = 1024 * 1024;

Deno.test("idle gc: collects once the broker is quiet after heap growth, never during traffic", () => {
  let activity = 0;
  let heap = 50 * MiB;
  const calls: GcOptions[] = [];
  const collector = new IdleCollector(
    () => activity,
    (options) => {
      calls.push(options);
      heap = 20 * MiB; // what a full collection gives back
    },
    () => heap,
  );
  collector.tick();
  // Traffic: the heap grows by far more than the threshold, but clients keep sending.
  for (let i = 0; i < 10; i++) {
    activity++;
    heap += 20 * MiB;
    collector.tick();
  }
  assert.equal(calls.length, 0, "collected while clients were sending");
  // Quiet: one collection, a full one that gives memory back.
  collector.tick();
  assert.deepEqual(calls, [{ type: "major", flavor: "last-resort" }]);
  // Still quiet, the heap has not grown again: nothing more.
  collector.tick();
  assert.equal(calls.length, 1);
  // Small growth (under 8 MiB) while quiet is not worth a pause; more is.
  heap += 4 * MiB;
  collector.tick();
  assert.equal(calls.length, 1);
  heap += 40 * MiB;
  collector.tick();
  assert.equal(calls.length, 2);
});

Deno.test("idle gc: the broker starts it; without V8's gc() it does nothing", () => {
  const collector = new IdleCollector(() => 0, undefined).start();
  assert.equal(collector.available, false);
  collector.tick(); // no gc to call: must not throw
  collector.stop();
});
