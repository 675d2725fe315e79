import assert from "node:assert/strict";
import { headersMatch, validXMatch, xMatchError } from "../../src/broker/headers_match.ts";
import { Field, readTable, writeTable } from "../../src/amqp/table.ts";
import type { FieldTable } from "../../src/amqp/table.ts";
import { Reader } from "../../src/amqp/reader.ts";
import { Writer } from "../../src/amqp/writer.ts";

/** Through the codec, so values take the exact shapes decoding gives them. */
function wire(t: FieldTable): FieldTable {
  const w = new Writer(64);
  writeTable(w, t);
  return readTable(new Reader(w.bytes().slice()), 0);
}

const match = (args: FieldTable, headers: FieldTable | undefined) =>
  headersMatch(wire(args), headers === undefined ? undefined : wire(headers));

Deno.test("headers: x-match all (the default)", () => {
  assert.equal(match({ a: 1, b: "x" }, { a: 1, b: "x", c: true }), true);
  assert.equal(match({ "x-match": "all", a: 1, b: "x" }, { a: 1, b: "x" }), true);
  assert.equal(match({ a: 1, b: "x" }, { a: 1 }), false);
  assert.equal(match({ a: 1, b: "x" }, { a: 1, b: "y" }), false);
  assert.equal(match({ a: 1 }, {}), false);
  assert.equal(match({ a: 1 }, undefined), false);
  // No counted arguments: "all" matches everything, even a message without headers.
  assert.equal(match({}, undefined), true);
  assert.equal(match({ "x-match": "all" }, {}), true);
  assert.equal(match({ "x-match": "all", "x-foo": 1 }, { a: 1 }), true);
});

Deno.test("headers: x-match any", () => {
  assert.equal(match({ "x-match": "any", a: 1, b: "x" }, { b: "x" }), true);
  assert.equal(match({ "x-match": "any", a: 1, b: "x" }, { a: 2, b: "y" }), false);
  assert.equal(match({ "x-match": "any", a: 1 }, undefined), false);
  assert.equal(match({ "x-match": "any" }, { a: 1 }), false);
  assert.equal(match({ "x-match": "any", "x-a": 1 }, { "x-a": 1 }), false);
});

Deno.test("headers: x- arguments count only with *-with-x", () => {
  const h = { "x-tenant": "t1", kind: "k" };
  assert.equal(match({ "x-match": "all", "x-tenant": "t2", kind: "k" }, h), true);
  assert.equal(match({ "x-match": "all-with-x", "x-tenant": "t2", kind: "k" }, h), false);
  assert.equal(match({ "x-match": "all-with-x", "x-tenant": "t1", kind: "k" }, h), true);
  assert.equal(match({ "x-match": "any", "x-tenant": "t1" }, h), false);
  assert.equal(match({ "x-match": "any-with-x", "x-tenant": "t1" }, h), true);
  assert.equal(match({ "x-match": "any-with-x", "x-tenant": "t9", kind: "z" }, h), false);
  // x-match itself never counts, even when the headers carry one.
  assert.equal(match({ "x-match": "all-with-x" }, { "x-match": "any" }), true);
  assert.equal(match({ "x-match": "any-with-x" }, { "x-match": "any-with-x" }), false);
  // "X-" is not "x-".
  assert.equal(match({ "X-a": 1 }, {}), false);
});

Deno.test("headers: a void argument matches presence whatever the value", () => {
  assert.equal(match({ a: null }, { a: "anything" }), true);
  assert.equal(match({ a: null }, { a: null }), true);
  assert.equal(match({ a: null }, { a: false }), true);
  assert.equal(match({ a: null }, { b: 1 }), false);
  assert.equal(match({ "x-match": "any", a: null, b: 2 }, { a: 0 }), true);
  // A void header equals nothing but presence.
  assert.equal(match({ a: 1 }, { a: null }), false);
  assert.equal(match({ a: "" }, { a: null }), false);
  assert.equal(headersMatch({ a: new Field("V", null) }, { a: 1 }), true);
  assert.equal(headersMatch({ a: undefined }, { a: 1 }), true);
});

