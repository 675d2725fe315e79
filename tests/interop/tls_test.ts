/**
 * TLS: AMQPS listeners (listeners.ssl.NAME with ssl_options.*) and management HTTPS
 * (management.ssl.*), with real clients: amqplib (node:tls), Debian's pika (Python's ssl) and
 * Deno's fetch. A throwaway CA, a server certificate for localhost/127.0.0.1, a client
 * certificate, and a second CA with a client certificate the broker must not trust are made with
 * `openssl` once per run in a temp dir.
 *
 * Covered: round trips over AMQPS; a client that does not trust the CA fails; a plain AMQP client
 * on the TLS port fails and the broker goes on; bad TLS files refuse the start naming the key and
 * the file (in-process and through `broker serve`); verify_peer with and without
 * fail_if_no_peer_cert; the management API over HTTPS, beside HTTP or alone.
 *
 * These tests need our broker in-process (its TLS listeners), so they do not run against
 * TEST_AMQP_URL.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";
import type { AmqpConnection } from "../helpers/amqp_client.ts";
import { uniqueName, within } from "../helpers/amqp_client.ts";
import { startBroker } from "../helpers/broker.ts";
import type { TestBroker } from "../helpers/broker.ts";
import { ChildBroker } from "../helpers/child_broker.ts";
import { pythonSkipReason, runPython } from "../helpers/python.ts";
import { rawRoundTrip } from "../helpers/raw_amqp.ts";
import { TlsConfigError } from "../../src/server/tls.ts";
import type { ServerOptions } from "../../src/server/server.ts";

const EXTERNAL = Deno.env.get("TEST_AMQP_URL") !== undefined;
const OPENSSL_SKIP = opensslSkipReason();
const PIKA_SKIP = pythonSkipReason("pika");
if (OPENSSL_SKIP) console.warn(`TLS tests skipped: ${OPENSSL_SKIP}`);
if (PIKA_SKIP && !OPENSSL_SKIP) console.warn(`pika TLS tests skipped: ${PIKA_SKIP}`);

function tlsTest(name: string, fn: () => Promise<void>, needsPika = false): void {
  Deno.test({
    name: `tls: ${name}`,
    ignore: EXTERNAL || OPENSSL_SKIP !== null || (needsPika && PIKA_SKIP !== null),
    fn,
  });
}

function opensslSkipReason(): string | null {
  try {
    const out = new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync();
    return out.success ? null : "`openssl version` failed";
  } catch {
    return "openssl not found (apt-get install openssl)";
  }
}

// ---- a throwaway PKI

interface Pki {
  dir: string;
  caFile: string;
  caPem: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA, which the broker must refuse. */
  strangerCert: string;
  strangerKey: string;
}

let pkiPromise: Promise<Pki> | undefined;

/** The test PKI, made on first use and removed when the test process ends. */
function pki(): Promise<Pki> {
  return pkiPromise ??= makePki();
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

/** Makes NAME.key and NAME.pem, signed by CA (NAME.ext holds the extensions). */
async function makeLeaf(dir: string, name: string, ca: string, ext: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, `basicConstraints=CA:FALSE\n${ext}\n`);
  await openssl(
    dir,
    "req",
    ...EC_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  );
}

async function makePki(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "broker-tls-" });
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  });
  await makeCa(dir, "ca");
  await makeCa(dir, "stranger-ca");
  await makeLeaf(
    dir,
    "server",
    "ca",
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
  );
  await makeLeaf(dir, "client", "ca", "extendedKeyUsage=clientAuth");
  await makeLeaf(dir, "stranger", "stranger-ca", "extendedKeyUsage=clientAuth");
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    caPem: await Deno.readTextFile(`${dir}/ca.pem`),
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
    strangerCert: `${dir}/stranger.pem`,
    strangerKey: `${dir}/stranger.key`,
  };
}

// ---- brokers and clients

