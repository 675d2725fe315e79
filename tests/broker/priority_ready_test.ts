import assert from "node:assert/strict";
import { Message } from "../../src/broker/message.ts";
import type { QueuedMessage } from "../../src/broker/message.ts";
import { PriorityReadyList } from "../../src/broker/ready_list.ts";
import type { Reviver } from "../../src/broker/ready_list.ts";

/** Raw basic properties carrying only a priority (flag 0x0800), or none. */
const props = (priority?: number) =>
  priority === undefined ? new Uint8Array([0, 0]) : new Uint8Array([0x08, 0x00, priority]);

/** A reviver that names each paged message by its store id. */
const reviver: Reviver = (id, segment, offset, length) => ({
  id,
  segment,
  offset,
  length,
  refs: 1,
  readBody: () => new TextEncoder().encode(`paged-${id}`),
});

const body = (qm: QueuedMessage | undefined) => new TextDecoder().decode(qm!.msg.body);

function drainAll(list: PriorityReadyList): string[] {
  const out: string[] = [];
  for (let qm = list.shift(); qm; qm = list.shift()) out.push(body(qm));
  return out;
}

Deno.test("priority ready list: paged and in-memory messages by priority, FIFO within one", () => {
  const list = new PriorityReadyList(5, () => reviver);
  const text = (s: string) => new TextEncoder().encode(s);
  list.push(new Message("", "q", props(), text("n1")), 0, false, 0);
  list.pushPaged(
    { exchange: "", routingKey: "q", properties: props(3) },
    {
      id: 1,
      segment: 0,
      offset: 0,
    },
    8,
    0,
    false,
    0,
  );
  list.push(new Message("", "q", props(9), text("p9")), 0, false, 0);
  list.pushPaged(
    { exchange: "", routingKey: "q", properties: props(3) },
    {
      id: 2,
      segment: 0,
      offset: 8,
    },
    8,
    0,
    true,
    0,
  );
  list.push(new Message("", "q", props(0), text("p0")), 0, false, 0);
  assert.equal(list.length, 5);
  assert.equal(list.bytes, 2 + 8 + 2 + 8 + 2);
  const first = list.shift()!;
  assert.equal(body(first), "p9");
  const second = list.shift()!;
  assert.equal(body(second), "paged-1");
  // Requeued: each goes back to the head of its own priority.
  list.insert(second);
  list.insert(first);
  assert.deepEqual(drainAll(list), ["p9", "paged-1", "paged-2", "n1", "p0"]);
  assert.equal(list.length, 0);
  assert.equal(list.bytes, 0);
});

Deno.test("priority ready list: expiry is checked at every priority's head", () => {
  const list = new PriorityReadyList(2, () => undefined);
  const m = (p: number, s: string) => new Message("", "q", props(p), new TextEncoder().encode(s));
  list.push(m(2, "hi"), 0, false, 0);
  list.push(m(1, "lo-exp"), 0, false, 100);
  list.push(m(2, "hi-exp"), 0, false, 50);
  assert.equal(list.headExpires(), 100);
  assert.equal(list.shiftExpired(99), undefined);
  assert.equal(body(list.shiftExpired(100)), "lo-exp");
  assert.equal(list.headExpires(), 0);
  // drop-head drops from the highest priority.
  const dropped: string[] = [];
  list.dropHead((msg) => dropped.push(new TextDecoder().decode(msg.body)), () => {});
  assert.deepEqual(dropped, ["hi"]);
  assert.equal(list.headExpires(), 50);
  assert.equal(list.clear(() => {}, () => {}), 1);
});