Deno.test("headers: an unknown x-match acts as all", () => {
  assert.equal(match({ "x-match": "bogus", a: 1, b: 2 }, { a: 1 }), false);
  assert.equal(match({ "x-match": "bogus", a: 1, b: 2 }, { a: 1, b: 2 }), true);
  assert.equal(match({ "x-match": 7, a: 1 }, { a: 1 }), true);
  assert.equal(match({ "x-match": "ANY", a: 1, b: 2 }, { a: 1 }), false);
});

Deno.test("headers: numbers compare by value across wire types (Erlang ==)", () => {
  const ints: FieldTable[] = [
    { v: new Field("b", 2) },
    { v: new Field("B", 2) },
    { v: new Field("s", 2) },
    { v: new Field("u", 2) },
    { v: 2 },
    { v: new Field("i", 2) },
    { v: new Field("l", 2n) },
    { v: new Field("L", 2n) },
    { v: new Field("T", 2) },
    { v: new Field("d", 2) },
    { v: new Field("f", 2) },
  ];
  for (const a of ints) for (const b of ints) assert.equal(match(a, b), true);
  assert.equal(match({ v: 2 }, { v: 3 }), false);
  assert.equal(match({ v: 1.5 }, { v: new Field("f", 1.5) }), true);
  assert.equal(match({ v: 0.1 }, { v: new Field("f", 0.1) }), false); // float32(0.1) != 0.1
  assert.equal(match({ v: new Field("l", 2n ** 62n) }, { v: new Field("l", 2n ** 62n) }), true);
  assert.equal(
    match({ v: new Field("l", 2n ** 62n) }, { v: new Field("l", 2n ** 62n + 1n) }),
    false,
  );
  assert.equal(match({ v: -1 }, { v: new Field("b", -1) }), true);
  // Other kinds never equal numbers.
  assert.equal(match({ v: 1 }, { v: true }), false);
  assert.equal(match({ v: 1 }, { v: "1" }), false);
  assert.equal(match({ v: 0 }, { v: null }), false);
});

Deno.test("headers: strings compare by bytes; 'S' and 'x' alike", () => {
  const bytes = new TextEncoder().encode("héllo");
  assert.equal(match({ v: "héllo" }, { v: "héllo" }), true);
  assert.equal(match({ v: "héllo" }, { v: "hello" }), false);
  assert.equal(match({ v: "héllo" }, { v: new Field("x", bytes) }), true);
  assert.equal(match({ v: new Field("x", bytes) }, { v: "héllo" }), true);
  const bad = new Uint8Array([0xff, 0x00, 0x41]); // not UTF-8: decodes as Field("S", bytes)
  assert.equal(match({ v: new Field("S", bad) }, { v: new Field("S", bad.slice()) }), true);
  assert.equal(match({ v: new Field("S", bad) }, { v: new Field("x", bad.slice()) }), true);
  assert.equal(match({ v: new Field("S", bad) }, { v: "\uFFFD\u0000A" }), false);
  assert.equal(match({ v: "" }, { v: "" }), true);
  assert.equal(match({ v: "" }, { v: new Field("x", new Uint8Array(0)) }), true);
  assert.equal(match({ v: "true" }, { v: true }), false);
});

Deno.test("headers: booleans, decimals", () => {
  assert.equal(match({ v: true }, { v: true }), true);
  assert.equal(match({ v: true }, { v: false }), false);
  assert.equal(match({ v: false }, { v: 0 }), false);
  const d = (scale: number, value: number) => new Field("D", { scale, value });
  assert.equal(match({ v: d(2, 314) }, { v: d(2, 314) }), true);
  assert.equal(match({ v: d(2, 314) }, { v: d(1, 314) }), false);
  assert.equal(match({ v: d(2, 314) }, { v: d(2, 315) }), false);
  assert.equal(match({ v: d(0, 3) }, { v: 3 }), false);
});