/** ssl_options for the test server certificate, plus `more`. */
function sslOptions(p: Pki, more: Record<string, string> = {}): Record<string, string> {
  return { certfile: p.serverCert, keyfile: p.serverKey, cacertfile: p.caFile, ...more };
}

/** A broker with a plain listener and one AMQPS listener, both on free loopback ports. */
function startTlsBroker(
  options: Record<string, string>,
  more: Partial<ServerOptions> = {},
): Promise<TestBroker> {
  return startBroker({
    ssl: { listeners: [{ hostname: "127.0.0.1", port: 0 }], options },
    logLevel: "error",
    ...more,
  });
}

function tlsPort(broker: TestBroker): number {
  const [address] = broker.server.tlsListenerAddresses();
  return Number(address.slice(address.lastIndexOf(":") + 1));
}

interface ClientTls {
  ca?: string[];
  cert?: string;
  key?: string;
}

/**
 * Connects amqplib over AMQPS; `tls` are node:tls options (ca, client cert and key). The server
 * name is localhost, as node:tls refuses an IP address for SNI.
 */
async function connectTls(broker: TestBroker, tls: ClientTls): Promise<AmqpConnection> {
  const conn: AmqpConnection = await within(
    amqp.connect(`amqps://guest:guest@127.0.0.1:${tlsPort(broker)}/`, {
      servername: "localhost",
      ...tls,
    }),
    10_000,
    "amqps connect",
  );
  conn.on("error", () => {});
  return conn;
}

/** What connecting over AMQPS with `tls` fails with (throws when it succeeds). */
async function tlsRefusal(broker: TestBroker, tls: ClientTls): Promise<string> {
  let conn: AmqpConnection | undefined;
  try {
    conn = await connectTls(broker, tls);
  } catch (err) {
    return String((err as Error).message ?? err);
  }
  await conn.close().catch(() => {});
  throw new Error("the AMQPS connection was accepted");
}

/** Publishes one message to a fresh queue and consumes it back. */
async function roundTrip(conn: AmqpConnection, body = "over tls"): Promise<string> {
  const ch = await conn.createChannel();
  const q = uniqueName("tls");
  await ch.assertQueue(q, { autoDelete: true });
  ch.sendToQueue(q, Buffer.from(body));
  const got = await within(
    new Promise<string>((resolve) => {
      ch.consume(q, (m) => {
        if (m) resolve(new TextDecoder().decode(m.content));
      }, { noAck: true });
    }),
    5000,
    "delivery over TLS",
  );
  await ch.close();
  return got;
}

/**
 * Pushes `count` confirmed messages of `size` bytes through a fresh queue and back, checking
 * every byte: TLS records split and join frames differently than TCP segments do.
 */
async function bulkRoundTrip(conn: AmqpConnection, count: number, size: number): Promise<void> {
  const ch = await conn.createConfirmChannel();
  const q = uniqueName("tls-bulk");
  await ch.assertQueue(q, { autoDelete: true });
  const body = (i: number) => Buffer.alloc(size, i % 251);
  for (let i = 0; i < count; i++) ch.sendToQueue(q, body(i), { messageId: String(i) });
  await within(ch.waitForConfirms(), 20_000, "confirms over TLS");
  let next = 0;
  await within(
    new Promise<void>((resolve, reject) => {
      ch.consume(q, (m) => {
        if (!m) return;
        const i = Number(m.properties.messageId);
        if (i !== next++ || !body(i).equals(m.content)) reject(new Error(`message ${i} differs`));
        if (next === count) resolve();
      }, { noAck: true });
    }),
    20_000,
    `${count} deliveries of ${size} bytes over TLS`,
  );
  await ch.close();
}

const read = (path: string) => Deno.readTextFileSync(path);

async function pikaRoundTrip(
  port: number,
  cafile: string,
  clientCert: string[] = [],
): Promise<{ code: number; event: Record<string, string> }> {
  const script = fileURLToPath(new URL("./py/tls_roundtrip.py", import.meta.url));
  const r = await runPython(script, [String(port), cafile, uniqueName("pika-tls"), ...clientCert]);
  const last = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return { code: r.code, event: JSON.parse(last) };
  } catch {
    throw new Error(`tls_roundtrip.py said ${JSON.stringify(r.stdout)}:\n${r.stderr}`);
  }
}

