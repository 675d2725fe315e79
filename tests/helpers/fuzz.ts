/**
 * A seeded fuzzer for the AMQP codec and for a running broker, shared by
 * tests/interop/fuzz_test.ts (short, bounded) and scripts/fuzz.ts (long, on demand).
 *
 * Everything random comes from {@link Rng} (mulberry32), and every socket case draws from its own
 * generator seeded by (seed, case index), so a failure names the seed and the case that replays it:
 *
 *   deno run -A scripts/fuzz.ts --seed 42 --case 1234
 *
 *   const stats = decoderFuzz(42, 100_000);          // throws on anything but a DecodeError
 *   const run = await socketFuzz({ port, seed: 42, cases: 300 });
 *   if (run.failures.length) throw new Error(run.failures.join("\n"));
 */
import { FRAME_OVERHEAD } from "../../src/amqp/frames.ts";
import { DecodeError, Reader } from "../../src/amqp/reader.ts";
import * as spec from "../../src/amqp/spec.ts";
import type { Method } from "../../src/amqp/spec.ts";
import { Field, readTable } from "../../src/amqp/table.ts";
import type { FieldTable, FieldType, FieldValue } from "../../src/amqp/table.ts";
import { Writer } from "../../src/amqp/writer.ts";
import {
  AMQP_HEADER,
  concat,
  decodeMethodPayload,
  frame,
  methodFrame,
  RawAmqp,
  rawFrame,
} from "./raw_amqp.ts";

// ---- randomness

/** mulberry32: a tiny, fast, seedable 32-bit PRNG (plenty for fuzzing, not for secrets). */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** An integer in [0, 2^32). */
  u32(): number {
    return Math.floor(this.next() * 4294967296);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }

  /** A length skewed towards small values, up to `max`. */
  size(max: number): number {
    const r = this.next();
    return Math.floor(r * r * r * (max + 1));
  }
}

/** The generator for one case of a run: independent of every other case. */
export function caseRng(seed: number, index: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

// ---- valid values

const NAMES = [
  "",
  "fz-a",
  "fz-b",
  "fz-c",
  "amq.direct",
  "amq.fanout",
  "amq.topic",
  "amq.headers",
  "amq.match",
  "amq.gen-fz",
  "amq.rabbitmq.reply-to",
  "#",
  "*.a.#",
  "a.b.c",
  "/",
];
const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers", "x-bogus", ""];
const ARG_KEYS = [
  "x-message-ttl",
  "x-expires",
  "x-max-length",
  "x-max-length-bytes",
  "x-overflow",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-priority",
  "x-queue-type",
  "x-single-active-consumer",
  "x-match",
  "alternate-exchange",
  "x-priority",
  "x-cancel-on-ha-failover",
  "CC",
  "BCC",
];
const FIELD_TYPES: FieldType[] = [
  "t",
  "b",
  "B",
  "s",
  "u",
  "I",
  "i",
  "l",
  "L",
  "f",
  "d",
  "D",
  "S",
  "A",
  "T",
  "F",
  "V",
  "x",
];

/** A string that encodes to at most `maxBytes` UTF-8 bytes (no lone surrogates). */
export function randomString(rng: Rng, maxBytes = 255): string {
  if (rng.chance(0.6)) return rng.pick(NAMES);
  const n = rng.size(Math.min(60, Math.floor(maxBytes / 4)));
  let s = "";
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.8) s += String.fromCharCode(rng.int(0x20, 0x7e));
    else if (r < 0.9) s += String.fromCharCode(rng.int(0, 0x1f));
    else if (r < 0.97) s += String.fromCharCode(rng.int(0xa0, 0xd7ff));
    else s += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
  }
  return s;
}

function randomValue(rng: Rng, depth: number): FieldValue {
  const type = depth > 3 ? rng.pick(FIELD_TYPES.filter((t) => t !== "A" && t !== "F")) : rng.pick(
    FIELD_TYPES,
  );
  switch (type) {
    case "t":
      return rng.chance(0.5);
    case "b":
      return new Field("b", rng.int(-128, 127));
    case "B":
      return new Field("B", rng.int(0, 255));
    case "s":
      return new Field("s", rng.int(-32768, 32767));
    case "u":
      return new Field("u", rng.int(0, 65535));
    case "I":
      return rng.pick([0, 1, -1, 1000, 0x7fffffff, -0x80000000, rng.u32() | 0]);
    case "i":
      return new Field("i", rng.u32());
    case "l":
    case "L":
      return new Field(type, BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())));
    case "f":
      return new Field("f", Math.fround((rng.next() - 0.5) * 1e6));
    case "d":
      return rng.chance(0.5) ? (rng.next() - 0.5) * 1e9 + 0.5 : new Field("d", rng.int(-9, 9));
    case "D":
      return new Field("D", { scale: rng.int(0, 255), value: rng.u32() | 0 });
    case "S":
      return randomString(rng, 1000);
    case "A": {
      const out: FieldValue[] = [];
      for (let i = rng.size(6); i > 0; i--) out.push(randomValue(rng, depth + 1));
      return out;
    }
    case "T":
      return new Field("T", rng.u32());
    case "F":
      return randomTable(rng, depth + 1);
    case "V":
      return null;
    case "x":
      return new Field("x", rng.bytes(rng.size(40)));
  }
}

