/**
 * Bad input over raw sockets: wrong protocol headers, malformed and misplaced frames, broken content
 * sequences, truncated methods, handshake and heartbeat timeouts. Every expectation was checked
 * against RabbitMQ 3.10; run the same file against it with
 *
 *   TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5700/ deno test -A tests/interop/bad_input_test.ts
 *
 * Where RabbitMQ's answer is a crash of its connection process (it drops the TCP connection with
 * no connection.close), or a protocol this broker does not speak (AMQP 0-8 / 0-9), the test checks
 * RabbitMQ's behaviour against RabbitMQ and ours against ours; those places say so.
 *
 * After every case a fresh connection must still complete a declare / publish / get round trip,
 * and a bystander connection opened before the first case must still work.
 */
import assert from "node:assert/strict";
import * as spec from "../../src/amqp/spec.ts";
import { Writer } from "../../src/amqp/writer.ts";
import { getText, publishAndSync, withClient } from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import {
  AMQP_HEADER,
  bodyFrame,
  type CloseInfo,
  concat,
  declareTempQueue,
  frame,
  headerFrame,
  heartbeatFrame,
  methodFrame,
  methodPayload,
  publishAndGet,
  publishMethod,
  queueDeclareMethod,
  RawAmqp,
  rawFrame,
  rawRoundTrip,
} from "../helpers/raw_amqp.ts";

/** Running against a real RabbitMQ (TEST_AMQP_URL) rather than our in-process broker. */
const RABBITMQ = Deno.env.get("TEST_AMQP_URL") !== undefined;
/** Our test broker gives up on a silent handshake after this; RabbitMQ after 10 s. */
const HANDSHAKE_TIMEOUT_MS = 500;
const enc = new TextEncoder();
const bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

const qos = (): spec.Method => ({
  id: spec.BASIC_QOS,
  prefetchSize: 0,
  prefetchCount: 1,
  global: false,
});

/** Checks a close: exact text for a string, a pattern for a RegExp. */
function assertClose(
  got: CloseInfo,
  want: { code: number; text: string | RegExp; classId: number; methodId: number },
): void {
  const actual = { code: got.code, classId: got.classId, methodId: got.methodId };
  const expected = { code: want.code, classId: want.classId, methodId: want.methodId };
  assert.deepEqual(actual, expected, `close was ${JSON.stringify(got)}`);
  if (typeof want.text === "string") assert.equal(got.text, want.text);
  else assert.match(got.text, want.text);
  assert.equal(got.kind, "connection", "a hard error closes the connection, not the channel");
}

/** The server's connection.close, or "dropped" if it closed the socket without one. */
async function closeOrDrop(c: RawAmqp, timeoutMs = 5_000): Promise<CloseInfo | "dropped"> {
  try {
    return await c.expectClose(timeoutMs);
  } catch (err) {
    if (c.ended) return "dropped";
    throw err;
  }
}

/** A connection opened before the bad ones, checked after each: it must not notice them. */
class Bystander {
  private n = 0;
  private constructor(private readonly c: RawAmqp, private readonly queue: string) {}

  static async open(port: number): Promise<Bystander> {
    const c = await RawAmqp.connect(port);
    await c.openChannel(1);
    return new Bystander(c, await declareTempQueue(c, 1));
  }

  async check(): Promise<void> {
    const body = `bystander ${++this.n}`;
    assert.equal(await publishAndGet(this.c, 1, this.queue, body), body);
  }

  async close(): Promise<void> {
    await this.c.closeGracefully();
  }
}