// ---- AMQPS without client certificates (verify_none)

tlsTest("amqplib round trip over AMQPS; the connection shows ssl: true", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  const conns: AmqpConnection[] = [];
  try {
    const tls = await connectTls(broker, { ca: [p.caPem] });
    conns.push(tls);
    assert.equal(await roundTrip(tls), "over tls");
    await bulkRoundTrip(tls, 200, 40_000);
    await bulkRoundTrip(tls, 2, 3_000_000);
    const plain: AmqpConnection = await amqp.connect(broker.url);
    conns.push(plain);
    assert.equal(await roundTrip(plain, "in clear"), "in clear");

    const details = broker.server.service.connectionDetails();
    const port = (d: Record<string, unknown>) => d.port;
    const byPort = new Map(details.map((d) => [port(d), d]));
    assert.equal(byPort.get(tlsPort(broker))?.ssl, true);
    assert.equal(byPort.get(broker.port)?.ssl, false);
    for (const d of details) {
      assert.equal(d.protocol, "AMQP 0-9-1"); // as RabbitMQ's, TLS or not
      assert.equal(d.ssl_protocol, null);
    }
  } finally {
    for (const c of conns) await c.close().catch(() => {});
    await broker.close();
  }
});

tlsTest("pika round trip over AMQPS with an SSLContext trusting the CA", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  try {
    const ok = await pikaRoundTrip(tlsPort(broker), p.caFile);
    assert.equal(ok.code, 0, JSON.stringify(ok.event));
    assert.deepEqual([ok.event.event, ok.event.body], ["received", "over tls"]);
  } finally {
    await broker.close();
  }
}, true);

tlsTest("pika refuses a server certificate from a CA it does not trust", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  try {
    const refused = await pikaRoundTrip(tlsPort(broker), "-");
    assert.equal(refused.code, 1);
    assert.equal(refused.event.event, "failed");
    assert.match(refused.event.error, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
  } finally {
    await broker.close();
  }
}, true);

tlsTest("amqplib without the CA refuses the server certificate", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  try {
    assert.match(await tlsRefusal(broker, {}), /certificate|issuer/i);
    // The broker is unharmed.
    const ok = await connectTls(broker, { ca: [p.caPem] });
    assert.equal(await roundTrip(ok), "over tls");
    await ok.close();
  } finally {
    await broker.close();
  }
});

tlsTest("a plain AMQP client on the TLS port fails at once; the broker goes on", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  try {
    // amqplib speaking plain AMQP to the TLS port: refused, not left hanging.
    await assert.rejects(
      within(amqp.connect(`amqp://guest:guest@127.0.0.1:${tlsPort(broker)}/`), 5000, "connect"),
      (err: Error) => !/timed out/.test(err.message),
    );
    // A raw protocol header: the socket closes without an AMQP connection.start.
    const sock = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort(broker) });
    await sock.write(new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
    const buf = new Uint8Array(4096);
    let got = "";
    for (;;) {
      const n = await within(sock.read(buf).catch(() => null), 5000, "the TLS port to close");
      if (n === null) break;
      got += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    sock.close();
    assert.doesNotMatch(got, /capabilities|PLAIN/);
    assert.equal(broker.server.connections.size, 0);

    await rawRoundTrip(broker.port);
    const ok = await connectTls(broker, { ca: [p.caPem] });
    assert.equal(await roundTrip(ok), "over tls");
    await ok.close();
  } finally {
    await broker.close();
  }
});

