import assert from "node:assert/strict";
import { Ledger, SeqSet } from "./ledger.ts";

Deno.test("soak ledger: SeqSet grows, counts members once, and survives a copy of its bits", () => {
  const s = new SeqSet();
  for (const n of [0, 7, 8, 100_000, 7]) s.add(n);
  assert.equal(s.size, 4);
  assert.equal(s.add(100_000), false);
  assert.ok(s.has(8) && !s.has(9) && !s.has(10_000_000));
  const copy = new SeqSet(s.bits.slice());
  assert.equal(copy.size, 4);
  assert.equal(new SeqSet().merge(copy), 0);
  assert.equal(s.merge(copy), 4, "every member already there");
});

Deno.test("soak ledger: lost, unconfirmed and unknown ids are told apart and listed", () => {
  const ledger = new Ledger(2);
  for (let i = 0; i < 10; i++) ledger.sent(0);
  for (let i = 0; i < 3; i++) ledger.sent(1);
  for (let seq = 0; seq < 8; seq++) ledger.confirmed(0, seq); // 8, 9 never confirmed
  ledger.confirmed(1, 0);
  ledger.confirmed(1, 1);
  ledger.nacked(); // publisher 1's seq 2
  const recv0 = new SeqSet();
  for (const seq of [0, 1, 2, 4, 5, 6, 8, 42]) recv0.add(seq); // 3 and 7 lost; 8 unconfirmed; 42 unknown
  assert.equal(ledger.mergeReceived(0, recv0), 0);
  assert.equal(ledger.mergeReceived(0, recv0), 8, "a second copy is all duplicates");
  ledger.received(1, 0); // fetched after the run; 1 lost
  const t = ledger.tally(2);
  assert.deepEqual(t, {
    sent: 13,
    confirmed: 10,
    nacked: 1,
    received: 9,
    lost: 3,
    lostIds: ["p0#3", "p0#7"],
    receivedUnconfirmed: 1,
    unconfirmedMissing: 2, // p0#9, p1#2
    unknown: 1,
  });
});
