/**
 * consumer_timeout with amqplib: a delivery (to a consumer or by basic.get) left unacknowledged
 * longer than the timeout closes its channel with 406 PRECONDITION_FAILED and RabbitMQ's text
 * (class 0, method 0), and the channel's unacked messages are requeued; acks in time keep the
 * channel open.
 *
 * The broker runs with a tiny timeout. Against a RabbitMQ configured with a small
 * `consumer_timeout` (and a small `channel_tick_interval`, since it checks on that tick):
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:PORT/ TEST_CONSUMER_TIMEOUT_MS=300 \
 *     deno test -A tests/interop/consumer_timeout_test.ts
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { startBroker } from "../helpers/broker.ts";
import {
  type AmqpChannel,
  type AmqpError,
  type AmqpMessage,
  Client,
  connect,
  delay,
  uniqueName,
  within,
} from "../helpers/amqp_client.ts";

const EXTERNAL = Deno.env.get("TEST_AMQP_URL") !== undefined;
const TIMEOUT_MS = Number(Deno.env.get("TEST_CONSUMER_TIMEOUT_MS") ?? 300);
/** Long enough for the broker to notice a timed-out delivery (RabbitMQ's own tick is coarser). */
const NOTICE_MS = EXTERNAL ? TIMEOUT_MS + 10_000 : TIMEOUT_MS * 2 + 1000;

const timeoutText = (channel: number, ms = TIMEOUT_MS) =>
  `PRECONDITION_FAILED - delivery acknowledgement on channel ${channel} timed out. ` +
  `Timeout value used: ${ms} ms. This timeout value can be configured, see consumers doc guide ` +
  "to learn more";

/** A channel that records how the server closed it. */
interface Watched {
  ch: AmqpChannel;
  closed: Promise<AmqpError | undefined>;
  error: () => AmqpError | undefined;
}

async function watched(client: Client): Promise<Watched> {
  const ch = await client.channel();
  let error: AmqpError | undefined;
  ch.on("error", (e: AmqpError) => {
    error ??= e;
  });
  const closed = new Promise<AmqpError | undefined>((resolve) => {
    ch.on("close", () => resolve(error));
  });
  return { ch, closed, error: () => error };
}

function timeoutTest(
  name: string,
  fn: (url: string, queue: string, clients: Client[]) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: EXTERNAL && Deno.env.get("TEST_CONSUMER_TIMEOUT_MS") === undefined,
    // amqplib keeps sockets and timers that outlive individual operations.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const broker = await startBroker({ consumerTimeoutMs: TIMEOUT_MS });
      const clients: Client[] = [];
      const queue = uniqueName("ctimeout");
      try {
        const admin = await connect(broker.url);
        clients.push(admin);
        const ch = await admin.channel();
        await ch.assertQueue(queue, { durable: false });
        await fn(broker.url, queue, clients);
        if (!admin.closed) await (await admin.channel()).deleteQueue(queue);
      } finally {
        for (const c of clients) await c.close();
        await broker.close();
      }
    },
  });
}

/** Asserts the 406 close with RabbitMQ's text, and that the connection survived it. */
async function assertTimedOut(client: Client, w: Watched, channel: number): Promise<void> {
  const err = await within(w.closed, NOTICE_MS, "channel closed by the consumer timeout");
  assert.ok(err, "the server closed the channel with an error");
  assert.equal(err.code, 406);
  assert.equal(err.classId, 0);
  assert.equal(err.methodId, 0);
  assert.match(err.message, new RegExp(`with message "${escape(timeoutText(channel))}"$`));
  assert.equal(client.closed, false, "only the channel closes");
  await (await client.channel()).close();
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

timeoutTest(
  "consumer timeout: an unacked delivery closes the channel with 406; the message is redelivered",
  async (url, queue, clients) => {
    const holder = await connect(url);
    clients.push(holder);
    const w = await watched(holder);
    const held: AmqpMessage[] = [];
    await w.ch.consume(queue, (m) => m && held.push(m));
    w.ch.sendToQueue(queue, Buffer.from("slow"));
    const start = Date.now();
    await assertTimedOut(holder, w, 1);
    assert.equal(held.length, 1);
    assert.equal(held[0].fields.redelivered, false);
    assert.ok(Date.now() - start >= TIMEOUT_MS - 20, "not closed before the timeout");

    // Requeued as on any channel close: another consumer gets it, marked redelivered.
    const other = await connect(url);
    clients.push(other);
    const ch2 = await other.channel();
    const got = new Promise<AmqpMessage>((resolve) => {
      ch2.consume(queue, (m) => {
        if (m) {
          ch2.ack(m);
          resolve(m);
        }
      });
    });
    const m = await within(got, 5000, "redelivery");
    assert.equal(m.content.toString(), "slow");
    assert.equal(m.fields.redelivered, true);
  },
);

timeoutTest(
  "consumer timeout: acks in time keep the channel open, whatever the channel's age",
  async (url, queue, clients) => {
    const client = await connect(url);
    clients.push(client);
    const w = await watched(client);
    const deliveries: AmqpMessage[] = [];
    let hold: AmqpMessage | undefined;
    await w.ch.consume(queue, (m) => {
      if (!m) return;
      deliveries.push(m);
      if (m.content.toString() === "hold") hold = m;
      else w.ch.ack(m);
    });
    // Acked at once, then one held for most of the timeout, across the first check: the check
    // looks at the oldest delivery still unacked, not at the first one ever made.
    w.ch.sendToQueue(queue, Buffer.from("quick"));
    await delay(TIMEOUT_MS * 2 / 3);
    w.ch.sendToQueue(queue, Buffer.from("hold"));
    await delay(TIMEOUT_MS * 2 / 3);
    assert.ok(hold, "the held message arrived");
    w.ch.ack(hold);
    for (let i = 0; i < 5; i++) {
      w.ch.sendToQueue(queue, Buffer.from(`m${i}`));
      await delay(TIMEOUT_MS / 3);
    }
    await delay(TIMEOUT_MS + 200);
    await w.ch.checkQueue(queue); // a round trip on the channel: still open
    assert.equal(w.error(), undefined);
    assert.equal(deliveries.length, 7);
    assert.ok(deliveries.every((m) => !m.fields.redelivered));
    await w.ch.close();
  },
);

timeoutTest(
  "consumer timeout: a basic.get left unacked counts too",
  async (url, queue, clients) => {
    const client = await connect(url);
    clients.push(client);
    const w = await watched(client);
    w.ch.sendToQueue(queue, Buffer.from("got"));
    let m: AmqpMessage | false = false;
    for (let i = 0; i < 50 && m === false; i++) {
      m = await w.ch.get(queue, { noAck: false });
      if (m === false) await delay(10);
    }
    assert.ok(m !== false, "basic.get returned the message");
    await assertTimedOut(client, w, 1);

    const again = await (await client.channel()).get(queue, { noAck: true });
    assert.ok(again !== false, "the message was requeued");
    assert.equal(again.content.toString(), "got");
    assert.equal(again.fields.redelivered, true);
  },
);

timeoutTest(
  "consumer timeout: no-ack deliveries are never timed out",
  async (url, queue, clients) => {
    const client = await connect(url);
    clients.push(client);
    const w = await watched(client);
    let n = 0;
    await w.ch.consume(queue, () => n++, { noAck: true });
    w.ch.sendToQueue(queue, Buffer.from("a"));
    await delay(TIMEOUT_MS * 2 + 300);
    await w.ch.checkQueue(queue);
    assert.equal(w.error(), undefined);
    assert.equal(n, 1);
    await w.ch.close();
  },
);