tlsTest("a client that never starts the TLS handshake is dropped after 5 s", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p));
  const sock = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort(broker) });
  try {
    // RabbitMQ's ssl_handshake_timeout; the AMQP handshake timeout starts after it.
    const started = Date.now();
    const n = await within(sock.read(new Uint8Array(64)).catch(() => null), 10_000, "a drop");
    assert.equal(n, null);
    assert.ok(Date.now() - started >= 4000, `dropped after ${Date.now() - started} ms`);
    assert.equal(broker.server.connections.size, 0);
  } finally {
    sock.close();
    await broker.close();
  }
});

// ---- bad TLS settings refuse the start

tlsTest("bad TLS files refuse the start, naming the key and the file", async () => {
  const p = await pki();
  const garbage = `${p.dir}/garbage.pem`;
  await Deno.writeTextFile(garbage, "not a certificate\n");
  const refuses = async (options: Record<string, string>, message: string | RegExp) => {
    await assert.rejects(startTlsBroker(options), (err: Error) => {
      assert.ok(err instanceof TlsConfigError, String(err));
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    });
  };
  const missing = `${p.dir}/missing.pem`;
  await refuses(
    sslOptions(p, { certfile: missing }),
    new RegExp(`^ssl_options\\.certfile: cannot read '${missing}': `),
  );
  await refuses(
    sslOptions(p, { certfile: garbage }),
    `ssl_options.certfile: '${garbage}' holds no PEM certificate (BEGIN CERTIFICATE)`,
  );
  await refuses(
    sslOptions(p, { keyfile: garbage }),
    `ssl_options.keyfile: '${garbage}' holds no readable PEM private key ` +
      `(password-protected keys are not supported)`,
  );
  await refuses(
    sslOptions(p, { keyfile: p.clientKey }),
    `ssl_options.keyfile: '${p.clientKey}' is not the private key of the certificate in ` +
      `ssl_options.certfile '${p.serverCert}'`,
  );
  await refuses(
    sslOptions(p, { cacertfile: garbage }),
    `ssl_options.cacertfile: '${garbage}' holds no PEM certificate (BEGIN CERTIFICATE)`,
  );
  await refuses(
    { keyfile: p.serverKey },
    "ssl_options.certfile is not set: a TLS listener needs a certificate (PEM file)",
  );
  await refuses(
    sslOptions(p, { fail_if_no_peer_cert: "true" }),
    "ssl_options.fail_if_no_peer_cert = true needs ssl_options.verify = verify_peer " +
      "(with verify_none client certificates are not asked for)",
  );
  await refuses(
    { certfile: p.serverCert, keyfile: p.serverKey, verify: "verify_peer" },
    "ssl_options.verify = verify_peer needs ssl_options.cacertfile " +
      "(the CA certificates that client certificates are checked against)",
  );
});