/** A random field table, with keys mostly from the arguments RabbitMQ interprets. */
export function randomTable(rng: Rng, depth = 0): FieldTable {
  const t: FieldTable = {};
  for (let i = rng.size(depth === 0 ? 6 : 3); i > 0; i--) {
    const key = rng.chance(0.7) ? rng.pick(ARG_KEYS) : randomString(rng, 255);
    t[key] = randomValue(rng, depth);
  }
  return t;
}

/**
 * A Reader that, instead of reading bytes, makes up a random value of the type asked for: fed to
 * the generated {@link spec.decodeMethod} it yields a well-formed method with random arguments,
 * without a second copy of the spec's field lists.
 */
class RandomReader extends Reader {
  constructor(private readonly rng: Rng) {
    super();
  }
  override octet(): number {
    return this.rng.chance(0.7) ? this.rng.int(0, 3) : this.rng.int(0, 255);
  }
  override short(): number {
    return this.rng.chance(0.5) ? this.rng.int(0, 10) : this.rng.int(0, 65535);
  }
  override long(): number {
    return this.rng.chance(0.5) ? this.rng.int(0, 10) : this.rng.u32();
  }
  override longlong(): number {
    return this.rng.chance(0.7) ? this.rng.int(0, 20) : this.rng.int(0, Number.MAX_SAFE_INTEGER);
  }
  override shortstr(): string {
    return this.rng.chance(0.3) ? this.rng.pick(EXCHANGE_TYPES) : randomString(this.rng, 255);
  }
  override longstr(): string {
    return randomString(this.rng, 1000);
  }
  override longstrBytes(): Uint8Array {
    return this.rng.chance(0.5)
      ? new TextEncoder().encode("\0guest\0guest")
      : this.rng.bytes(this.rng.size(40));
  }
  override table(): FieldTable {
    return randomTable(this.rng);
  }
}

/** Every method id the spec knows, client and server side. */
export const METHOD_IDS: readonly number[] = Object.keys(spec.METHOD_NAMES).map(Number);

/**
 * Methods a client sends on an open channel (the likely ones weighted by repeats); channel.open and
 * channel.close are left to the case itself, which keeps track of its channels.
 */
const CLIENT_METHODS = [
  spec.CHANNEL_CLOSE_OK,
  spec.CHANNEL_FLOW,
  spec.ACCESS_REQUEST,
  spec.EXCHANGE_DECLARE,
  spec.EXCHANGE_DECLARE,
  spec.EXCHANGE_DELETE,
  spec.EXCHANGE_BIND,
  spec.EXCHANGE_UNBIND,
  spec.QUEUE_DECLARE,
  spec.QUEUE_DECLARE,
  spec.QUEUE_DECLARE,
  spec.QUEUE_BIND,
  spec.QUEUE_BIND,
  spec.QUEUE_UNBIND,
  spec.QUEUE_PURGE,
  spec.QUEUE_DELETE,
  spec.BASIC_QOS,
  spec.BASIC_CONSUME,
  spec.BASIC_CONSUME,
  spec.BASIC_CANCEL,
  spec.BASIC_GET,
  spec.BASIC_GET,
  spec.BASIC_ACK,
  spec.BASIC_NACK,
  spec.BASIC_REJECT,
  spec.BASIC_RECOVER,
  spec.BASIC_RECOVER_ASYNC,
  spec.CONFIRM_SELECT,
  spec.TX_SELECT,
  spec.TX_COMMIT,
  spec.TX_ROLLBACK,
];

/** A well-formed method with random arguments (`id` random among all methods if not given). */
export function randomMethod(rng: Rng, id = rng.pick(METHOD_IDS)): Method {
  return spec.decodeMethod(id, new RandomReader(rng))!;
}

