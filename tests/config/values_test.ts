import assert from "node:assert/strict";
import {
  BadValue,
  boolean,
  bytesize,
  decimal,
  host,
  informationUnit,
  integer,
  ipAddress,
  listenerAddress,
  logLevel,
  port,
} from "../../src/config/values.ts";

function bad(fn: () => unknown, reason: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadValue);
    assert.equal(err.message, reason);
    return true;
  });
}

Deno.test("values: integers and ports", () => {
  assert.equal(integer("42"), 42);
  assert.equal(integer("-1"), -1);
  bad(() => integer("abc"), "is not an integer");
  bad(() => integer("1.5"), "is not an integer");
  bad(() => integer(" 1"), "is not an integer");
  assert.equal(port("0"), 0);
  assert.equal(port("65535"), 65535);
  bad(() => port("65536"), "is not a port number (0-65535)");
  bad(() => port("-1"), "is not a port number (0-65535)");
  bad(() => port("http"), "is not a port number (0-65535)");
});

Deno.test("values: booleans are exactly true or false", () => {
  assert.equal(boolean("true"), true);
  assert.equal(boolean("false"), false);
  for (const v of ["True", "yes", "on", "1", ""]) {
    bad(() => boolean(v), "is not a boolean (true or false)");
  }
});

Deno.test("values: decimals", () => {
  assert.equal(decimal("0.4", 0, 1), 0.4);
  assert.equal(decimal("1", 0, 1), 1);
  assert.equal(decimal(".5", 0, 1), 0.5);
  bad(() => decimal("1.5", 0, 1), "is out of range (0-1)");
  bad(() => decimal("-0.1", 0, 1), "is not a number (e.g. 0.4)");
  bad(() => decimal("40%", 0, 1), "is not a number (e.g. 0.4)");
});

Deno.test("values: information units as RabbitMQ 3.13+ reads them", () => {
  const cases: [string, number][] = [
    ["1000", 1000],
    ["0MB", 0],
    ["10k", 10_000],
    ["10K", 10_000],
    ["10kB", 10_000],
    ["10KB", 10_000],
    ["10Ki", 10_240],
    ["10KiB", 10_240],
    ["10kib", 10_240],
    ["512MiB", 512 * 2 ** 20],
    ["1024MB", 1_024_000_000],
    ["10M", 10_000_000],
    ["1GB", 1e9],
    ["1GiB", 2 ** 30],
    ["2gi", 2 * 2 ** 30],
    ["2TB", 2e12],
    ["2TiB", 2 * 2 ** 40],
    ["1PB", 1e15],
    ["1PiB", 2 ** 50],
  ];
  for (const [raw, n] of cases) assert.equal(informationUnit(raw), n, raw);
  const reason = "is not a byte size (e.g. 500MB, 500MiB, 10GB, 10GiB, 2TB or 1000000000)";
  for (const raw of ["10 k", "1.5GB", "10XB", "GB", "-1", "10bytes", ""]) {
    bad(() => informationUnit(raw), reason);
  }
});

Deno.test("values: cuttlefish bytesize (frame_max)", () => {
  assert.equal(bytesize("131072"), 131072);
  assert.equal(bytesize("128KB"), 131072);
  assert.equal(bytesize("1mb"), 1048576);
  bad(() => bytesize("abc"), "is not an integer (optionally with KB, MB or GB)");
  bad(() => bytesize("128KiB"), "is not an integer (optionally with KB, MB or GB)");
});

Deno.test("values: listener addresses", () => {
  const l = (raw: string) => listenerAddress(raw, "0.0.0.0");
  assert.deepEqual(l("5672"), { hostname: "0.0.0.0", port: 5672 });
  assert.deepEqual(l("127.0.0.1:5673"), { hostname: "127.0.0.1", port: 5673 });
  assert.deepEqual(l("[::1]:5672"), { hostname: "::1", port: 5672 });
  assert.deepEqual(l("::1:5672"), { hostname: "::1", port: 5672 });
  assert.deepEqual(l(":::5672"), { hostname: "::", port: 5672 });
  assert.deepEqual(l("[::]:0"), { hostname: "::", port: 0 });
  assert.deepEqual(l("fe80::2acf:e9ff:fe17:f97b:5672"), {
    hostname: "fe80::2acf:e9ff:fe17:f97b",
    port: 5672,
  });
  const reason = "is not a listener address (PORT, IP:PORT or [IPv6]:PORT)";
  const badOnes = [
    "localhost:5672",
    "127.0.0.1",
    "127.0.0.1:",
    "127.0.0.1:99999",
    "256.0.0.1:5672",
    "[127.0.0.1]:5672",
    "[::1]",
    ":5672",
    "abc",
  ];
  for (const raw of badOnes) bad(() => l(raw), reason);
  bad(() => l("99999"), "is not a port number (0-65535)");
});

Deno.test("values: IP addresses and host names", () => {
  assert.equal(ipAddress("127.0.0.1"), "127.0.0.1");
  assert.equal(ipAddress("::"), "::");
  assert.equal(ipAddress("[::1]"), "::1");
  bad(() => ipAddress("localhost"), "is not an IP address");
  bad(() => ipAddress("1.2.3"), "is not an IP address");
  assert.equal(host("localhost"), "localhost");
  assert.equal(host("broker-1.example.com"), "broker-1.example.com");
  assert.equal(host("[::1]"), "::1");
  assert.equal(host("::"), "::");
  bad(() => host(""), "is not an IP address or host name");
  bad(() => host("bad host"), "is not an IP address or host name");
  bad(() => host("-x"), "is not an IP address or host name");
});

Deno.test("values: log levels, RabbitMQ's names mapped onto ours", () => {
  const cases: [string, string][] = [
    ["debug", "debug"],
    ["info", "info"],
    ["notice", "info"],
    ["warning", "warn"],
    ["warn", "warn"],
    ["error", "error"],
    ["critical", "error"],
    ["alert", "error"],
    ["emergency", "error"],
    ["none", "none"],
  ];
  for (const [raw, level] of cases) assert.equal(logLevel(raw), level);
  assert.throws(() => logLevel("verbose"), BadValue);
  assert.throws(() => logLevel("INFO"), BadValue);
});