/** Runs `broker serve --config` on `lines` (plus a data dir) in a temp dir, as a child process. */
async function serveWithConfig(
  lines: string[],
  fn: (child: ChildBroker, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "broker-tls-serve-" });
  let child: ChildBroker | undefined;
  try {
    const conf = `${dir}/rabbitmq.conf`;
    const base = ["management.enabled = false", "prometheus.enabled = false"];
    await Deno.writeTextFile(conf, [...base, ...lines].join("\n") + "\n");
    const main = fileURLToPath(new URL("../../main.ts", import.meta.url));
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", main, "serve", "--config", conf, "--data-dir", `${dir}/data`],
      env: { BROKER_CONFIG_FILE: "", RABBITMQ_CONFIG_FILE: "", RABBITMQ_NODE_PORT: "" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    child = new ChildBroker(process, 0, `${dir}/data`);
    await fn(child, dir);
  } finally {
    await child?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

tlsTest("broker serve: a bad certificate file refuses the start with exit 1", async () => {
  const p = await pki();
  const garbage = `${p.dir}/garbage-serve.pem`;
  await Deno.writeTextFile(garbage, "not a certificate\n");
  await serveWithConfig([
    "listeners.tcp.default = 127.0.0.1:0",
    "listeners.ssl.default = 127.0.0.1:0",
    `ssl_options.certfile = ${garbage}`,
    `ssl_options.keyfile = ${p.serverKey}`,
  ], async (child) => {
    const status = await child.waitExit(20_000);
    assert.equal(status.code, 1, child.output);
    assert.match(child.output, /cannot start the broker/);
    assert.ok(
      child.output.includes(`ssl_options.certfile: '${garbage}' holds no PEM certificate`),
      child.output,
    );
  });
});

tlsTest("broker serve: AMQPS from rabbitmq.conf; unused ssl_options named once", async () => {
  const p = await pki();
  await serveWithConfig([
    "listeners.tcp.default = 127.0.0.1:0",
    "listeners.ssl.default = 127.0.0.1:0",
    `ssl_options.certfile = ${p.serverCert}`,
    `ssl_options.keyfile = ${p.serverKey}`,
    `ssl_options.cacertfile = ${p.caFile}`,
    "ssl_options.versions.1 = tlsv1.2",
    "ssl_options.depth = 2",
  ], async (child) => {
    const [, port] = await child.waitForLog(
      /AMQPS \(TLS\) listener started address=\S+:(\d+)/,
      20_000,
    );
    assert.match(child.output, /ssl_options keys not used by broker keys="depth, versions\.1"/);
    assert.equal(child.output.match(/ssl_options keys not used/g)?.length, 1);
    const conn: AmqpConnection = await within(
      amqp.connect(`amqps://guest:guest@127.0.0.1:${port}/`, {
        servername: "localhost",
        ca: [p.caPem],
      }),
      10_000,
      "amqps connect",
    );
    try {
      assert.equal(await roundTrip(conn), "over tls");
    } finally {
      await conn.close();
    }
  });
});

// ---- client certificates (verify_peer, on node:tls)

tlsTest("verify_peer + fail_if_no_peer_cert: only clients with a trusted certificate", async () => {
  const p = await pki();
  const broker = await startTlsBroker(
    sslOptions(p, { verify: "verify_peer", fail_if_no_peer_cert: "true" }),
  );
  try {
    const trusted = await connectTls(broker, {
      ca: [p.caPem],
      cert: read(p.clientCert),
      key: read(p.clientKey),
    });
    assert.equal(await roundTrip(trusted), "over tls");
    await bulkRoundTrip(trusted, 200, 40_000);
    await bulkRoundTrip(trusted, 2, 3_000_000);
    assert.equal(broker.server.service.connectionDetails()[0].ssl, true);
    await trusted.close();

    await tlsRefusal(broker, { ca: [p.caPem] });
    await tlsRefusal(broker, {
      ca: [p.caPem],
      cert: read(p.strangerCert),
      key: read(p.strangerKey),
    });
    // Refused clients leave nothing behind, and the listener goes on.
    assert.equal(broker.server.connections.size, 0);
    const again = await connectTls(broker, {
      ca: [p.caPem],
      cert: read(p.clientCert),
      key: read(p.clientKey),
    });
    assert.equal(await roundTrip(again, "again"), "again");
    await again.close();
  } finally {
    await broker.close();
  }
});

tlsTest(
  "verify_peer without fail_if_no_peer_cert: no certificate is fine, a bad one not",
  async () => {
    const p = await pki();
    const broker = await startTlsBroker(sslOptions(p, { verify: "verify_peer" }));
    try {
      const anonymous = await connectTls(broker, { ca: [p.caPem] });
      assert.equal(await roundTrip(anonymous), "over tls");
      await anonymous.close();
      await tlsRefusal(broker, {
        ca: [p.caPem],
        cert: read(p.strangerCert),
        key: read(p.strangerKey),
      });
      const trusted = await connectTls(broker, {
        ca: [p.caPem],
        cert: read(p.clientCert),
        key: read(p.clientKey),
      });
      assert.equal(await roundTrip(trusted), "over tls");
      await trusted.close();
    } finally {
      await broker.close();
    }
  },
);

tlsTest("pika with a client certificate, verify_peer + fail_if_no_peer_cert", async () => {
  const p = await pki();
  const broker = await startTlsBroker(
    sslOptions(p, { verify: "verify_peer", fail_if_no_peer_cert: "true" }),
  );
  try {
    const ok = await pikaRoundTrip(tlsPort(broker), p.caFile, [p.clientCert, p.clientKey]);
    assert.equal(ok.code, 0, JSON.stringify(ok.event));
    assert.equal(ok.event.body, "over tls");
    const refused = await pikaRoundTrip(tlsPort(broker), p.caFile);
    assert.equal(refused.code, 1);
    assert.equal(refused.event.event, "failed");
  } finally {
    await broker.close();
  }
}, true);

// ---- management over HTTPS

function basicAuth(): HeadersInit {
  return { authorization: `Basic ${btoa("guest:guest")}` };
}

tlsTest("management HTTPS beside HTTP: /api/overview and /api/connections", async () => {
  const p = await pki();
  const broker = await startTlsBroker(sslOptions(p), {
    management: {
      enabled: true,
      port: 0,
      ip: "127.0.0.1",
      ssl: { port: 0, ip: "127.0.0.1", certfile: p.serverCert, keyfile: p.serverKey },
    },
  });
  const client = Deno.createHttpClient({ caCerts: [p.caPem] });
  let conn: AmqpConnection | undefined;
  try {
    const admin = broker.server.admin!;
    assert.ok(admin.port > 0 && admin.tlsPort > 0 && admin.port !== admin.tlsPort);
    const https = `https://127.0.0.1:${admin.tlsPort}`;
    const res = await fetch(`${https}/api/overview`, { client, headers: basicAuth() });
    assert.equal(res.status, 200);
    const overview = await res.json();
    const amqps = overview.listeners.find((l: { protocol: string }) => l.protocol === "amqp/ssl");
    assert.equal(amqps?.port, tlsPort(broker));

    const plain = await fetch(`http://127.0.0.1:${admin.port}/api/overview`, {
      headers: basicAuth(),
    });
    assert.equal(plain.status, 200);
    await plain.body?.cancel();

    conn = await connectTls(broker, { ca: [p.caPem] });
    const list = await fetch(`${https}/api/connections`, { client, headers: basicAuth() });
    const rows = await list.json();
    assert.deepEqual(rows.map((r: { ssl: boolean }) => r.ssl), [true]);

    // Without the CA, Deno's fetch refuses the certificate.
    await assert.rejects(fetch(`${https}/api/overview`, { headers: basicAuth() }), TypeError);
  } finally {
    await conn?.close().catch(() => {});
    client.close();
    await broker.close();
  }
});

tlsTest("management HTTPS alone when only management.ssl.* is configured", async () => {
  const p = await pki();
  const broker = await startBroker({
    logLevel: "error",
    management: {
      enabled: true,
      port: 0,
      ip: "127.0.0.1",
      tcp: false,
      ssl: { port: 0, ip: "127.0.0.1", certfile: p.serverCert, keyfile: p.serverKey },
    },
  });
  const client = Deno.createHttpClient({ caCerts: [p.caPem] });
  try {
    const admin = broker.server.admin!;
    assert.equal(admin.port, -1);
    const res = await fetch(`https://127.0.0.1:${admin.tlsPort}/api/whoami`, {
      client,
      headers: basicAuth(),
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).name, "guest");
  } finally {
    client.close();
    await broker.close();
  }
});

tlsTest("management.ssl with a bad key refuses the start, naming the key", async () => {
  const p = await pki();
  await assert.rejects(
    startBroker({
      logLevel: "error",
      management: {
        enabled: true,
        port: 0,
        ip: "127.0.0.1",
        ssl: { port: 0, ip: "127.0.0.1", certfile: p.serverCert, keyfile: p.clientKey },
      },
    }),
    new TlsConfigError(
      `management.ssl.keyfile: '${p.clientKey}' is not the private key of the certificate in ` +
        `management.ssl.certfile '${p.serverCert}'`,
    ),
  );
});
