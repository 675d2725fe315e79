/**
 * The message log on its own, in a temp dir: append/sync/recover round trips, settlement and
 * delivery records, the keep() filter, group commit, torn tails and corrupt records, and
 * reclaiming segment files once nothing in them is live.
 */
import assert from "node:assert/strict";
import { MessageLog } from "../../src/store/message_log.ts";
import type { BodyLocation, RecoveredMessage } from "../../src/store/message_log.ts";
import { setLogLevel } from "../../src/log.ts";

// Recovery warns about every torn tail and corrupt record these tests make on purpose.
setLogLevel("error");

const SEGMENT = 16 * 1024 * 1024;
const BIG = 64 * 1024;
const enc = new TextEncoder();

/** A deterministic body: `size` bytes derived from `id`. */
function body(id: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (id * 31 + i * 7) & 0xff;
  return b;
}

/** Properties bytes (opaque to the log): flags 0x9000 (content type, delivery mode) and fields. */
function props(id: number): Uint8Array {
  return new Uint8Array([0x90, 0x00, 4, ...enc.encode(`t/${id % 10}`), 2]);
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "broker-msglog-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens a log on `dir` and recovers it. */
function open(dir: string, keep: (q: number) => boolean = () => true) {
  const log = new MessageLog(dir);
  const { messages, report } = log.recover(keep);
  return { log, messages, report };
}

/** Segment file names in `dir`, sorted. */
function files(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".log")).sort();
}

const segPath = (dir: string, no: number) => `${dir}/${String(no).padStart(10, "0")}.log`;
const ids = (ms: RecoveredMessage[]) => ms.map((m) => m.id);
const queuesOf = (m: RecoveredMessage) => [...m.queues].sort((a, b) => a - b);

/** Appends `count` messages with ids from `first` to `queues`; returns their body locations. */
function publishMany(
  log: MessageLog,
  first: number,
  count: number,
  queues: number[],
  size = BIG,
): Map<number, BodyLocation> {
  const locs = new Map<number, BodyLocation>();
  for (let id = first; id < first + count; id++) {
    locs.set(id, log.appendPublish(id, queues, "", `q${queues[0]}`, props(id), body(id, size)));
  }
  return locs;
}

// ---------------------------------------------------------------------------------------------
// Round trips

Deno.test("message log: an empty dir recovers nothing and reports zeros", async () => {
  await withDir(async (dir) => {
    const { log, messages, report } = open(dir);
    assert.deepEqual(messages, []);
    assert.deepEqual(report, {
      segments: 0,
      records: 0,
      corrupt: 0,
      truncatedBytes: 0,
      maxMessageId: 0,
    });
    await log.close();
  });
});

Deno.test("message log: append, sync, recover round trip keeps every field", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    const b1 = body(1, 1000);
    const b2 = body(2, 70_000);
    const l1 = a.appendPublish(1, [7], "ex.one", "rk.é", props(1), b1);
    const l2 = a.appendPublish(2, [7, 9], "", "queue-name", props(2), b2);
    const l3 = a.appendPublish(3, [9], "amq.topic", "", new Uint8Array(0), new Uint8Array(0));
    a.appendDelivered(7, 1);
    // Readable before and after the fsync.
    assert.deepEqual(a.readBody(l2), b2);
    await a.sync();
    assert.deepEqual(a.readBody(l1), b1);
    assert.equal(a.readBody(l3).length, 0);
    const size = a.diskSize();
    assert.equal(Deno.statSync(segPath(dir, 1)).size, size, "sync wrote everything appended");
    await a.close();

    const { log, messages, report } = open(dir);
    try {
      assert.deepEqual(ids(messages), [1, 2, 3]);
      const [m1, m2, m3] = messages;
      assert.deepEqual(queuesOf(m1), [7]);
      assert.deepEqual(queuesOf(m2), [7, 9]);
      assert.deepEqual(queuesOf(m3), [9]);
      assert.deepEqual([...m1.delivered], [7]);
      assert.deepEqual([...m2.delivered], []);
      assert.equal(m1.exchange, "ex.one");
      assert.equal(m1.routingKey, "rk.é");
      assert.equal(m2.exchange, "");
      assert.equal(m2.routingKey, "queue-name");
      assert.equal(m3.exchange, "amq.topic");
      assert.deepEqual(m1.properties, props(1));
      assert.deepEqual(m2.properties, props(2));
      assert.equal(m3.properties.length, 0);
      assert.deepEqual(log.readBody(m1.body), b1);
      assert.deepEqual(log.readBody(m2.body), b2);
      assert.equal(m3.body.length, 0);
      assert.deepEqual(m2.body, l2, "the recovered body location is where the append put it");
      assert.equal(report.segments, 1);
      assert.equal(report.records, 4);
      assert.equal(report.corrupt, 0);
      assert.equal(report.truncatedBytes, 0);
      assert.equal(log.diskSize(), size);
    } finally {
      await log.close();
    }
  });
});