/** Random basic properties, flags word and list, as a content header carries them. */
export function randomProperties(rng: Rng): Uint8Array {
  const p: spec.BasicProperties = {};
  const r = new RandomReader(rng);
  if (rng.chance(0.3)) p.contentType = r.shortstr();
  if (rng.chance(0.1)) p.contentEncoding = r.shortstr();
  if (rng.chance(0.3)) p.headers = randomTable(rng);
  if (rng.chance(0.3)) p.deliveryMode = rng.int(0, 3);
  if (rng.chance(0.2)) p.priority = rng.int(0, 255);
  if (rng.chance(0.1)) p.correlationId = r.shortstr();
  if (rng.chance(0.1)) p.replyTo = r.shortstr();
  if (rng.chance(0.2)) p.expiration = rng.pick(["0", "1", "100", "-1", "abc", "", "99999999999"]);
  if (rng.chance(0.1)) p.messageId = r.shortstr();
  if (rng.chance(0.1)) p.timestamp = r.longlong();
  if (rng.chance(0.1)) p.type = r.shortstr();
  if (rng.chance(0.1)) p.userId = rng.pick(["guest", "other", ""]);
  if (rng.chance(0.1)) p.appId = r.shortstr();
  if (rng.chance(0.05)) p.clusterId = r.shortstr();
  const w = new Writer(256);
  spec.encodeBasicProperties(w, p);
  return w.bytes().slice();
}

function encode(m: Method): Uint8Array {
  const w = new Writer(256);
  spec.encodeMethod(w, m);
  return w.bytes().slice();
}

// ---- mutation

/** A damaged copy of `input`: flipped bits, cut, grown, overwritten or spliced bytes. */
export function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = input.slice();
  for (let n = rng.int(1, 3); n > 0; n--) {
    switch (rng.int(0, 6)) {
      case 0: // flip bits
        if (b.length) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
        break;
      case 1: // truncate
        b = b.slice(0, rng.int(0, b.length));
        break;
      case 2: // insert random bytes
      {
        const at = rng.int(0, b.length);
        b = concat(b.subarray(0, at), rng.bytes(rng.int(1, 8)), b.subarray(at));
        break;
      }
      case 3: // overwrite with an interesting value
      {
        if (b.length === 0) break;
        const at = rng.int(0, b.length - 1);
        const v = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x01, 0xce]);
        const len = rng.int(1, 4);
        for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = v;
        break;
      }
      case 4: // delete a span
      {
        const at = rng.int(0, b.length);
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 8))));
        break;
      }
      case 5: // random byte
        if (b.length) b[rng.int(0, b.length - 1)] = rng.int(0, 255);
        break;
      case 6: // duplicate a span
      {
        const at = rng.int(0, b.length);
        const span = b.subarray(at, Math.min(b.length, at + rng.int(1, 16)));
        b = concat(b.subarray(0, at), span, span, b.subarray(at + span.length));
        break;
      }
    }
  }
  return b;
}

/** A damaged frame: a mutated payload, or a wrong size field, type, channel or end octet. */
function mutateFrame(rng: Rng, type: number, channel: number, payload: Uint8Array): Uint8Array {
  switch (rng.int(0, 5)) {
    case 0:
      return frame(type, channel, mutate(rng, payload));
    case 1: { // a size field that lies
      const size = rng.pick([
        payload.length + rng.int(1, 8),
        Math.max(0, payload.length - rng.int(1, 8)),
        rng.u32(),
        0,
        0xffffffff,
        131072,
        131065,
      ]);
      return rawFrame(type, channel, size, payload, spec.FRAME_END);
    }
    case 2:
      return frame(rng.int(0, 255), channel, payload);
    case 3:
      return frame(type, rng.pick([0, 1, 2, 3, 65535, rng.int(0, 65535)]), payload);
    case 4:
      return rawFrame(type, channel, payload.length, payload, rng.int(0, 255));
    default:
      return mutate(rng, frame(type, channel, payload));
  }
}

// ---- decoder fuzz

export interface DecoderStats {
  iterations: number;
  decoded: number;
  decodeErrors: number;
  unknownIds: number;
  roundTrips: number;
}

/** What broke, with the bytes that broke it. */
export class FuzzFailure extends Error {}

