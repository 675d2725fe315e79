import assert from "node:assert/strict";
import {
  FRAME_OVERHEAD,
  parseFrames,
  PROTOCOL_HEADER,
  writeBodyFrames,
  writeHeaderFrame,
  writeHeartbeat,
  writeMethodFrame,
} from "../../src/amqp/frames.ts";
import { AmqpError } from "../../src/amqp/errors.ts";
import { Reader } from "../../src/amqp/reader.ts";
import { Writer } from "../../src/amqp/writer.ts";
import {
  BASIC_PUBLISH,
  CONNECTION_TUNE,
  decodeBasicProperties,
  decodeMethod,
  encodeBasicProperties,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
} from "../../src/amqp/spec.ts";
import type { BasicProperties, Method } from "../../src/amqp/spec.ts";

interface Frame {
  type: number;
  channel: number;
  payload: number[];
}

function parseAll(
  buf: Uint8Array,
  frameMax = 131072,
  start = 0,
  end = buf.length,
  shouldStop = () => false,
): { frames: Frame[]; next: number } {
  const frames: Frame[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const next = parseFrames(buf, view, start, end, frameMax, (type, channel, b, s, e) => {
    frames.push({ type, channel, payload: Array.from(b.subarray(s, e)) });
  }, shouldStop);
  return { frames, next };
}

const publish = {
  id: BASIC_PUBLISH,
  ticket: 0,
  exchange: "amq.topic",
  routingKey: "a.b",
  mandatory: true,
  immediate: false,
} as Method;

const props: BasicProperties = { contentType: "text/plain", deliveryMode: 2, headers: { a: 1 } };

function propsBytes(p: BasicProperties): Uint8Array {
  const w = new Writer(64);
  encodeBasicProperties(w, p);
  return w.bytes().slice();
}

/** method + header + body (split in 3) + heartbeat + another method, on channels 0, 1 and 7. */
function sampleStream(): { bytes: Uint8Array; body: Uint8Array } {
  const w = new Writer(16);
  const body = new Uint8Array(300).map((_, i) => i & 0xff);
  writeMethodFrame(w, 1, publish);
  writeHeaderFrame(w, 1, 60, body.length, propsBytes(props));
  writeBodyFrames(w, 1, body, 128);
  writeHeartbeat(w);
  writeMethodFrame(w, 7, { id: CONNECTION_TUNE, channelMax: 1, frameMax: 2, heartbeat: 3 });
  return { bytes: w.bytes().slice(), body };
}

Deno.test("frames: several frames in one buffer", () => {
  const { bytes, body } = sampleStream();
  const { frames, next } = parseAll(bytes);
  assert.equal(next, bytes.length);
  assert.deepEqual(frames.map((f) => [f.type, f.channel]), [
    [FRAME_METHOD, 1],
    [FRAME_HEADER, 1],
    [FRAME_BODY, 1],
    [FRAME_BODY, 1],
    [FRAME_BODY, 1],
    [FRAME_HEARTBEAT, 0],
    [FRAME_METHOD, 7],
  ]);

  const m = new Reader(new Uint8Array(frames[0].payload));
  assert.deepEqual(decodeMethod(m.long(), m), publish);

  const h = new Reader(new Uint8Array(frames[1].payload));
  assert.equal(h.short(), 60); // class
  assert.equal(h.short(), 0); // weight
  assert.equal(h.longlong(), body.length);
  assert.deepEqual(decodeBasicProperties(h), props);
  assert.equal(h.remaining(), 0);

  // Body frames carry at most frameMax - 8 = 120 bytes each.
  assert.deepEqual(frames.slice(2, 5).map((f) => f.payload.length), [120, 120, 60]);
  assert.deepEqual(frames.slice(2, 5).flatMap((f) => f.payload), Array.from(body));
  assert.deepEqual(frames[5].payload, []);

  const t = new Reader(new Uint8Array(frames[6].payload));
  assert.deepEqual(decodeMethod(t.long(), t), {
    id: CONNECTION_TUNE,
    channelMax: 1,
    frameMax: 2,
    heartbeat: 3,
  });
});

Deno.test("frames: a partial frame returns its start, at every cut point", () => {
  const { bytes } = sampleStream();
  const all = parseAll(bytes).frames;
  // Frame boundaries: where each frame starts.
  const starts: number[] = [];
  for (let pos = 0; pos < bytes.length;) {
    starts.push(pos);
    pos += 7 + new DataView(bytes.buffer).getUint32(pos + 3) + 1;
  }
  for (let cut = 0; cut <= bytes.length; cut++) {
    const { frames, next } = parseAll(bytes, 131072, 0, cut);
    const complete = starts.filter((_s, i) => (starts[i + 1] ?? bytes.length) <= cut).length;
    assert.equal(frames.length, complete, `cut ${cut}`);
    assert.deepEqual(frames, all.slice(0, complete));
    assert.equal(next, complete < starts.length ? starts[complete] : bytes.length, `cut ${cut}`);
  }
});

Deno.test("frames: parsing resumes from an offset inside a larger buffer", () => {
  const { bytes } = sampleStream();
  const buf = new Uint8Array(bytes.length + 10);
  buf.set(bytes, 5);
  const { frames, next } = parseAll(buf, 131072, 5, 5 + bytes.length);
  assert.equal(frames.length, 7);
  assert.equal(next, 5 + bytes.length);
});

Deno.test("frames: shouldStop stops between frames", () => {
  const { bytes } = sampleStream();
  let n = 0;
  const view = new DataView(bytes.buffer);
  const next = parseFrames(bytes, view, 0, bytes.length, 131072, () => n++, () => n >= 2);
  assert.equal(n, 2);
  const rest = parseAll(bytes, 131072, next);
  assert.equal(rest.frames.length, 5);
  assert.equal(rest.next, bytes.length);
});

function frameHeader(type: number, channel: number, size: number): number[] {
  return [
    type,
    channel >> 8,
    channel & 0xff,
    size >>> 24,
    (size >>> 16) & 0xff,
    (size >>> 8) & 0xff,
    size & 0xff,
  ];
}

function expectFrameError(fn: () => unknown) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AmqpError, String(e));
    assert.equal(e.code, 501);
    assert.equal(e.hard, true);
    assert.match(e.text, /^FRAME_ERROR - /);
    return true;
  });
}