Deno.test("message log: sync is one shared promise per group commit", async () => {
  await withDir(async (dir) => {
    const { log } = open(dir);
    log.appendPublish(1, [1], "", "q", props(1), body(1, 10));
    const p1 = log.sync();
    log.appendPublish(2, [1], "", "q", props(2), body(2, 10));
    const p2 = log.sync();
    assert.equal(p1, p2, "appends before the commit starts share its promise");
    await p1;
    assert.equal(Deno.statSync(segPath(dir, 1)).size, log.diskSize());
    log.appendPublish(3, [1], "", "q", props(3), body(3, 10));
    const p3 = log.sync();
    assert.notEqual(p3, p1);
    await p3;
    assert.equal(Deno.statSync(segPath(dir, 1)).size, log.diskSize());
    await log.close();
    assert.throws(() => log.appendDelivered(1, 1), /closed/);
  });
});

Deno.test("message log: settle removes a message from one queue, and from the log once all", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    a.appendPublish(1, [7], "", "a", props(1), body(1, 100));
    const l2 = a.appendPublish(2, [7, 9], "", "b", props(2), body(2, 100));
    a.appendPublish(3, [9], "", "c", props(3), body(3, 100));
    a.appendSettle(7, 1, 1);
    a.appendSettle(7, 2, l2.segment);
    await a.close();

    const b = open(dir);
    assert.deepEqual(ids(b.messages), [2, 3]);
    assert.deepEqual(queuesOf(b.messages[0]), [9], "still live for the queue not settled");
    assert.deepEqual(b.log.readBody(b.messages[0].body), body(2, 100));
    b.log.appendSettle(9, 2, b.messages[0].segment);
    await b.log.close();

    const c = open(dir);
    assert.deepEqual(ids(c.messages), [3]);
    await c.log.close();
  });
});

Deno.test("message log: delivered marks are per queue and survive restarts", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    a.appendPublish(1, [1, 2], "", "", props(1), body(1, 5));
    a.appendPublish(2, [1], "", "", props(2), body(2, 5));
    a.appendDelivered(2, 1);
    await a.close();
    const b = open(dir);
    assert.deepEqual([...b.messages[0].delivered], [2]);
    assert.deepEqual([...b.messages[1].delivered], []);
    b.log.appendDelivered(1, 2);
    await b.log.close();
    const c = open(dir);
    assert.deepEqual([...c.messages[0].delivered], [2]);
    assert.deepEqual([...c.messages[1].delivered], [1]);
    await c.log.close();
  });
});

Deno.test("message log: keep() drops the messages of deleted queues", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    a.appendPublish(1, [7], "", "", props(1), body(1, 5));
    a.appendPublish(2, [7, 9], "", "", props(2), body(2, 5));
    a.appendPublish(3, [9], "", "", props(3), body(3, 5));
    await a.close();
    const { log, messages } = open(dir, (q) => q !== 9);
    assert.deepEqual(ids(messages), [1, 2]);
    assert.deepEqual(queuesOf(messages[1]), [7]);
    await log.close();
  });
});

Deno.test("message log: maxMessageId is the highest message id, whatever other records say", async () => {
  // SETTLE and DELIVERED records start with a queue id, then the message id: neither the queue
  // id nor a mix of both may count as a message id (the store continues numbering from it).
  await withDir(async (dir) => {
    const a = open(dir).log;
    a.appendPublish(1, [7], "", "", props(1), body(1, 5));
    a.appendPublish(2, [7], "", "", props(2), body(2, 5));
    a.appendPublish(3, [7], "", "", props(3), body(3, 5));
    a.appendDelivered(7, 1);
    a.appendSettle(7, 2, 1);
    await a.close();
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1, 3]);
    assert.equal(report.maxMessageId, 3);
    await log.close();
  });
});

