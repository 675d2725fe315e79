/**
 * Queue length limits and the message store, end to end with a broker in a child process (see
 * ../helpers/child_broker.ts): messages dropped from the head of a full durable queue are settled,
 * and messages a full queue refused are never stored, so a restart brings back neither.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type AmqpChannel, connect, guard, uniqueName, within } from "../helpers/amqp_client.ts";
import { type ChildBroker, startChildBroker, withDataDir } from "../helpers/child_broker.ts";

/** Publishes persistent messages on a confirm channel; "ack" or "nack" per message. */
function publishAll(ch: AmqpChannel, queue: string, bodies: string[]): Promise<string[]> {
  return within(
    Promise.all(bodies.map((b) =>
      new Promise<string>((resolve) =>
        ch.sendToQueue(
          queue,
          Buffer.from(b),
          { persistent: true },
          (err) => resolve(err ? "nack" : "ack"),
        )
      )
    )),
    10_000,
    "confirms",
  );
}

async function drain(ch: AmqpChannel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await within(ch.get(queue, { noAck: true }), 5000, "basic.get");
    if (m === false) return out;
    out.push(m.content.toString());
  }
}

Deno.test({
  name: "length limits: dropped and refused persistent messages do not come back after a restart",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (dataDir) => {
      const brokers: ChildBroker[] = [];
      try {
        const [dropQ, rejectQ] = [uniqueName("ext-drop"), uniqueName("ext-reject")];
        const b1 = await startChildBroker({ dataDir });
        brokers.push(b1);
        const c1 = await within(connect(b1.url), 5000, "connect");
        const ch = guard(await c1.raw.createConfirmChannel());
        await ch.assertQueue(dropQ, { durable: true, arguments: { "x-max-length": 2 } });
        await ch.assertQueue(rejectQ, {
          durable: true,
          arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
        });
        const bodies = ["m1", "m2", "m3", "m4", "m5"];
        assert.deepEqual(await publishAll(ch, dropQ, bodies), ["ack", "ack", "ack", "ack", "ack"]);
        assert.deepEqual(await publishAll(ch, rejectQ, bodies), [
          "ack",
          "ack",
          "nack",
          "nack",
          "nack",
        ]);
        await within(c1.close(), 2000, "close").catch(() => {});
        b1.kill("SIGKILL");
        await b1.waitExit();

        const b2 = await startChildBroker({ dataDir });
        brokers.push(b2);
        const c2 = await within(connect(b2.url), 5000, "connect");
        try {
          const ch2 = guard(await c2.raw.createChannel());
          assert.deepEqual(await drain(ch2, dropQ), ["m4", "m5"]);
          assert.deepEqual(await drain(ch2, rejectQ), ["m1", "m2"]);
        } finally {
          await within(c2.close(), 2000, "close").catch(() => {});
        }
      } catch (err) {
        for (const b of brokers) console.error(`--- broker log (port ${b.port}) ---\n${b.output}`);
        throw err;
      } finally {
        for (const b of brokers) await b.stop();
      }
    });
  },
});
