/**
 * frame_max = 0 means "no limit" (connection.tune): a frame larger than the broker's usual read
 * buffer (1 MiB) must still be read whole. This once left the read buffer full with no room to
 * grow, and the read loop spun on zero-length reads, hanging the whole broker.
 */
import assert from "node:assert/strict";
import * as spec from "../../src/amqp/spec.ts";
import { startBroker } from "../helpers/broker.ts";
import {
  concat,
  declareTempQueue,
  frame,
  headerFrame,
  methodFrame,
  publishMethod,
  RawAmqp,
  rawRoundTrip,
} from "../helpers/raw_amqp.ts";

Deno.test({
  name: "frame_max 0: a 3 MiB body in one frame arrives intact, and the broker serves on",
  ignore: Deno.env.get("TEST_AMQP_URL") !== undefined, // RabbitMQ caps frame_max at 128 KiB here
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const broker = await startBroker({ frameMax: 0 });
    const c = await RawAmqp.connect(broker.port, { frameMax: 0 });
    try {
      await c.openChannel(1);
      const queue = await declareTempQueue(c, 1);
      const size = 3 * 1024 * 1024;
      const body = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
      await c.send(concat(
        methodFrame(1, publishMethod("", queue)),
        headerFrame(1, size),
        frame(spec.FRAME_BODY, 1, body),
        methodFrame(1, { id: spec.BASIC_GET, ticket: 0, queue, noAck: true }),
      ));
      await c.expectMethod(1, spec.BASIC_GET_OK, 10_000);
      assert.equal((await c.readFrame(10_000))?.type, spec.FRAME_HEADER);
      const got = await c.readFrame(10_000);
      assert.equal(got?.type, spec.FRAME_BODY);
      assert.equal(got.payload.length, size);
      assert.ok(got.payload.every((b, i) => b === body[i]), "the body came back changed");
      await rawRoundTrip(broker.port, 3_000);
    } finally {
      await c.dispose();
      await broker.close();
    }
  },
});