Deno.test("message log: ids continue past the recovered maximum (u64 ids beyond 2^32)", async () => {
  await withDir(async (dir) => {
    const big = 2 ** 40 + 5;
    const a = open(dir).log;
    a.appendPublish(big, [1], "", "", props(1), body(1, 5));
    await a.close();
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [big]);
    assert.equal(report.maxMessageId, big);
    await log.close();
  });
});

// ---------------------------------------------------------------------------------------------
// Torn tails and corrupt records

/** Three messages of different sizes; returns the file size after each append. */
async function threeMessages(dir: string): Promise<number[]> {
  const { log } = open(dir);
  const sizes: number[] = [];
  for (const id of [1, 2, 3]) {
    log.appendPublish(id, [1], "", "q", props(id), body(id, 500 * id));
    sizes.push(log.diskSize());
  }
  await log.close();
  assert.equal(Deno.statSync(segPath(dir, 1)).size, sizes[2]);
  return sizes;
}

/** After recovering a torn tail: appending works and the next recovery is clean. */
async function appendAfterRecovery(dir: string, log: MessageLog, expected: number[]) {
  log.appendPublish(9, [1], "", "q", props(9), body(9, 300));
  await log.close();
  const again = open(dir);
  try {
    assert.deepEqual(ids(again.messages), [...expected, 9]);
    assert.equal(again.report.truncatedBytes, 0);
    assert.equal(again.report.corrupt, 0);
    const m9 = again.messages[again.messages.length - 1];
    assert.deepEqual(again.log.readBody(m9.body), body(9, 300));
  } finally {
    await again.log.close();
  }
}

Deno.test("message log: a record cut in half at the tail is truncated away", async () => {
  await withDir(async (dir) => {
    const sizes = await threeMessages(dir);
    const cut = sizes[1] + Math.floor((sizes[2] - sizes[1]) / 2);
    await Deno.truncate(segPath(dir, 1), cut);
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1, 2]);
    assert.equal(report.truncatedBytes, cut - sizes[1]);
    assert.equal(report.corrupt, 0);
    assert.equal(Deno.statSync(segPath(dir, 1)).size, sizes[1], "file cut to the last good record");
    assert.deepEqual(log.readBody(messages[1].body), body(2, 1000));
    await appendAfterRecovery(dir, log, [1, 2]);
  });
});

Deno.test("message log: a partial header at the tail is truncated away", async () => {
  await withDir(async (dir) => {
    const sizes = await threeMessages(dir);
    const f = await Deno.open(segPath(dir, 1), { append: true });
    await f.write(new Uint8Array([0, 0, 1, 2, 3]));
    f.close();
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1, 2, 3]);
    assert.equal(report.truncatedBytes, 5);
    assert.equal(Deno.statSync(segPath(dir, 1)).size, sizes[2]);
    await appendAfterRecovery(dir, log, [1, 2, 3]);
  });
});

Deno.test("message log: garbage appended at the tail is truncated away", async () => {
  await withDir(async (dir) => {
    const sizes = await threeMessages(dir);
    const f = await Deno.open(segPath(dir, 1), { append: true });
    await f.write(new Uint8Array(40).fill(0xff)); // a length no record can have
    f.close();
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1, 2, 3]);
    assert.equal(report.truncatedBytes, 40);
    assert.equal(report.corrupt, 0);
    assert.equal(Deno.statSync(segPath(dir, 1)).size, sizes[2]);
    await appendAfterRecovery(dir, log, [1, 2, 3]);
  });
});

