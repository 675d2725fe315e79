/**
 * The TLS keys: management.ssl.* (the management HTTPS listener, and which listeners run when
 * management.tcp.* is set or not, as rabbitmq_management decides), and listeners.ssl.* /
 * ssl_options.* reaching the server options.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { CONFIG_HELP } from "../../src/config/load.ts";
import { optionsFromConfig } from "../../src/server/server.ts";
import { loadFails, loadText, withDir } from "./helpers.ts";

const PEM_FILES = { "cert.pem": "cert", "key.pem": "key", "ca.pem": "ca" };

Deno.test("tls keys: management.ssl.* alone gives an HTTPS listener and no HTTP one", async () => {
  await withDir(PEM_FILES, async (dir) => {
    const { config, warnings } = await loadText(
      [
        "management.ssl.port = 15671",
        "management.ssl.ip = 127.0.0.1",
        `management.ssl.certfile = ${dir}/cert.pem`,
        `management.ssl.keyfile = ${dir}/key.pem`,
        `management.ssl.cacertfile = ${dir}/ca.pem`,
      ].join("\n"),
    );
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.management, {
      enabled: true,
      port: 15672,
      ip: "0.0.0.0",
      tcp: false,
      ssl: {
        port: 15671,
        ip: "127.0.0.1",
        certfile: `${dir}/cert.pem`,
        keyfile: `${dir}/key.pem`,
        cacertfile: `${dir}/ca.pem`,
      },
    });
  });
});

Deno.test("tls keys: any management.ssl.* key starts HTTPS on 15671, all interfaces", async () => {
  await withDir(PEM_FILES, async (dir) => {
    const { config } = await loadText(`management.ssl.certfile = ${dir}/cert.pem`);
    assert.deepEqual(config.management.ssl, {
      port: 15671,
      ip: "0.0.0.0",
      certfile: `${dir}/cert.pem`,
    });
  });
});

Deno.test("tls keys: with management.tcp.* or management.listener.* too, both run", async () => {
  for (const plain of ["management.tcp.port = 15680", "management.tcp.ip = 127.0.0.1"]) {
    const { config } = await loadText(`management.ssl.port = 15681\n${plain}`);
    assert.equal(config.management.tcp, undefined, plain);
    assert.equal(config.management.ssl?.port, 15681);
  }
  const legacy = await loadText("management.ssl.port = 15681\nmanagement.listener.port = 15000");
  assert.equal(legacy.config.management.tcp, undefined);
  assert.equal(legacy.config.management.port, 15000);
  // No management.ssl.*: the HTTP listener only, as before.
  const none = await loadText("management.tcp.port = 15680");
  assert.deepEqual(none.config.management, { enabled: true, port: 15680, ip: "0.0.0.0" });
});

Deno.test("tls keys: --admin-port / --admin-bind bring the HTTP listener back", async () => {
  await withDir({ "rabbitmq.conf": "management.ssl.port = 15681\n" }, (dir) => {
    const load = (flags: Record<string, string>) =>
      loadConfig({ flags: { config: `${dir}/rabbitmq.conf`, ...flags }, env: {} }).config;
    assert.equal(load({}).management.tcp, false);
    assert.equal(load({ adminPort: "15700" }).management.tcp, undefined);
    assert.equal(load({ adminBind: "127.0.0.1" }).management.tcp, undefined);
    assert.equal(load({ adminPort: "15700" }).management.ssl?.port, 15681);
  });
});

Deno.test("tls keys: bad management.ssl.* values name file, line and key", async () => {
  await loadFails(
    "management.ssl.port = 99999",
    "FILE:1: management.ssl.port: '99999' is not a port number (0-65535)",
  );
  await loadFails(
    "management.ssl.ip = localhost",
    "FILE:1: management.ssl.ip: 'localhost' is not an IP address",
  );
  for (const name of ["certfile", "keyfile", "cacertfile"]) {
    await loadFails(
      `management.ssl.port = 15671\nmanagement.ssl.${name} = /nonexistent/${name}.pem`,
      `FILE:2: management.ssl.${name}: '/nonexistent/${name}.pem' file does not exist or ` +
        `cannot be read`,
    );
  }
});

Deno.test("tls keys: other management.ssl.* keys are accepted with a warning", async () => {
  const { config, warnings, file } = await loadText(
    "management.ssl.port = 15671\nmanagement.ssl.versions.1 = tlsv1.3",
  );
  assert.equal(config.management.ssl?.port, 15671);
  assert.deepEqual(warnings, [
    `${file}:2: management.ssl.versions.1: accepted but not used by broker`,
  ]);
});

Deno.test("tls keys: listeners.ssl and ssl_options reach the server options", async () => {
  await withDir(PEM_FILES, async (dir) => {
    const { config } = await loadText(
      [
        "listeners.ssl.default = 127.0.0.1:5671",
        `ssl_options.certfile = ${dir}/cert.pem`,
        `ssl_options.keyfile = ${dir}/key.pem`,
        "ssl_options.verify = verify_peer",
        `management.ssl.certfile = ${dir}/cert.pem`,
      ].join("\n"),
    );
    const options = optionsFromConfig(config);
    assert.deepEqual(options.ssl, {
      listeners: [{ hostname: "127.0.0.1", port: 5671 }],
      options: {
        certfile: `${dir}/cert.pem`,
        keyfile: `${dir}/key.pem`,
        verify: "verify_peer",
      },
    });
    assert.deepEqual(options.management.ssl, {
      port: 15671,
      ip: "0.0.0.0",
      certfile: `${dir}/cert.pem`,
    });
    assert.equal(options.management.tcp, false);
  });
});

Deno.test("tls keys: serve --help lists the management.ssl keys", () => {
  for (const key of ["port", "ip", "certfile", "keyfile", "cacertfile"]) {
    assert.match(CONFIG_HELP, new RegExp(`^  management\\.ssl\\.${key} = `, "m"));
  }
});
