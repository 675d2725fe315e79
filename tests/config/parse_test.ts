import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { lastWins, parseConf } from "../../src/config/parse.ts";

const pairs = (text: string) =>
  parseConf(text, "rabbitmq.conf").entries.map((e) => [e.key, e.value, e.line]);

function syntaxError(text: string, message: string) {
  assert.throws(() => parseConf(text, "rabbitmq.conf"), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, message);
    return true;
  });
}

Deno.test("parse: key = value lines, whitespace trimmed", () => {
  assert.deepEqual(pairs("heartbeat = 30\n  frame_max=8192\t\n\tlisteners.tcp.default   =  5673"), [
    ["heartbeat", "30", 1],
    ["frame_max", "8192", 2],
    ["listeners.tcp.default", "5673", 3],
  ]);
});

Deno.test("parse: comments and blank lines, with the right line numbers", () => {
  const text = [
    "# a comment",
    "",
    "   # an indented comment",
    "heartbeat = 30 # trailing comment",
    "   \t ",
    "channel_max = 100#no space before the hash",
    "default_pass = 'a#b' # quoted, so the hash is kept",
  ].join("\n");
  assert.deepEqual(pairs(text), [
    ["heartbeat", "30", 4],
    ["channel_max", "100", 6],
    ["default_pass", "a#b", 7],
  ]);
});

Deno.test("parse: a '#' glued to a value starts a comment, with a warning", () => {
  const { entries, warnings } = parseConf("default_pass = pa#ss\n", "r.conf");
  assert.equal(entries[0].value, "pa");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^r\.conf:1: default_pass: '#' starts a comment/);
});

Deno.test("parse: CRLF line ends and a BOM", () => {
  assert.deepEqual(pairs("\uFEFFheartbeat = 30\r\nchannel_max = 5\r\n"), [
    ["heartbeat", "30", 1],
    ["channel_max", "5", 2],
  ]);
});

Deno.test("parse: single-quoted values", () => {
  assert.deepEqual(pairs("a = 'x y = z'\nb = ''"), [["a", "x y = z", 1], ["b", "", 2]]);
  // No closing quote: read as a plain value, as cuttlefish does.
  assert.deepEqual(pairs("a = 'unclosed"), [["a", "'unclosed", 1]]);
  syntaxError("a = 'x' y", "rabbitmq.conf:1: a: unexpected text after the quoted value: 'y'");
});

Deno.test("parse: values keep inner spaces, '=' and ':'", () => {
  assert.deepEqual(pairs("a = x = y\nlisteners.tcp.1 = :::5672"), [
    ["a", "x = y", 1],
    ["listeners.tcp.1", ":::5672", 2],
  ]);
});

Deno.test("parse: escaped dots in keys", () => {
  const { entries } = parseConf("loopback_users.john\\.doe = true", "r.conf");
  assert.deepEqual(entries[0].segments, ["loopback_users", "john.doe"]);
  assert.equal(entries[0].key, "loopback_users.john\\.doe");
});

Deno.test("parse: malformed lines name file:line and why", () => {
  syntaxError(
    "heartbeat = 30\n\nframe_max 8192\n",
    "rabbitmq.conf:3: expected 'key = value', found 'frame_max 8192'",
  );
  syntaxError("# c\n = 5", "rabbitmq.conf:2: missing key before '='");
  syntaxError(
    "heart beat = 5",
    "rabbitmq.conf:1: 'heart beat' is not a valid key " +
      "(words of letters, digits, '_' and '-', joined by '.')",
  );
  syntaxError(
    "a..b = 1",
    "rabbitmq.conf:1: 'a..b' is not a valid key " +
      "(words of letters, digits, '_' and '-', joined by '.')",
  );
  syntaxError("x\nheartbeat =\n", "rabbitmq.conf:1: expected 'key = value', found 'x'");
  syntaxError("heartbeat =   # nothing\n", "rabbitmq.conf:1: heartbeat: missing value after '='");
  syntaxError("a = 1\nheartbeat =", "rabbitmq.conf:2: heartbeat: missing value after '='");
});

Deno.test("parse: include lines are reported, not followed", () => {
  const { entries, warnings } = parseConf("include conf.d/*.conf\nheartbeat = 1", "r.conf");
  assert.equal(entries.length, 1);
  assert.deepEqual(warnings, [
    "r.conf:1: include directives are not supported by broker; line ignored",
  ]);
});

Deno.test("parse: the same key twice, the last value wins (cuttlefish)", () => {
  const parsed = parseConf("heartbeat = 1\nframe_max = 4096\nheartbeat = 2\n", "r.conf");
  const { entries, warnings } = lastWins(parsed.entries, "r.conf");
  assert.deepEqual(entries.map((e) => [e.key, e.value, e.line]), [
    ["heartbeat", "2", 3],
    ["frame_max", "4096", 2],
  ]);
  assert.deepEqual(warnings, ["r.conf:3: heartbeat is also set on line 1; the last value wins"]);
});
