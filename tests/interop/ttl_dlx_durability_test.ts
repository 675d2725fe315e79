/**
 * TTL and dead-lettering with the message store, end to end with a broker in a child process (see
 * ../helpers/child_broker.ts): persistent messages that expired in a durable queue are settled, so
 * a restart does not bring them back, and their dead-lettered copies in a durable queue are stored.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type AmqpChannel, connect, guard, uniqueName, within } from "../helpers/amqp_client.ts";
import { type ChildBroker, startChildBroker, withDataDir } from "../helpers/child_broker.ts";

async function drain(ch: AmqpChannel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await within(ch.get(queue, { noAck: true }), 5000, "basic.get");
    if (m === false) return out;
    out.push(m.content.toString());
  }
}

/** Publishes one persistent message on a confirm channel and waits for its ack. */
function publishConfirmed(ch: AmqpChannel, queue: string, body: string): Promise<void> {
  return within(
    new Promise<void>((resolve, reject) =>
      ch.sendToQueue(
        queue,
        Buffer.from(body),
        { persistent: true },
        (err) => err ? reject(err) : resolve(),
      )
    ),
    10_000,
    "confirm",
  );
}

Deno.test({
  name: "TTL: expired persistent messages stay gone after a restart; dead-lettered copies stay",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withDataDir(async (dataDir) => {
      const brokers: ChildBroker[] = [];
      try {
        const [src, dead, keep] = [uniqueName("ttl-src"), uniqueName("ttl-dead"), uniqueName("k")];
        const b1 = await startChildBroker({ dataDir });
        brokers.push(b1);
        const c1 = await within(connect(b1.url), 5000, "connect");
        const ch = guard(await c1.raw.createConfirmChannel());
        await ch.assertQueue(dead, { durable: true });
        await ch.assertQueue(keep, { durable: true });
        await ch.assertQueue(src, {
          durable: true,
          arguments: {
            "x-message-ttl": 100,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": dead,
          },
        });
        await publishConfirmed(ch, src, "m1");
        await publishConfirmed(ch, src, "m2");
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await ch.checkQueue(src)).messageCount, 0);
        // A later confirmed publish: its fsync covers the settlements and copies before it.
        await publishConfirmed(ch, keep, "k");
        await within(c1.close(), 2000, "close").catch(() => {});
        b1.kill("SIGKILL");
        await b1.waitExit();

        const b2 = await startChildBroker({ dataDir });
        brokers.push(b2);
        const c2 = await within(connect(b2.url), 5000, "connect");
        try {
          const ch2 = guard(await c2.raw.createChannel());
          assert.deepEqual(await drain(ch2, src), []);
          assert.deepEqual(await drain(ch2, dead), ["m1", "m2"]);
          assert.deepEqual(await drain(ch2, keep), ["k"]);
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
