/**
 * AMQP frames: finding whole frames in a read buffer, and writing method, content header, body and
 * heartbeat frames into an output {@link Writer}.
 *
 * Frame layout: type (1) · channel (2) · payload size (4) · payload · 0xCE.
 */
import { frameError } from "./errors.ts";
import {
  BASIC_DELIVER,
  CLASS_BASIC,
  encodeMethod,
  FRAME_BODY,
  FRAME_END,
  FRAME_HEADER,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
} from "./spec.ts";
import type { Method } from "./spec.ts";
import type { Writer } from "./writer.ts";

export const FRAME_OVERHEAD = 8;

/** The protocol header a 0-9-1 client sends first, and the one we answer a wrong header with. */
export const PROTOCOL_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** Receives one whole frame; the payload is `buf[start, end)`, valid only during the call. */
export type FrameHandler = (
  type: number,
  channel: number,
  buf: Uint8Array,
  start: number,
  end: number,
) => void;

/**
 * Calls `onFrame` for each whole frame in `buf[start, end)` and returns where the first incomplete
 * frame begins. Throws a 501 FRAME_ERROR for a frame over `frameMax` (checked from the size field,
 * before waiting for the bytes) or a missing frame end octet.
 */
export function parseFrames(
  buf: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  frameMax: number,
  onFrame: FrameHandler,
  shouldStop: () => boolean,
): number {
  let pos = start;
  while (end - pos >= 7 && !shouldStop()) {
    const size = view.getUint32(pos + 3);
    // Like RabbitMQ, allow a payload of frame_max bytes (peers that forget the 8-byte overhead).
    if (size > frameMax) {
      throw frameError(`type ${buf[pos]}, frame size ${size} exceeds frame_max ${frameMax}`);
    }
    const frameEnd = pos + 7 + size;
    if (frameEnd >= end) break;
    if (buf[frameEnd] !== FRAME_END) {
      throw frameError(`frame end octet 0x${buf[frameEnd].toString(16)} is not 0xce`);
    }
    const type = buf[pos];
    const channel = view.getUint16(pos + 1);
    pos = frameEnd + 1;
    onFrame(type, channel, buf, frameEnd - size, frameEnd);
  }
  return pos;
}

function frameStart(w: Writer, type: number, channel: number): number {
  w.ensure(7);
  w.octet(type);
  w.short(channel);
  const at = w.pos;
  w.long(0);
  return at;
}

function frameFinish(w: Writer, sizeAt: number): void {
  w.patchLong(sizeAt, w.pos - sizeAt - 4);
  w.octet(FRAME_END);
}

export function writeMethodFrame(w: Writer, channel: number, method: Method): void {
  const at = frameStart(w, FRAME_METHOD, channel);
  encodeMethod(w, method);
  frameFinish(w, at);
}

/**
 * One delivered message: basic.deliver, the content header and the body frames. This is the
 * one thing written per message on the consuming side, so it reserves room once and writes the
 * fields in place instead of going through a method object and a call per field.
 */
export function writeDelivery(
  w: Writer,
  channel: number,
  consumerTag: string,
  deliveryTag: number,
  redelivered: boolean,
  exchange: string,
  routingKey: string,
  properties: Uint8Array,
  body: Uint8Array,
  frameMax: number,
): void {
  const strings = consumerTag.length + exchange.length + routingKey.length;
  const oneBodyFrame = frameMax === 0 || body.length + FRAME_OVERHEAD <= frameMax;
  // Strings may need 3 bytes per UTF-16 unit; a body in several frames is written afterwards.
  w.ensure(64 + strings * 3 + properties.length + (oneBodyFrame ? body.length : 0));
  // (shortstr never grows the buffer here: the room reserved above covers every write.)
  const buf = w.buf;
  const view = w.view;
  let p = w.pos;
  buf[p] = FRAME_METHOD;
  view.setUint16(p + 1, channel);
  const methodAt = p + 3;
  view.setUint32(p + 7, BASIC_DELIVER);
  w.pos = p + 11;
  w.shortstr(consumerTag);
  p = w.pos;
  view.setUint32(p, Math.floor(deliveryTag / 0x100000000));
  view.setUint32(p + 4, deliveryTag >>> 0);
  buf[p + 8] = redelivered ? 1 : 0;
  w.pos = p + 9;
  w.shortstr(exchange);
  w.shortstr(routingKey);
  p = w.pos;
  view.setUint32(methodAt, p - methodAt - 4);
  buf[p] = FRAME_END;
  // Content header: class, weight, body size, then the properties as received.
  buf[p + 1] = FRAME_HEADER;
  view.setUint16(p + 2, channel);
  view.setUint32(p + 4, 12 + properties.length);
  view.setUint32(p + 8, CLASS_BASIC << 16);
  view.setUint32(p + 12, Math.floor(body.length / 0x100000000));
  view.setUint32(p + 16, body.length >>> 0);
  buf.set(properties, p + 20);
  p += 20 + properties.length;
  buf[p] = FRAME_END;
  w.pos = p + 1;
  if (body.length === 0) return;
  if (!oneBodyFrame) return writeBodyFrames(w, channel, body, frameMax);
  p = w.pos;
  buf[p] = FRAME_BODY;
  view.setUint16(p + 1, channel);
  view.setUint32(p + 3, body.length);
  buf.set(body, p + 7);
  p += 7 + body.length;
  buf[p] = FRAME_END;
  w.pos = p + 1;
}

/**
 * A content header frame. `properties` is the flags word and property list exactly as received
 * from the publisher, so they reach consumers byte for byte.
 */
export function writeHeaderFrame(
  w: Writer,
  channel: number,
  classId: number,
  bodySize: number,
  properties: Uint8Array,
): void {
  const at = frameStart(w, FRAME_HEADER, channel);
  w.short(classId);
  w.short(0);
  w.longlong(bodySize);
  w.raw(properties);
  frameFinish(w, at);
}

/**
 * The body split into frames of at most `frameMax` bytes each (a 0-byte body sends no frame).
 * A `frameMax` of 0 means no limit, as in connection.tune.
 */
export function writeBodyFrames(
  w: Writer,
  channel: number,
  body: Uint8Array,
  frameMax: number,
): void {
  // Guarded so that 0 (or any value too small to carry a byte) cannot make the loop spin forever.
  const chunk = frameMax > FRAME_OVERHEAD ? frameMax - FRAME_OVERHEAD : body.length;
  for (let off = 0; off < body.length; off += chunk) {
    const part = body.subarray(off, Math.min(body.length, off + chunk));
    w.ensure(part.length + FRAME_OVERHEAD);
    w.octet(FRAME_BODY);
    w.short(channel);
    w.long(part.length);
    w.raw(part);
    w.octet(FRAME_END);
  }
}

export function writeHeartbeat(w: Writer): void {
  w.ensure(FRAME_OVERHEAD);
  w.octet(FRAME_HEARTBEAT);
  w.short(0);
  w.long(0);
  w.octet(FRAME_END);
}