Deno.test("headers: nested tables and arrays compare with their element types", () => {
  assert.equal(match({ v: { a: 1, b: "x" } }, { v: { a: 1, b: "x" } }), true);
  assert.equal(match({ v: { a: 1, b: "x" } }, { v: { b: "x", a: 1 } }), false); // order counts
  assert.equal(match({ v: { a: 1 } }, { v: { a: 1, b: 2 } }), false);
  assert.equal(match({ v: { a: 1 } }, { v: { a: new Field("l", 1n) } }), false); // types count
  assert.equal(match({ v: { a: new Field("l", 1n) } }, { v: { a: new Field("L", 1n) } }), true);
  assert.equal(
    match({ v: { a: "s" } }, { v: { a: new Field("x", new Uint8Array([115])) } }),
    false,
  );
  assert.equal(
    match({ v: { a: { b: [1, "two", null] } } }, { v: { a: { b: [1, "two", null] } } }),
    true,
  );
  assert.equal(match({ v: [1, 2, 3] }, { v: [1, 2, 3] }), true);
  assert.equal(match({ v: [1, 2, 3] }, { v: [1, 3, 2] }), false);
  assert.equal(match({ v: [1, 2] }, { v: [1, 2, 3] }), false);
  assert.equal(match({ v: [1] }, { v: [new Field("b", 1)] }), false);
  assert.equal(match({ v: [1.5] }, { v: [1.5] }), true);
  assert.equal(match({ v: [] }, { v: [] }), true);
  assert.equal(match({ v: {} }, { v: {} }), true);
  assert.equal(match({ v: [] }, { v: {} }), true); // both are [] in Erlang
  assert.equal(match({ v: [1] }, { v: { a: 1 } }), false);
  assert.equal(match({ v: [] }, { v: "" }), false);
});

Deno.test("headers: values given as plain JS (definitions, HTTP API) behave like decoded ones", () => {
  assert.equal(headersMatch({ a: 1, b: "x" }, { a: new Field("l", 1n), b: "x" }), true);
  assert.equal(headersMatch({ a: 2 ** 40 }, { a: new Field("l", 2n ** 40n) }), true);
  assert.equal(headersMatch({ a: 2 ** 40 }, { a: 2 ** 40 }), true);
  assert.equal(headersMatch({ a: new Date(5000) }, { a: new Field("T", 5) }), true);
  assert.equal(headersMatch({ a: new Uint8Array([104, 105]) }, { a: "hi" }), true);
});

Deno.test("headers: inherited properties are not headers", () => {
  const headers = Object.create({ a: 1 }) as Record<string, unknown>;
  assert.equal(headersMatch({ a: 1 }, headers), false);
  assert.equal(headersMatch({ a: null }, headers), false);
  assert.equal(headersMatch({ toString: null }, {}), false);
  assert.equal(headersMatch({ "x-match": "any", constructor: null }, {}), false);
});

Deno.test("headers: many arguments", () => {
  const args: FieldTable = { "x-match": "all" };
  const headers: FieldTable = {};
  for (let i = 0; i < 500; i++) {
    args[`k${i}`] = i;
    headers[`k${499 - i}`] = 499 - i;
  }
  assert.equal(match(args, headers), true);
  headers.k250 = "no";
  assert.equal(match(args, headers), false);
  args["x-match"] = "any";
  assert.equal(match(args, headers), true);
});

Deno.test("headers: validXMatch and RabbitMQ's bind-time error text", () => {
  for (const v of [undefined, "all", "any", "all-with-x", "any-with-x"]) {
    assert.equal(validXMatch(v), true, String(v));
    assert.equal(xMatchError(v), null);
  }
  for (const v of ["", "ALL", "one", "all ", null, 1, true, new Field("x", new Uint8Array())]) {
    assert.equal(validXMatch(v), false, String(v));
  }
  assert.equal(
    xMatchError("foo"),
    'Invalid x-match field value <<"foo">>; expected all, any, all-with-x, or any-with-x',
  );
  assert.equal(
    xMatchError(1),
    "Invalid x-match field type signedint (value 1); expected longstr",
  );
  assert.equal(
    xMatchError(true),
    "Invalid x-match field type bool (value true); expected longstr",
  );
  assert.equal(
    xMatchError(null),
    "Invalid x-match field type void (value undefined); expected longstr",
  );
  assert.equal(
    xMatchError(new Field("x", new TextEncoder().encode("all"))),
    'Invalid x-match field type binary (value <<"all">>); expected longstr',
  );
  assert.equal(
    xMatchError(new Field("d", 1)),
    "Invalid x-match field type double (value 1.0); expected longstr",
  );
  assert.equal(
    xMatchError(new Field("S", new Uint8Array([0xff, 1]))),
    "Invalid x-match field value <<255,1>>; expected all, any, all-with-x, or any-with-x",
  );
});