Deno.test("message log: a zero-filled tail (unwritten blocks after a crash) is a torn tail", async () => {
  // After a power loss a file can end in zeros (its size reached the disk, its data did not).
  await withDir(async (dir) => {
    const sizes = await threeMessages(dir);
    const f = await Deno.open(segPath(dir, 1), { append: true });
    await f.write(new Uint8Array(4096));
    f.close();
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1, 2, 3]);
    assert.deepEqual(
      { truncatedBytes: report.truncatedBytes, corrupt: report.corrupt },
      { truncatedBytes: 4096, corrupt: 0 },
      "the zeros are truncated as a torn tail, not counted as hundreds of corrupt records",
    );
    assert.equal(Deno.statSync(segPath(dir, 1)).size, sizes[2]);
    await appendAfterRecovery(dir, log, [1, 2, 3]);
  });
});

Deno.test("message log: a corrupt record that is not the last is skipped and counted", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    const locs = publishMany(a, 1, 4, [1], 2000);
    await a.close();
    const path = segPath(dir, 1);
    const size = Deno.statSync(path).size;
    const data = Deno.readFileSync(path);
    data[locs.get(2)!.offset + 1000] ^= 0x40; // one bit inside message 2's body
    Deno.writeFileSync(path, data);

    const { log, messages, report } = open(dir);
    try {
      assert.deepEqual(ids(messages), [1, 3, 4]);
      assert.equal(report.corrupt, 1);
      assert.equal(report.records, 3);
      assert.equal(report.truncatedBytes, 0);
      assert.equal(Deno.statSync(path).size, size, "nothing truncated");
      assert.deepEqual(log.readBody(messages[1].body), body(3, 2000));
      assert.deepEqual(log.readBody(messages[2].body), body(4, 2000));
    } finally {
      await log.close();
    }
  });
});

Deno.test("message log: a corrupt settle record brings its message back (never loses one)", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    a.appendPublish(1, [1], "", "", props(1), body(1, 10));
    a.appendPublish(2, [1], "", "", props(2), body(2, 10));
    const before = a.diskSize();
    a.appendSettle(1, 1, 1);
    a.appendSettle(1, 2, 1);
    await a.close();
    const path = segPath(dir, 1);
    const data = Deno.readFileSync(path);
    data[before + 12] ^= 0x01; // inside the first SETTLE record's payload
    Deno.writeFileSync(path, data);
    const { log, messages, report } = open(dir);
    assert.deepEqual(ids(messages), [1]);
    assert.equal(report.corrupt, 1);
    await log.close();
  });
});