Deno.test("frames: an oversized frame is a 501, known from its header alone", () => {
  const frameMax = 4096;
  // Only the 7 header bytes have arrived: the size field is enough to refuse it. Like RabbitMQ,
  // a payload of frame_max bytes is tolerated (peers that forget the 8-byte overhead); one more
  // byte is not.
  expectFrameError(() =>
    parseAll(new Uint8Array(frameHeader(FRAME_BODY, 1, frameMax + 1)), frameMax)
  );
  expectFrameError(() => parseAll(new Uint8Array(frameHeader(FRAME_BODY, 1, 0xffffffff)), 4096));
  // Exactly frameMax bytes in all is fine, and so is RabbitMQ's 8-byte fudge.
  const fudged = frameMax;
  const big = new Uint8Array([
    ...frameHeader(FRAME_BODY, 1, fudged),
    ...new Uint8Array(fudged),
    0xce,
  ]);
  assert.equal(parseAll(big, frameMax).frames.length, 1);
  const size = frameMax - FRAME_OVERHEAD;
  const ok = new Uint8Array([...frameHeader(FRAME_BODY, 1, size), ...new Uint8Array(size), 0xce]);
  const { frames, next } = parseAll(ok, frameMax);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].payload.length, size);
  assert.equal(next, ok.length);
  // The same frame, not yet complete, is waited for.
  assert.deepEqual(parseAll(ok, frameMax, 0, ok.length - 1), { frames: [], next: 0 });
});