Deno.test({
  name: "bad input: the broker answers as RabbitMQ does and keeps serving everyone else",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const broker = await startBroker({ handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
    const port = broker.port;
    const bystander = await Bystander.open(port);

    /**
     * One case on its own connection(s); then, whether it passed or not, the broker must still
     * serve a fresh client and the bystander.
     */
    const step = (name: string, fn: () => Promise<void>) =>
      t.step(name, async () => {
        let failure: unknown;
        try {
          await fn();
        } catch (err) {
          failure = err;
        }
        await rawRoundTrip(port);
        await bystander.check();
        if (failure !== undefined) throw failure;
      });

    /** Handshake, channel 1 open, send `input`, return the server's close. */
    const sendOnOpenChannel = async (input: Uint8Array, handshake = {}) => {
      const c = await RawAmqp.connect(port, handshake);
      try {
        await c.openChannel(1);
        await c.send(input);
        return await c.expectClose();
      } finally {
        await c.dispose();
      }
    };

    try {
      // ---- 1. protocol header

      await step(
        "a wrong protocol header is answered with AMQP 0-9-1's and the socket closed",
        async () => {
          const headers = [
            "AMQP\x00\x00\x09\x00", // 0-9-0
            "HTTP/1.1 GET",
            "AMQP\x00\x00\x08\x00",
            "AMQP\x00\x01\x00\x00", // AMQP 1.0
            "AMQP\x03\x01\x00\x00", // AMQP 1.0 SASL layer
            "GARBAGE!",
          ];
          for (const h of headers) {
            const c = await RawAmqp.open(port);
            try {
              await c.send(bytes(h));
              const reply = await c.readUntilClosed();
              assert.deepEqual(reply, AMQP_HEADER, `reply to ${JSON.stringify(h)}`);
            } finally {
              await c.dispose();
            }
          }
        },
      );

      await step(
        "the AMQP 0-8 and 0-9 headers (RabbitMQ still speaks both; we answer 0-9-1)",
        async () => {
          for (
            const [h, major, minor] of [["AMQP\x01\x01\x00\x09", 0, 9], [
              "AMQP\x01\x01\x08\x00",
              8,
              0,
            ]] as const
          ) {
            const c = await RawAmqp.open(port);
            try {
              await c.send(bytes(h));
              if (RABBITMQ) {
                const start = await c.expectMethod(0, spec.CONNECTION_START);
                assert.deepEqual([start.versionMajor, start.versionMinor], [major, minor]);
              } else {
                assert.deepEqual(await c.readUntilClosed(), AMQP_HEADER);
              }
            } finally {
              await c.dispose();
            }
          }
        },
      );

      await step(
        "a partial protocol header then silence: closed by the handshake timeout",
        async () => {
          const c = await RawAmqp.open(port);
          try {
            await c.send(bytes("AMQ"));
            const t0 = Date.now();
            const reply = await c.readUntilClosed(RABBITMQ ? 15_000 : 5_000);
            assert.equal(reply.length, 0, "nothing is written back");
            if (!RABBITMQ) assert.ok(Date.now() - t0 < HANDSHAKE_TIMEOUT_MS + 1_500);
          } finally {
            await c.dispose();
          }
        },
      );

      await step(
        "a protocol header and no start-ok: closed by the handshake timeout, no close",
        async () => {
          const c = await RawAmqp.open(port);
          try {
            await c.send(AMQP_HEADER);
            await c.expectMethod(0, spec.CONNECTION_START);
            const t0 = Date.now();
            assert.equal(
              await c.readFrame(RABBITMQ ? 15_000 : 5_000),
              null,
              "socket ends, no frame",
            );
            if (!RABBITMQ) assert.ok(Date.now() - t0 < HANDSHAKE_TIMEOUT_MS + 1_500);
          } finally {
            await c.dispose();
          }
        },
      );

      await step(
        "garbage instead of start-ok: the socket is closed (RabbitMQ: silently)",
        async () => {
          const c = await RawAmqp.open(port);
          try {
            await c.send(AMQP_HEADER);
            await c.expectMethod(0, spec.CONNECTION_START);
            await c.send(enc.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            const got = await closeOrDrop(c);
            if (RABBITMQ) assert.equal(got, "dropped");
            else assert.ok(got === "dropped" || got.code === spec.FRAME_ERROR, JSON.stringify(got));
            assert.ok(await c.waitClosed(5_000), "socket closed");
          } finally {
            await c.dispose();
          }
        },
      );

      await step("tune-ok beyond the offered limits: the connection is refused", async () => {
        const limits: [number, number][] = [[2047, 4095], [2047, 131073], [2048, 131072]];
        for (const [channelMax, frameMax] of limits) {
          const c = await RawAmqp.open(port);
          try {
            await c.send(AMQP_HEADER);
            await c.expectMethod(0, spec.CONNECTION_START);
            await c.sendMethod(0, {
              id: spec.CONNECTION_START_OK,
              clientProperties: {},
              mechanism: "PLAIN",
              response: enc.encode("\0guest\0guest"),
              locale: "en_US",
            });
            await c.expectMethod(0, spec.CONNECTION_TUNE);
            await c.sendMethod(0, {
              id: spec.CONNECTION_TUNE_OK,
              channelMax,
              frameMax,
              heartbeat: 0,
            });
            await c.sendMethod(0, {
              id: spec.CONNECTION_OPEN,
              virtualHost: "/",
              capabilities: "",
              insist: false,
            });
            const got = await closeOrDrop(c);
            if (RABBITMQ) {
              // A handshake error: RabbitMQ closes the socket without a word.
              assert.equal(got, "dropped", JSON.stringify(got));
            } else {
              assert.notEqual(got, "dropped");
              assertClose(got as CloseInfo, {
                code: 530,
                text: /^NOT_ALLOWED - (frame|channel)_max=/,
                classId: 10,
                methodId: 31,
              });
            }
          } finally {
            await c.dispose();
          }
        }
      });

      // ---- 2. frame_max

      await step("a frame larger than frame_max: 501 from the size field alone", async () => {
        const c = await RawAmqp.connect(port, { frameMax: 131072 });
        try {
          await c.openChannel(1);
          // Only the frame header: the broker must not wait for 200000 bytes before refusing.
          await c.send(rawFrame(spec.FRAME_METHOD, 1, 200_000, new Uint8Array(10), undefined));
          const close = await c.expectClose();
          // RabbitMQ: "FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,200000,131064}"
          assertClose(close, {
            code: 501,
            text: /^FRAME_ERROR - type 1, .*200000/,
            classId: 0,
            methodId: 0,
          });
          assert.ok(await c.waitClosed(5_000), "socket closed (RabbitMQ: 3 s after the close)");
        } finally {
          await c.dispose();
        }
      });

      await step("a frame over a smaller negotiated frame_max (4096): 501", async () => {
        const close = await sendOnOpenChannel(bodyFrame(1, new Uint8Array(4097)), {
          frameMax: 4096,
        });
        assertClose(close, {
          code: 501,
          text: /^FRAME_ERROR - type 3, .*4097/,
          classId: 0,
          methodId: 0,
        });
      });

      await step("a frame of exactly frame_max bytes is accepted", async () => {
        const c = await RawAmqp.connect(port, { frameMax: 4096 });
        try {
          await c.openChannel(1);
          const queue = await declareTempQueue(c, 1);
          const body = new Uint8Array(4096 - 8).fill(0x61);
          await c.send(concat(
            methodFrame(1, publishMethod("", queue)),
            headerFrame(1, body.length),
            bodyFrame(1, body),
          ));
          assert.equal(await publishAndGet(c, 1, queue, "next"), "a".repeat(4088));
          assert.equal(await publishAndGet(c, 1, queue, "next"), "next");
        } finally {
          await c.closeGracefully();
        }
      });

      await step("RabbitMQ tolerates 8 bytes over frame_max (its FRAME_SIZE_FUDGE)", async () => {
        // A payload of frame_max bytes (a frame of frame_max + 8) passes RabbitMQ's check, which
        // allows for clients that forgot the frame overhead; one byte more is a 501.
        const c = await RawAmqp.connect(port, { frameMax: 4096 });
        try {
          await c.openChannel(1);
          const queue = await declareTempQueue(c, 1);
          await c.send(concat(
            methodFrame(1, publishMethod("", queue)),
            headerFrame(1, 4096),
            bodyFrame(1, new Uint8Array(4096)),
          ));
          await c.sendMethod(1, { id: spec.BASIC_GET, ticket: 0, queue, noAck: true });
          const got = await c.readMethod();
          assert.equal(got?.method.id, spec.BASIC_GET_OK, JSON.stringify(got?.method));
        } finally {
          await c.dispose();
        }
        const close = await sendOnOpenChannel(bodyFrame(1, new Uint8Array(4097)), {
          frameMax: 4096,
        });
        assert.equal(close.code, 501);
      });

      // ---- 3. frame end

      await step("a frame without the 0xCE end octet: 501", async () => {
        const p = methodPayload(qos());
        const close = await sendOnOpenChannel(rawFrame(spec.FRAME_METHOD, 1, p.length, p, 0x00));
        // RabbitMQ: "FRAME_ERROR - type 1, all octets = <<…>>: {invalid_frame_end_marker,0}"
        assertClose(close, { code: 501, text: /^FRAME_ERROR - /, classId: 0, methodId: 0 });
      });

      // ---- 4. frame type

      await step("an unknown frame type (0, 4, 9) is a 501", async () => {
        for (const type of [0, 4, 9]) {
          const close = await sendOnOpenChannel(frame(type, 1, new Uint8Array([1, 2, 3])));
          // RabbitMQ: "FRAME_ERROR - type 9, all octets = <<1,2,3>>: unknown_frame"
          assertClose(close, {
            code: 501,
            text: new RegExp(`^FRAME_ERROR - .*type ${type}\\b`),
            classId: 0,
            methodId: 0,
          });
        }
      });

      await step("a heartbeat frame with a payload is a 501", async () => {
        const close = await sendOnOpenChannel(
          frame(spec.FRAME_HEARTBEAT, 0, new Uint8Array([1, 2])),
        );
        // RabbitMQ: "FRAME_ERROR - type 8, all octets = <<1,2>>: unknown_frame"
        assertClose(close, { code: 501, text: /^FRAME_ERROR - /, classId: 0, methodId: 0 });
      });

      // ---- 5. unknown class / method

      await step("an unknown class or method id closes the connection", async () => {
        const cases: [number, number, number][] = [[1, 99, 1], [1, 60, 999], [0, 10, 999], [
          0,
          99,
          1,
        ]];
        for (const [channel, classId, methodId] of cases) {
          const c = await RawAmqp.connect(port);
          try {
            await c.openChannel(1);
            const w = new Writer(16);
            w.short(classId);
            w.short(methodId);
            w.raw(new Uint8Array([1, 2, 3]));
            await c.send(frame(spec.FRAME_METHOD, channel, w.bytes().slice()));
            const got = await closeOrDrop(c);
            if (RABBITMQ) {
              // RabbitMQ's reader crashes ({unknown_method_id,{99,1}}) and drops the socket.
              assert.equal(got, "dropped", JSON.stringify(got));
            } else {
              assert.notEqual(got, "dropped");
              const close = got as CloseInfo;
              assert.ok([503, 540].includes(close.code), JSON.stringify(close));
              assert.deepEqual([close.kind, close.classId, close.methodId], [
                "connection",
                classId,
                methodId,
              ]);
            }
            assert.ok(await c.waitClosed(), "socket closed");
          } finally {
            await c.dispose();
          }
        }
      });

      // ---- 6. channels

      await step("a method on a channel never opened: 504 naming the method", async () => {
        const declare = methodFrame(5, queueDeclareMethod("never-declared"));
        assertClose(await sendOnOpenChannel(declare), {
          code: 504,
          text: /^CHANNEL_ERROR - expected 'channel.open'/,
          classId: 50,
          methodId: 10,
        });
        const close = methodFrame(5, {
          id: spec.CHANNEL_CLOSE,
          replyCode: 200,
          replyText: "",
          classId: 0,
          methodId: 0,
        });
        assertClose(await sendOnOpenChannel(close), {
          code: 504,
          text: /^CHANNEL_ERROR - expected 'channel.open'/,
          classId: 20,
          methodId: 40,
        });
      });

      await step("channel.open twice on one channel: 504", async () => {
        const open = methodFrame(1, { id: spec.CHANNEL_OPEN, outOfBand: "" });
        assertClose(await sendOnOpenChannel(open), {
          code: 504,
          text: /^CHANNEL_ERROR - second 'channel.open' seen/,
          classId: 20,
          methodId: 10,
        });
      });

      await step("channel.open on channel 0: 504", async () => {
        const open = methodFrame(0, { id: spec.CHANNEL_OPEN, outOfBand: "" });
        assertClose(await sendOnOpenChannel(open), {
          code: 504,
          text: "CHANNEL_ERROR - unexpected method in connection state running",
          classId: 20,
          methodId: 10,
        });
      });

      await step("connection.open on channel 1: 503", async () => {
        const open = methodFrame(1, {
          id: spec.CONNECTION_OPEN,
          virtualHost: "/",
          capabilities: "",
          insist: false,
        });
        // RabbitMQ: "COMMAND_INVALID - unimplemented method"
        assertClose(await sendOnOpenChannel(open), {
          code: 503,
          text: /^COMMAND_INVALID - /,
          classId: 10,
          methodId: 40,
        });
      });

      // ---- 7. content frames out of place

      const EXPECTED_METHOD =
        "UNEXPECTED_FRAME - expected method frame, got non method frame instead";
      const EXPECTED_HEADER =
        "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead";
      const EXPECTED_BODY =
        "UNEXPECTED_FRAME - expected content body, got non content body frame instead";
      const publish = methodFrame(1, publishMethod("", "nowhere"));

      await step("a content header with no basic.publish before it: 505", async () => {
        assertClose(await sendOnOpenChannel(headerFrame(1, 5)), {
          code: 505,
          text: EXPECTED_METHOD,
          classId: 0,
          methodId: 0,
        });
      });

      await step("a body frame with no basic.publish before it: 505", async () => {
        assertClose(await sendOnOpenChannel(bodyFrame(1, enc.encode("hello"))), {
          code: 505,
          text: EXPECTED_METHOD,
          classId: 0,
          methodId: 0,
        });
      });

      await step("an empty body frame after a zero-size header: 505", async () => {
        const input = concat(publish, headerFrame(1, 0), bodyFrame(1, new Uint8Array(0)));
        assertClose(await sendOnOpenChannel(input), {
          code: 505,
          text: EXPECTED_METHOD,
          classId: 0,
          methodId: 0,
        });
      });

      // RabbitMQ names basic.publish (60, 40), the method whose content is being assembled.
      await step(
        "a body frame where the content header belongs: 505 naming basic.publish",
        async () => {
          const input = concat(publish, bodyFrame(1, enc.encode("hello")));
          assertClose(await sendOnOpenChannel(input), {
            code: 505,
            text: EXPECTED_HEADER,
            classId: 60,
            methodId: 40,
          });
        },
      );

      await step(
        "a method frame where the content header belongs: 505 naming basic.publish",
        async () => {
          const input = concat(publish, methodFrame(1, qos()));
          assertClose(await sendOnOpenChannel(input), {
            code: 505,
            text: EXPECTED_HEADER,
            classId: 60,
            methodId: 40,
          });
        },
      );

      await step("a method frame while body is expected: 505 naming basic.publish", async () => {
        const input = concat(
          publish,
          headerFrame(1, 10),
          bodyFrame(1, enc.encode("hello")),
          methodFrame(1, qos()),
        );
        assertClose(await sendOnOpenChannel(input), {
          code: 505,
          text: EXPECTED_BODY,
          classId: 60,
          methodId: 40,
        });
      });

      await step(
        "a second content header while body is expected: 505 naming basic.publish",
        async () => {
          const input = concat(publish, headerFrame(1, 10), headerFrame(1, 10));
          assertClose(await sendOnOpenChannel(input), {
            code: 505,
            text: EXPECTED_BODY,
            classId: 60,
            methodId: 40,
          });
        },
      );

      await step("a content header for class 50 after basic.publish: 505", async () => {
        const input = concat(publish, headerFrame(1, 10, 50));
        assertClose(await sendOnOpenChannel(input), {
          code: 505,
          text:
            "UNEXPECTED_FRAME - expected content header for class 60, got one for class 50 instead",
          classId: 60,
          methodId: 40,
        });
      });

      await step("content frames on channel 0: 505", async () => {
        for (const f of [headerFrame(0, 1), bodyFrame(0, enc.encode("x"))]) {
          // RabbitMQ: "UNEXPECTED_FRAME - type 2, all octets = <<…>>"
          assertClose(await sendOnOpenChannel(f), {
            code: 505,
            text: /^UNEXPECTED_FRAME - /,
            classId: 0,
            methodId: 0,
          });
        }
      });

      // ---- 8. truncated and malformed method payloads

      await step("queue.declare cut inside the queue name: 501 naming queue.declare", async () => {
        const p = methodPayload(queueDeclareMethod("a-queue-name"));
        const cut = p.subarray(0, 4 + 2 + 1 + 5); // class, method, ticket, length, 5 of 12 bytes
        // RabbitMQ: "FRAME_ERROR - cannot decode <<0,0,12,97,45,113,117,101>>"
        assertClose(await sendOnOpenChannel(frame(spec.FRAME_METHOD, 1, cut)), {
          code: 501,
          text: /^FRAME_ERROR - cannot decode/,
          classId: 50,
          methodId: 10,
        });
      });

      await step(
        "queue.declare without its arguments table: 501 naming queue.declare",
        async () => {
          const p = methodPayload(queueDeclareMethod("qq"));
          const cut = p.subarray(0, p.length - 4);
          assertClose(await sendOnOpenChannel(frame(spec.FRAME_METHOD, 1, cut)), {
            code: 501,
            text: /^FRAME_ERROR - cannot decode/,
            classId: 50,
            methodId: 10,
          });
        },
      );

      await step(
        "basic.qos with 3 stray bytes after its arguments: 501 naming basic.qos",
        async () => {
          const p = concat(methodPayload(qos()), new Uint8Array([1, 2, 3]));
          assertClose(await sendOnOpenChannel(frame(spec.FRAME_METHOD, 1, p)), {
            code: 501,
            text: /^FRAME_ERROR - cannot decode/,
            classId: 60,
            methodId: 10,
          });
        },
      );

      await step("a method frame too short for its method id: 501", async () => {
        // RabbitMQ: "FRAME_ERROR - type 1, all octets = <<0,50>>: unknown_frame"
        assertClose(await sendOnOpenChannel(frame(spec.FRAME_METHOD, 1, new Uint8Array([0, 50]))), {
          code: 501,
          text: /^FRAME_ERROR - /,
          classId: 0,
          methodId: 0,
        });
      });

      await step("an unknown field type in a table closes the connection", async () => {
        const w = new Writer(64);
        w.long(spec.QUEUE_DECLARE);
        w.short(0);
        w.shortstr("bad-table");
        w.octet(0);
        w.long(4); // table: key "k", type 'Z' (no such type), one byte
        w.shortstr("k");
        w.octet("Z".charCodeAt(0));
        w.octet(0);
        const c = await RawAmqp.connect(port);
        try {
          await c.openChannel(1);
          await c.send(frame(spec.FRAME_METHOD, 1, w.bytes().slice()));
          const got = await closeOrDrop(c);
          // RabbitMQ's reader crashes (function_clause in the table parser) and drops the socket.
          if (RABBITMQ) assert.equal(got, "dropped", JSON.stringify(got));
          else {
            assert.notEqual(got, "dropped");
            const close = got as CloseInfo;
            assert.equal(close.code, 501);
            assert.match(close.text, /^FRAME_ERROR - /);
          }
        } finally {
          await c.dispose();
        }
      });

      // ---- 9. heartbeat frames on a channel

      await step("a heartbeat frame on a channel other than 0: 505", async () => {
        // RabbitMQ: "UNEXPECTED_FRAME - type 8, all octets = <<>>", open channel or not.
        for (const ch of [1, 7]) {
          assertClose(await sendOnOpenChannel(heartbeatFrame(ch)), {
            code: 505,
            text: /^UNEXPECTED_FRAME - /,
            classId: 0,
            methodId: 0,
          });
        }
      });

      // ---- 11. body larger than announced

      await step(
        "a body longer than its content header announced closes the connection",
        async () => {
          const c = await RawAmqp.connect(port);
          try {
            await c.openChannel(1);
            await c.send(concat(publish, headerFrame(1, 3), bodyFrame(1, enc.encode("hello"))));
            // RabbitMQ keeps waiting for body (its count goes negative) until a frame that is not
            // body comes: then 505, naming basic.publish.
            await c.send(methodFrame(1, qos()));
            const close = await c.expectClose();
            if (RABBITMQ || close.code === 505) {
              assertClose(close, { code: 505, text: EXPECTED_BODY, classId: 60, methodId: 40 });
            } else {
              // Ours refuses the body frame itself (before the basic.qos), as a 501.
              assert.equal(close.code, 501, JSON.stringify(close));
              assert.match(close.text, /^FRAME_ERROR - /);
            }
          } finally {
            await c.dispose();
          }
        },
      );

      // ---- 12. deep nesting

      /** queue.declare (exclusive) whose arguments nest `depth` tables (or arrays) deep. */
      const deepDeclare = (depth: number, container: "F" | "A") => {
        let inner = new Uint8Array(4); // the innermost container: empty
        for (let i = 0; i < depth; i++) {
          const item = container === "F" ? [1, 0x61, 0x46] : [0x41]; // key "a", type F / type A
          const out = new Uint8Array(4 + item.length + inner.length);
          new DataView(out.buffer).setUint32(0, item.length + inner.length);
          out.set(item, 4);
          out.set(inner, 4 + item.length);
          inner = out;
        }
        const w = new Writer(inner.length + 64);
        w.long(spec.QUEUE_DECLARE);
        w.short(0);
        w.shortstr("");
        w.octet(4); // exclusive
        w.long(inner.length + 3);
        w.shortstr("x");
        w.octet(container.charCodeAt(0));
        w.raw(inner);
        return frame(spec.FRAME_METHOD, 1, w.bytes().slice());
      };

      await step("queue.declare arguments nested 50 deep are accepted", async () => {
        for (const container of ["F", "A"] as const) {
          const c = await RawAmqp.connect(port);
          try {
            await c.openChannel(1);
            await c.send(deepDeclare(50, container));
            await c.expectMethod(1, spec.QUEUE_DECLARE_OK);
          } finally {
            await c.closeGracefully();
          }
        }
      });

      await step("queue.declare arguments nested 10,000 deep: no crash", async () => {
        for (const container of ["F", "A"] as const) {
          const c = await RawAmqp.connect(port);
          try {
            await c.openChannel(1);
            await c.send(deepDeclare(10_000, container));
            if (RABBITMQ) {
              // Erlang's parser recurses without a limit: RabbitMQ accepts the declaration.
              await c.expectMethod(1, spec.QUEUE_DECLARE_OK, 10_000);
            } else {
              // Ours refuses nesting deeper than MAX_TABLE_DEPTH before it can exhaust the stack.
              const close = await c.expectClose();
              assert.equal(close.code, 501, JSON.stringify(close));
              assert.match(close.text, /^FRAME_ERROR - /);
            }
          } finally {
            await c.dispose();
          }
        }
      });

      // ---- 13. heartbeats

      await step(
        "heartbeat=1 and a silent client: heartbeats every ~0.5 s, then the socket closes",
        async () => {
          const c = await RawAmqp.connect(port, { heartbeat: 1 });
          try {
            const t0 = Date.now();
            const beats: number[] = [];
            let end = -1;
            while (end < 0) {
              const f = await c.readFrame(6_000);
              if (f === null) end = Date.now() - t0;
              else {
                assert.deepEqual([f.type, f.channel], [spec.FRAME_HEARTBEAT, 0], "only heartbeats");
                beats.push(Date.now() - t0);
              }
            }
            // RabbitMQ: beats at 0.5, 1.0, 1.5, 2.0, 2.5 s, socket closed at 3.0 s, no close method.
            assert.ok(beats.length >= 2, `heartbeats at ${beats}`);
            assert.ok(beats[0] <= 1_100, `first heartbeat at ${beats[0]} ms`);
            for (let i = 1; i < beats.length; i++) {
              assert.ok(beats[i] - beats[i - 1] <= 1_100, `heartbeats at ${beats}`);
            }
            assert.ok(end >= 1_500 && end <= 4_500, `socket closed after ${end} ms`);
          } finally {
            await c.dispose();
          }
        },
      );

      await step(
        "heartbeat=1 and a client that sends heartbeats: the connection stays up",
        async () => {
          const c = await RawAmqp.connect(port, { heartbeat: 1 });
          try {
            const deadline = Date.now() + 3_500;
            while (Date.now() < deadline) {
              assert.ok(await c.send(heartbeatFrame()), "socket still open");
              await new Promise((r) => setTimeout(r, 300));
            }
            assert.equal(c.ended, false, "the server kept the connection");
            await c.openChannel(1);
            const queue = await declareTempQueue(c, 1);
            assert.equal(await publishAndGet(c, 1, queue, "alive"), "alive");
          } finally {
            await c.closeGracefully();
          }
        },
      );

      // ---- and a real client at the end

      await step("amqplib still works", async () => {
        await withClient(broker.url, async (client) => {
          const ch = await client.channel();
          const { queue } = await ch.assertQueue("", { exclusive: true });
          await publishAndSync(ch, "", queue, "amqplib");
          assert.equal(await getText(ch, queue), "amqplib");
        });
      });

      if (!RABBITMQ) {
        await t.step("the listener is still up and no connection leaked", async () => {
          assert.ok(broker.server.port > 0);
          const deadline = Date.now() + 5_000;
          // Only the bystander remains (connections in their close-ok grace period may linger).
          while (broker.server.connections.size > 1 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
          }
          assert.equal(broker.server.connections.size, 1);
        });
      }
    } finally {
      await bystander.close();
      await broker.close();
    }
  },
});