Deno.test("message log: damage in an older segment skips the rest of it, later segments recover", async () => {
  await withDir(async (dir) => {
    const a = open(dir).log;
    // Record start offsets of the first segment's records.
    const starts: number[] = [];
    const locs = new Map<number, BodyLocation>();
    let id = 1;
    while (a.segmentCount < 2 || locs.size < 300) {
      if (a.segmentCount === 1) starts.push(a.diskSize());
      locs.set(id, a.appendPublish(id, [1], "", "q", props(id), body(id, BIG)));
      id++;
    }
    await a.close();
    const inFirst = [...locs].filter(([, l]) => l.segment === 1).map(([i]) => i);
    const inSecond = [...locs].filter(([, l]) => l.segment === 2).map(([i]) => i);
    assert.ok(inFirst.length > 100 && inSecond.length > 0, "messages span two segments");
    assert.equal(files(dir).length, 2);

    // The length field of record #100 of segment 1 now points past the end of the file.
    const path = segPath(dir, 1);
    const size = Deno.statSync(path).size;
    const f = await Deno.open(path, { read: true, write: true });
    await f.seek(starts[99], Deno.SeekMode.Start);
    await f.write(new Uint8Array([0x1f, 0xff, 0xff, 0xff]));
    f.close();

    const { log, messages, report } = open(dir);
    try {
      assert.deepEqual(ids(messages), [...inFirst.slice(0, 99), ...inSecond]);
      assert.equal(report.corrupt, 1);
      assert.equal(report.truncatedBytes, 0, "only the last segment's tail is ever truncated");
      assert.equal(Deno.statSync(path).size, size, "an older segment is left as it is");
      const last = messages[messages.length - 1];
      assert.deepEqual(log.readBody(last.body), body(last.id, BIG));
    } finally {
      await log.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Reclaiming space

Deno.test("message log: settling everything deletes the old segments", async () => {
  await withDir(async (dir) => {
    const { log } = open(dir);
    const locs = publishMany(log, 1, 300, [1]);
    await log.sync();
    assert.equal(log.segmentCount, 2);
    assert.deepEqual(files(dir), ["0000000001.log", "0000000002.log"]);
    assert.ok(log.diskSize() > SEGMENT);
    for (const [id, loc] of locs) log.appendSettle(1, id, loc.segment);
    await log.sync();
    await log.removalsDone();
    assert.deepEqual(files(dir), ["0000000002.log"], "the emptied older segment is gone");
    assert.equal(log.segmentCount, 1);
    const size = log.diskSize();
    assert.ok(size < SEGMENT / 4, `diskSize ${size} after settling everything`);
    assert.equal(Deno.statSync(segPath(dir, 2)).size, size);
    await log.close();

    const again = open(dir);
    assert.deepEqual(again.messages, []);
    assert.deepEqual(files(dir), ["0000000002.log"]);
    await again.log.close();
  });
});

Deno.test("message log: a body stays readable in the task that settled its last message", async () => {
  // A no-ack delivery settles the message before its body is written to the client: emptying
  // the segment must not make that body unreadable (the segment goes afterwards).
  await withDir(async (dir) => {
    const { log } = open(dir);
    const locs = publishMany(log, 1, 300, [1]);
    await log.sync();
    const first = [...locs].filter(([, l]) => l.segment === 1);
    for (const [id, loc] of first.slice(0, -1)) log.appendSettle(1, id, loc.segment);
    const [lastId, lastLoc] = first[first.length - 1];
    log.appendSettle(1, lastId, lastLoc.segment);
    assert.deepEqual(log.readBody(lastLoc), body(lastId, BIG));
    await log.sync();
    await log.removalsDone();
    assert.ok(!files(dir).includes("0000000001.log"), "then the segment goes");
    await log.close();
  });
});

Deno.test("message log: released messages (deleted queue) free their segment too", async () => {
  await withDir(async (dir) => {
    const { log } = open(dir);
    const a = publishMany(log, 1, 150, [1]);
    const b = publishMany(log, 151, 150, [2]);
    await log.sync();
    assert.equal(log.segmentCount, 2);
    for (const [id, loc] of a) log.appendSettle(1, id, loc.segment);
    for (const loc of b.values()) log.release(loc.segment); // queue 2 deleted, no record
    await log.close();
    assert.deepEqual(files(dir), ["0000000002.log"]);
    const again = open(dir, (q) => q !== 2);
    assert.deepEqual(again.messages, []);
    await again.log.close();
  });
});

Deno.test("message log: one live message pins its segment, and settles of it pin theirs", async () => {
  await withDir(async (dir) => {
    const { log } = open(dir);
    // Batch A spans segments 1 and 2; everything but message 1 is settled (records in segment 2).
    const a = publishMany(log, 1, 300, [1]);
    assert.equal(a.get(1)!.segment, 1);
    for (const [id, loc] of a) if (id !== 1) log.appendSettle(1, id, loc.segment);
    // Batch B fills segment 2 and goes on into segment 3; all of it is settled.
    const b = publishMany(log, 301, 300, [1]);
    for (const [id, loc] of b) log.appendSettle(1, id, loc.segment);
    const last = Math.max(...[...b.values()].map((l) => l.segment));
    assert.ok(last >= 3, "batch B reached a third segment");
    await log.sync();
    const names = files(dir);
    assert.ok(names.includes("0000000001.log"), "segment 1 holds live message 1");
    // Segment 2 has nothing live, but its SETTLE records are what keeps messages 2… of segment 1
    // settled: deleting it would bring them back on recovery.
    assert.ok(names.includes("0000000002.log"), "segment 2 is kept while segment 1 lives");
    await log.close();

    const again = open(dir);
    assert.deepEqual(ids(again.messages), [1], "only the unsettled message comes back");
    assert.deepEqual(again.log.readBody(again.messages[0].body), body(1, BIG));
    // Settling it frees segment 1 and then segment 2, which waited on it.
    again.log.appendSettle(1, 1, 1);
    await again.log.sync();
    await again.log.removalsDone();
    assert.deepEqual(files(dir), [`${String(last).padStart(10, "0")}.log`]);
    await again.log.close();

    const third = open(dir);
    assert.deepEqual(third.messages, []);
    await third.log.close();
  });
});