Deno.test("frames: a bad frame end octet is a 501", () => {
  const bad = new Uint8Array([...frameHeader(FRAME_METHOD, 1, 2), 0, 0, 0xcd]);
  expectFrameError(() => parseAll(bad));
  // Frames before the bad one have been delivered.
  const w = new Writer(16);
  writeHeartbeat(w);
  const buf = new Uint8Array([...w.bytes(), ...bad]);
  const seen: number[] = [];
  expectFrameError(() =>
    parseFrames(
      buf,
      new DataView(buf.buffer),
      0,
      buf.length,
      131072,
      (t) => seen.push(t),
      () => false,
    )
  );
  assert.deepEqual(seen, [FRAME_HEARTBEAT]);
  // A stream that is not AMQP frames at all (e.g. a second protocol header).
  expectFrameError(() => parseAll(new Uint8Array([...PROTOCOL_HEADER, 0, 0, 0, 0])));
});

Deno.test("frames: writeBodyFrames splits at frameMax - 8", () => {
  const cases: [number, number, number[]][] = [
    [0, 4096, []],
    [1, 4096, [1]],
    [4088, 4096, [4088]],
    [4089, 4096, [4088, 1]],
    [10_000, 4096, [4088, 4088, 1824]],
    [131072 * 3, 131072, [131064, 131064, 131064, 24]],
  ];
  for (const [size, frameMax, parts] of cases) {
    const body = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
    const w = new Writer(16);
    writeBodyFrames(w, 3, body, frameMax);
    const bytes = w.bytes().slice();
    assert.equal(bytes.length, parts.reduce((a, n) => a + n + FRAME_OVERHEAD, 0));
    const { frames, next } = parseAll(bytes, frameMax);
    assert.equal(next, bytes.length);
    assert.deepEqual(frames.map((f) => f.payload.length), parts, `${size} / ${frameMax}`);
    for (const f of frames) assert.deepEqual([f.type, f.channel], [FRAME_BODY, 3]);
    assert.deepEqual(new Uint8Array(frames.flatMap((f) => f.payload)), body);
  }
});

Deno.test("frames: an empty body writes nothing", () => {
  const w = new Writer(16);
  writeMethodFrame(w, 1, publish);
  const before = w.pos;
  writeBodyFrames(w, 1, new Uint8Array(0), 4096);
  assert.equal(w.pos, before);
});

Deno.test("frames: frameMax 0 (no limit) sends the body in one frame", () => {
  const w = new Writer(16);
  writeBodyFrames(w, 1, new Uint8Array(100_000), 0);
  assert.equal(w.pos, 100_000 + FRAME_OVERHEAD);
});

/** Bytes from hex digits; spaces only group fields for reading. */
const hex = (s: string) =>
  Array.from(s.replace(/\s+/g, "").matchAll(/../g), (m) => parseInt(m[0], 16));

Deno.test("frames: exact bytes of heartbeat, method and header frames", () => {
  assert.equal(FRAME_END, 0xce);
  const w = new Writer(4);
  writeHeartbeat(w);
  assert.deepEqual(Array.from(w.bytes()), hex("08 0000 00000000 ce"));

  w.clear();
  writeMethodFrame(w, 0x0102, {
    id: CONNECTION_TUNE,
    channelMax: 2047,
    frameMax: 131072,
    heartbeat: 60,
  });
  // type, channel, size | class, method, channel-max, frame-max, heartbeat | frame end
  assert.deepEqual(
    Array.from(w.bytes()),
    hex("01 0102 0000000c  000a 001e 07ff 00020000 003c  ce"),
  );

  w.clear();
  writeHeaderFrame(w, 5, 60, 2 ** 40, new Uint8Array([0x10, 0x00, 2]));
  // type, channel, size | class, weight, body size, property bytes | frame end
  assert.deepEqual(
    Array.from(w.bytes()),
    hex("02 0005 0000000f  003c 0000 0000010000000000 100002  ce"),
  );
});