const hex = (b: Uint8Array, max = 256) =>
  Array.from(b.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join("") +
  (b.length > max ? `… (${b.length} bytes)` : "");

/**
 * Feeds `iterations` random and mutated method payloads, field tables and property lists to the
 * decoders. Only a result or a {@link DecodeError} may come out; unmutated inputs must also
 * re-encode to the same bytes. Throws a {@link FuzzFailure} naming the input otherwise.
 */
export function decoderFuzz(seed: number, iterations: number): DecoderStats {
  const rng = new Rng(seed);
  const stats: DecoderStats = {
    iterations,
    decoded: 0,
    decodeErrors: 0,
    unknownIds: 0,
    roundTrips: 0,
  };
  const r = new Reader();
  for (let i = 0; i < iterations; i++) {
    const kind = rng.int(0, 9);
    let input: Uint8Array;
    let what: "method" | "table" | "properties";
    let pristine = false;
    if (kind <= 4) {
      what = "method";
      const valid = encode(randomMethod(rng));
      pristine = kind === 0;
      input = pristine ? valid : kind === 4 ? randomPayload(rng) : mutate(rng, valid);
    } else if (kind <= 7) {
      what = "table";
      const w = new Writer(256);
      w.table(randomTable(rng));
      pristine = kind === 5;
      input = pristine ? w.bytes().slice() : mutate(rng, w.bytes());
    } else if (kind === 8) {
      what = "properties";
      const valid = randomProperties(rng);
      pristine = rng.chance(0.3);
      input = pristine ? valid : mutate(rng, valid);
    } else {
      what = "table";
      input = deepNesting(rng);
      if (rng.chance(0.5)) input = mutate(rng, input);
    }
    r.reset(input, 0, input.length);
    let ok = false;
    try {
      if (what === "method") {
        const m = spec.decodeMethod(r.long(), r);
        if (!m) stats.unknownIds++;
        else {
          ok = true;
          if (pristine) checkRoundTrip(input, encode(m), i, seed);
        }
      } else if (what === "table") {
        const t = readTable(r, 0);
        ok = true;
        if (pristine) {
          const w = new Writer(256);
          w.table(t);
          checkRoundTrip(input, w.bytes(), i, seed);
        }
      } else {
        const p = spec.decodeBasicProperties(r);
        ok = true;
        if (pristine) {
          const w = new Writer(256);
          spec.encodeBasicProperties(w, p);
          checkRoundTrip(input, w.bytes(), i, seed);
        }
      }
    } catch (err) {
      if (err instanceof FuzzFailure) throw err;
      if (!(err instanceof DecodeError)) {
        throw new FuzzFailure(
          `decoder fuzz seed ${seed} iteration ${i}: ${what} decoder threw ${String(err)} ` +
            `(not a DecodeError) on ${hex(input)}`,
        );
      }
      if (pristine) {
        throw new FuzzFailure(
          `decoder fuzz seed ${seed} iteration ${i}: a valid ${what} failed to decode: ` +
            `${String(err)} on ${hex(input)}`,
        );
      }
      stats.decodeErrors++;
    }
    if (ok) {
      stats.decoded++;
      if (r.pos > r.end) {
        throw new FuzzFailure(`decoder fuzz seed ${seed} iteration ${i}: read past the end`);
      }
      if (pristine) stats.roundTrips++;
    }
  }
  return stats;
}

function checkRoundTrip(input: Uint8Array, again: Uint8Array, i: number, seed: number): void {
  if (input.length === again.length && input.every((b, k) => b === again[k])) return;
  throw new FuzzFailure(
    `decoder fuzz seed ${seed} iteration ${i}: decode + encode changed the bytes: ` +
      `${hex(input)} became ${hex(again)}`,
  );
}

/** A field table with tables and arrays nested up to 200 deep (the limit is 64). */
function deepNesting(rng: Rng): Uint8Array {
  const depth = rng.int(1, 200);
  let inner: Uint8Array = new Uint8Array(4); // the innermost container: empty
  let innerType = 0x46; // 'F' (an empty array looks the same)
  for (let i = 0; i < depth; i++) {
    // The outermost container is the table itself; the ones inside are tables or arrays.
    const isArray = i < depth - 1 && rng.chance(0.3);
    // A table entry is key "a" + type; an array item is just the type.
    const item = isArray ? [innerType] : [1, 0x61, innerType];
    const out = new Uint8Array(4 + item.length + inner.length);
    new DataView(out.buffer).setUint32(0, item.length + inner.length);
    out.set(item, 4);
    out.set(inner, 4 + item.length);
    inner = out;
    innerType = isArray ? 0x41 : 0x46;
  }
  return inner;
}

/** A method id (known, or any) followed by random bytes. */
function randomPayload(rng: Rng): Uint8Array {
  const w = new Writer(64);
  w.long(rng.chance(0.8) ? rng.pick(METHOD_IDS) : rng.u32());
  w.raw(rng.bytes(rng.size(64)));
  return w.bytes().slice();
}

// ---- socket fuzz

export interface SocketFuzzOptions {
  port: number;
  seed: number;
  /** How many connections (cases) to run. */
  cases: number;
  /** The first case index (to continue a run, or replay one case with cases = 1). */
  firstCase?: number;
  /** Connections in flight at once. */
  concurrency?: number;
  /** Most frames one case sends after its handshake. */
  maxFrames?: number;
  /** How long a case waits for the server once it stops answering. */
  quietMs?: number;
  /**
   * The largest of the occasional large message bodies (one publish in ten; default 20,000
   * bytes). Up to a MiB or so makes the broker grow its read buffers and hold big bodies, which a
   * run that checks the broker's memory afterwards wants.
   */
  largeBody?: number;
  /** Stop starting new cases after this time (the run is still bounded by `cases`). */
  deadline?: number;
  /** Stop starting new cases once this many have failed (a hung broker fails every case). */
  stopAfterFailures?: number;
  /** Called with a line for everything sent and received (for replaying one case). */
  trace?: (line: string) => void;
}

export interface SocketFuzzStats {
  cases: number;
  /** connection.close reply codes seen, and "dropped" / "open" for the other endings. */
  outcomes: Record<string, number>;
  /** channel.close reply codes seen. */
  channelCloses: Record<string, number>;
  /** A few distinct reply texts per code, connection and channel closes alike. */
  texts: Record<string, string[]>;
  framesSent: number;
  bytesSent: number;
  /** What went wrong, each naming the seed and case that replays it. */
  failures: string[];
}

/**
 * Runs `cases` connections against a broker. Each does a valid handshake (or, sometimes, a damaged
 * one), opens a channel or two, then sends a random mix of valid, damaged and random frames in
 * random chunks, reads what comes back until the server closes or goes quiet, and hangs up
 * (cleanly or not). A failure is an INTERNAL_ERROR close, an unknown reply code, a malformed or
 * oversized frame from the server, or a handshake that a healthy broker should have completed.
 */
export async function socketFuzz(opts: SocketFuzzOptions): Promise<SocketFuzzStats> {
  const stats: SocketFuzzStats = {
    cases: 0,
    outcomes: {},
    channelCloses: {},
    texts: {},
    framesSent: 0,
    bytesSent: 0,
    failures: [],
  };
  const first = opts.firstCase ?? 0;
  let next = first;
  const worker = async () => {
    while (
      next < first + opts.cases && (opts.deadline === undefined || Date.now() < opts.deadline) &&
      stats.failures.length < (opts.stopAfterFailures ?? Infinity)
    ) {
      const index = next++;
      try {
        await runCase(opts, index, stats);
      } catch (err) {
        stats.failures.push(`seed ${opts.seed} case ${index}: ${String(err)}`);
      }
      stats.cases++;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return stats;
}

const count = (m: Record<string, number>, k: string | number) => m[k] = (m[k] ?? 0) + 1;

const DEFAULT_LARGE_BODY = 20_000;

/** The queue names the fuzz declares most (see NAMES): what {@link tidyFuzzQueues} deletes. */
const FUZZ_QUEUES = ["fz-a", "fz-b", "fz-c", "a.b.c", "/", "#", "*.a.#", "fanout"];

/**
 * Deletes the queues the fuzz names most (and the messages it left in them), so that what remains
 * of a run in the broker's memory is what it must not keep. A queue it cannot delete (exclusive to
 * a fuzz connection still closing, say) is skipped.
 */
export async function tidyFuzzQueues(port: number): Promise<void> {
  const c = await RawAmqp.connect(port);
  try {
    await c.openChannel(1);
    for (const name of FUZZ_QUEUES) {
      await c.sendMethod(1, {
        id: spec.QUEUE_DELETE,
        ticket: 0,
        queue: name,
        ifUnused: false,
        ifEmpty: false,
        nowait: false,
      });
      const got = await c.readMethod();
      if (got?.method.id === spec.CHANNEL_CLOSE) {
        await c.sendMethod(1, { id: spec.CHANNEL_CLOSE_OK });
        await c.openChannel(1);
      }
    }
  } finally {
    await c.closeGracefully();
  }
}

/** One fuzz connection's state. */
interface Session {
  c: RawAmqp;
  rng: Rng;
  label: string;
  stats: SocketFuzzStats;
  /** Largest frame the server may send us. */
  frameMax: number;
  /** Channels the server closed (or confirmed closed): to open again. */
  reopen: Set<number>;
  trace?: (line: string) => void;
}

async function runCase(
  opts: SocketFuzzOptions,
  index: number,
  stats: SocketFuzzStats,
): Promise<void> {
  const rng = caseRng(opts.seed, index);
  const quietMs = opts.quietMs ?? 100;
  const largeBody = opts.largeBody ?? DEFAULT_LARGE_BODY;
  const c = await RawAmqp.open(opts.port);
  const s: Session = {
    c,
    rng,
    label: `seed ${opts.seed} case ${index}`,
    stats,
    frameMax: rng.chance(0.2) ? rng.pick([4096, 8192, 65536]) : 131072,
    reopen: new Set(),
    trace: opts.trace,
  };
  try {
    if (rng.chance(0.1)) {
      // A damaged handshake: whatever happens, the broker must not fail inside.
      const frames = badHandshake(rng, largeBody);
      s.frameMax = 131072; // whatever was negotiated, the server's own limit still holds
      await sendInPieces(s, frames);
      count(stats.outcomes, await drain(s, quietMs));
      return;
    }
    const heartbeat = rng.chance(0.1) ? rng.int(1, 3) : 0;
    s.trace?.(`> handshake with frame_max ${s.frameMax}, heartbeat ${heartbeat}`);
    await c.handshake({ frameMax: s.frameMax, heartbeat });
    // How much of the input is damaged: from none (valid methods with random arguments, which
    // explore the broker's state machines) to a lot (which explores the frame layer).
    const damage = rng.pick([0, 0, 0.03, 0.1, 0.3]);
    const channels = rng.chance(0.3) ? [1, 2] : [1];
    const steps = rng.int(1, opts.maxFrames ?? 12);
    const open = channels.map((ch) => methodFrame(ch, { id: spec.CHANNEL_OPEN, outOfBand: "" }));
    let outcome = "open";
    if (rng.chance(0.5)) {
      // Interactive: one step at a time, answering the server and reopening closed channels.
      await sendInPieces(s, open);
      for (let i = 0; i < steps && outcome === "open"; i++) {
        await sendInPieces(s, stepFrames(rng, damage, channels, largeBody));
        outcome = await drain(s, 15);
        if (outcome === "open" && s.reopen.size > 0) {
          const again = [...s.reopen].map((ch) =>
            methodFrame(ch, { id: spec.CHANNEL_OPEN, outOfBand: "" })
          );
          s.reopen.clear();
          await sendInPieces(s, again);
        }
      }
    } else {
      // Batch: everything at once, as a pipelining client would.
      const frames = [...open];
      for (let i = 0; i < steps; i++) frames.push(...stepFrames(rng, damage, channels, largeBody));
      await sendInPieces(s, frames);
    }
    if (outcome === "open") outcome = await drain(s, quietMs);
    count(stats.outcomes, outcome);
    if (outcome === "open" && rng.chance(0.5)) await c.closeGracefully(1_000);
  } finally {
    await c.dispose();
  }
}

/** Writes the frames in random pieces, so that they arrive split at every possible place. */
async function sendInPieces(s: Session, frames: Uint8Array[]): Promise<void> {
  const input = concat(...frames);
  s.trace?.(`> ${describeBytes(input)}`);
  s.stats.framesSent += frames.length;
  s.stats.bytesSent += input.length;
  const rng = s.rng;
  for (let off = 0; off < input.length;) {
    const n = rng.chance(0.3) ? rng.int(1, 16) : rng.int(1, input.length - off);
    if (!await s.c.send(input.subarray(off, off + n))) return;
    off += n;
    if (rng.chance(0.05)) await new Promise((r) => setTimeout(r, rng.int(0, 3)));
  }
}

/**
 * Reads until connection.close (answered), the end of the stream, or `quietMs` of silence, and
 * checks everything the server sends: well-formed frames within frame_max, known methods, known
 * reply codes, no INTERNAL_ERROR.
 */
async function drain(s: Session, quietMs: number): Promise<string> {
  for (;;) {
    let f;
    try {
      f = await s.c.readFrame(quietMs);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith("timed out")) return "open";
      throw new FuzzFailure(`${s.label}: the server sent a malformed frame: ${String(err)}`);
    }
    if (!f) {
      s.trace?.("< end of stream");
      return "dropped";
    }
    s.trace?.(`< ${describeBytes(frame(f.type, f.channel, f.payload))}`);
    if (f.payload.length + FRAME_OVERHEAD > s.frameMax) {
      throw new FuzzFailure(
        `${s.label}: a ${f.payload.length}-byte frame over frame_max ${s.frameMax}`,
      );
    }
    if (f.type !== spec.FRAME_METHOD) continue;
    const m = decodeMethodPayload(f.payload);
    if (!m) {
      throw new FuzzFailure(`${s.label}: the server sent an unknown method ${hex(f.payload, 8)}`);
    }
    if (m.id === spec.CONNECTION_CLOSE || m.id === spec.CHANNEL_CLOSE) {
      if (!(m.replyCode in spec.REPLY_CODES)) {
        throw new FuzzFailure(`${s.label}: unknown reply code ${m.replyCode} ("${m.replyText}")`);
      }
      if (m.replyCode === spec.INTERNAL_ERROR) {
        throw new FuzzFailure(`${s.label}: INTERNAL_ERROR "${m.replyText}"`);
      }
      const seen = s.stats.texts[m.replyCode] ??= [];
      const text = m.replyText.replace(/[0-9a-f]{6,}|\d+/g, "N");
      if (seen.length < 8 && !seen.includes(text)) seen.push(text);
    }
    if (m.id === spec.CHANNEL_CLOSE) {
      count(s.stats.channelCloses, m.replyCode);
      await s.c.sendMethod(f.channel, { id: spec.CHANNEL_CLOSE_OK });
      s.reopen.add(f.channel);
    } else if (m.id === spec.CHANNEL_CLOSE_OK) {
      s.reopen.add(f.channel);
    } else if (m.id === spec.CONNECTION_CLOSE) {
      await s.c.sendMethod(0, { id: spec.CONNECTION_CLOSE_OK });
      return String(m.replyCode);
    }
  }
}

/** The frames in `b` as text (methods by name and arguments), and whatever follows as hex. */
export function describeBytes(b: Uint8Array): string {
  const parts: string[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  if (b.length >= 4 && b[0] === 0x41 && b[1] === 0x4d && b[2] === 0x51 && b[3] === 0x50) {
    parts.push(`protocol header ${hex(b.subarray(0, 8))}`);
    pos = 8;
  }
  while (pos < b.length) {
    const size = b.length - pos >= 7 ? view.getUint32(pos + 3) : -1;
    const end = pos + 7 + size;
    if (size < 0 || end >= b.length || b[end] !== spec.FRAME_END) {
      parts.push(`bytes ${hex(b.subarray(pos), 64)}`);
      break;
    }
    const type = b[pos];
    const channel = view.getUint16(pos + 1);
    const payload = b.subarray(pos + 7, end);
    let text = `frame type ${type} ch ${channel} size ${size}`;
    if (type === spec.FRAME_METHOD) {
      let m: Method | undefined;
      try {
        m = decodeMethodPayload(payload);
      } catch { /* damaged */ }
      text = m
        ? `ch ${channel} ${spec.METHOD_NAMES[m.id]} ${
          JSON.stringify(m, (k, v) =>
            k === "id"
              ? undefined
              : v instanceof Uint8Array
              ? `<${v.length} bytes>`
              : typeof v === "bigint"
              ? `${v}n`
              : v).slice(0, 200)
        }`
        : `${text} (undecodable method ${hex(payload, 16)})`;
    } else if (type === spec.FRAME_HEADER || type === spec.FRAME_BODY) {
      text = `ch ${channel} ${type === spec.FRAME_HEADER ? "header" : "body"} ${hex(payload, 24)}`;
    } else if (type === spec.FRAME_HEARTBEAT && size === 0) text = `ch ${channel} heartbeat`;
    parts.push(text);
    pos = end + 1;
  }
  return parts.join("\n  ");
}

/** The frames of one step: valid with random arguments, or (at the `damage` rate) not. */
function stepFrames(
  rng: Rng,
  damage: number,
  channels: number[],
  largeBody: number,
): Uint8Array[] {
  const channel = rng.pick(channels);
  if (rng.chance(damage)) return damagedFrames(rng, channel, largeBody);
  const r = rng.next();
  if (r < 0.6) {
    return [methodFrame(channel, tame(rng, randomMethod(rng, rng.pick(CLIENT_METHODS))))];
  }
  if (r < 0.95) return publishFrames(rng, channel, largeBody);
  return [frame(spec.FRAME_HEARTBEAT, 0, new Uint8Array(0))];
}

/**
 * Mostly steers clear of arguments that always close the connection (prefetch_size, requeue=false,
 * flow off, unknown exchange types), so that a case gets deeper into the channel's states.
 */
function tame(rng: Rng, m: Method): Method {
  if (rng.chance(0.1)) return m;
  switch (m.id) {
    case spec.BASIC_QOS:
      m.prefetchSize = 0;
      break;
    case spec.BASIC_RECOVER:
    case spec.BASIC_RECOVER_ASYNC:
      m.requeue = true;
      break;
    case spec.CHANNEL_FLOW:
      m.active = true;
      break;
    case spec.EXCHANGE_DECLARE:
      m.type = rng.pick(["direct", "fanout", "topic", "headers"]);
      break;
  }
  return m;
}

/** Damaged, misplaced or random frames. */
function damagedFrames(rng: Rng, channel: number, largeBody: number): Uint8Array[] {
  if (rng.chance(0.2)) channel = rng.pick([0, 3, 65535, rng.int(0, 65535)]);
  switch (rng.int(0, 9)) {
    case 0:
    case 1: {
      const m = randomMethod(rng, rng.pick(CLIENT_METHODS));
      return [mutateFrame(rng, spec.FRAME_METHOD, channel, encode(m))];
    }
    case 2:
    case 3: {
      const frames = publishFrames(rng, channel, largeBody);
      const k = rng.int(0, frames.length - 1);
      frames[k] = rng.chance(0.5) ? mutate(rng, frames[k]) : frames[k].slice(0, 0);
      return frames;
    }
    case 4:
      return [mutateFrame(rng, spec.FRAME_HEADER, channel, headerPayload(rng, rng.int(0, 100)))];
    case 5: {
      // a known or unknown method id with random arguments
      const w = new Writer(64);
      w.short(rng.chance(0.5) ? rng.pick([10, 20, 30, 40, 50, 60, 85, 90]) : rng.int(0, 65535));
      w.short(rng.chance(0.5) ? rng.pick([10, 11, 20, 21, 30, 40, 50, 60, 70, 80]) : rng.u32());
      w.raw(rng.bytes(rng.size(64)));
      return [frame(spec.FRAME_METHOD, channel, w.bytes().slice())];
    }
    case 6: // any method at all, server-side ones included, with random arguments
      return [methodFrame(channel, randomMethod(rng))];
    case 7: // channel.open / close where they do not belong
      return [
        methodFrame(channel, randomMethod(rng, rng.pick([spec.CHANNEL_OPEN, spec.CHANNEL_CLOSE]))),
      ];
    case 8:
      return [
        frame(rng.pick([spec.FRAME_HEARTBEAT, spec.FRAME_BODY]), channel, rng.bytes(rng.size(8))),
      ];
    default:
      return [rng.bytes(rng.int(1, 64))];
  }
}

function headerPayload(rng: Rng, bodySize: number): Uint8Array {
  const w = new Writer(64);
  w.short(rng.chance(0.95) ? spec.CLASS_BASIC : rng.int(0, 100));
  w.short(0);
  w.longlong(bodySize);
  w.raw(randomProperties(rng));
  return w.bytes().slice();
}

/** basic.publish, a content header and the body, split into one or more body frames. */
function publishFrames(rng: Rng, channel: number, largeBody: number): Uint8Array[] {
  const m = randomMethod(rng, spec.BASIC_PUBLISH) as spec.BasicPublish;
  m.immediate = rng.chance(0.05);
  if (rng.chance(0.7)) m.exchange = rng.pick(["", "amq.direct", "amq.topic", "amq.fanout"]);
  const size = rng.chance(0.1) ? rng.int(5000, largeBody) : rng.size(300);
  const out = [
    methodFrame(channel, m),
    frame(spec.FRAME_HEADER, channel, headerPayload(rng, size)),
  ];
  let left = size;
  while (left > 0) {
    const n = Math.min(left, rng.chance(0.5) ? left : rng.int(1, left));
    out.push(frame(spec.FRAME_BODY, channel, rng.bytes(n)));
    left -= n;
  }
  return out;
}

/** The protocol header and handshake frames, with one or more of them damaged or odd. */
function badHandshake(rng: Rng, largeBody: number): Uint8Array[] {
  const startOk: Method = {
    id: spec.CONNECTION_START_OK,
    clientProperties: rng.chance(0.5) ? randomTable(rng) : { product: "fuzz" },
    mechanism: rng.pick(["PLAIN", "AMQPLAIN", "EXTERNAL", "plain", ""]),
    response: rng.pick([
      new TextEncoder().encode("\0guest\0guest"),
      new TextEncoder().encode("\0guest\0wrong"),
      new TextEncoder().encode("guest"),
      rng.bytes(rng.size(40)),
    ]),
    locale: rng.pick(["en_US", ""]),
  };
  const tuneOk: Method = {
    id: spec.CONNECTION_TUNE_OK,
    channelMax: rng.pick([0, 1, 2047, 65535, rng.int(0, 65535)]),
    frameMax: rng.pick([0, 1, 4095, 4096, 131072, 131073, rng.u32()]),
    heartbeat: rng.pick([0, 1, 60, 65535]),
  };
  const open: Method = {
    id: spec.CONNECTION_OPEN,
    virtualHost: rng.pick(["/", "", "nope", "/x"]),
    capabilities: "",
    insist: rng.chance(0.5),
  };
  const frames = [
    rng.chance(0.9) ? AMQP_HEADER : mutate(rng, AMQP_HEADER),
    methodFrame(0, startOk),
    methodFrame(0, tuneOk),
    methodFrame(0, open),
  ];
  if (rng.chance(0.5)) {
    const k = rng.int(1, frames.length - 1);
    frames[k] = mutate(rng, frames[k]);
  }
  if (rng.chance(0.3)) frames.splice(rng.int(1, frames.length - 1), 1);
  if (rng.chance(0.3)) frames.push(...stepFrames(rng, 0.3, [1], largeBody));
  return frames;
}
