/**
 * Seeded fuzzing, bounded in cases and time (under 10 s on two cores):
 *
 * - the codec alone: 150,000 random and damaged method payloads, field tables and property lists
 *   through the decoders, where only a value or a DecodeError may come out;
 * - a live broker: 300 connections, each sending a random mix of valid, damaged and random frames
 *   after a handshake, after which the broker must still serve amqplib, have its listener, have let
 *   go of every fuzz connection, and never have answered INTERNAL_ERROR.
 *
 * A failure names the seed and case; replay it with `deno run -A scripts/fuzz.ts --seed S --case N`.
 * FUZZ_SEED=n picks another seed. The socket part needs the in-process broker, so it does not run
 * with TEST_AMQP_URL.
 */
import assert from "node:assert/strict";
import { getText, publishAndSync, withClient } from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import { decoderFuzz, socketFuzz } from "../helpers/fuzz.ts";
import { rawRoundTrip } from "../helpers/raw_amqp.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261125);
const DECODER_ITERATIONS = 150_000;
const CONNECTIONS = 300;

Deno.test("fuzz: the decoders return a value or throw DecodeError, nothing else", () => {
  const t0 = performance.now();
  const stats = decoderFuzz(SEED, DECODER_ITERATIONS);
  const ms = performance.now() - t0;
  console.log(`decoder fuzz seed ${SEED}: ${JSON.stringify(stats)} in ${ms.toFixed(0)} ms`);
  assert.equal(stats.iterations, DECODER_ITERATIONS);
  // The mix must exercise both sides: inputs that decode, and inputs that are refused.
  assert.ok(stats.decoded > DECODER_ITERATIONS / 5, "enough inputs decoded");
  assert.ok(stats.decodeErrors > DECODER_ITERATIONS / 5, "enough inputs refused");
  assert.ok(stats.roundTrips > DECODER_ITERATIONS / 10, "enough valid inputs round-tripped");
});

Deno.test({
  name: "fuzz: 300 connections of damaged frames leave the broker serving",
  ignore: Deno.env.get("TEST_AMQP_URL") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const unhandled: unknown[] = [];
    const onRejection = (e: PromiseRejectionEvent) => {
      unhandled.push(e.reason);
      e.preventDefault();
    };
    const onError = (e: ErrorEvent) => {
      unhandled.push(e.error);
      e.preventDefault();
    };
    globalThis.addEventListener("unhandledrejection", onRejection);
    globalThis.addEventListener("error", onError);
    const broker = await startBroker({ handshakeTimeoutMs: 2_000, logLevel: "none" });
    try {
      const t0 = Date.now();
      const stats = await socketFuzz({
        port: broker.port,
        seed: SEED,
        cases: CONNECTIONS,
        concurrency: 8,
        maxFrames: 20,
        quietMs: 100,
        deadline: t0 + 25_000,
      });
      console.log(
        `socket fuzz seed ${SEED}: ${stats.cases} connections, ${stats.framesSent} frames, ` +
          `${stats.bytesSent} bytes in ${Date.now() - t0} ms; connection.close codes ` +
          `${JSON.stringify(stats.outcomes)}; channel.close codes ` +
          JSON.stringify(stats.channelCloses),
      );
      assert.deepEqual(stats.failures, []);
      assert.equal(stats.cases, CONNECTIONS, "every case ran before the deadline");
      // The fuzz must reach past the frame layer: channel errors and clean endings, not only 501s.
      assert.ok(Object.keys(stats.outcomes).length >= 4, "a variety of endings");

      // Still serving: a raw client and amqplib both make a round trip.
      await rawRoundTrip(broker.port);
      await withClient(broker.url, async (client) => {
        const ch = await client.channel();
        const { queue } = await ch.assertQueue("", { exclusive: true });
        await publishAndSync(ch, "", queue, "after the fuzz");
        assert.equal(await getText(ch, queue), "after the fuzz");
      });

      // Every fuzz connection was let go (those waiting out a close-ok grace period within 5 s).
      const deadline = Date.now() + 5_000;
      while (broker.server.connections.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(broker.server.connections.size, 0, "connections left open");
      assert.deepEqual(unhandled, [], "unhandled errors in the broker");
    } finally {
      globalThis.removeEventListener("unhandledrejection", onRejection);
      globalThis.removeEventListener("error", onError);
      await broker.close();
    }
  },
});
