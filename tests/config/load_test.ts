/** Finding the config file, the environment, the flags, and their precedence. */
import assert from "node:assert/strict";
import { CONFIG_HELP, loadConfig } from "../../src/config/load.ts";
import { KEYS } from "../../src/config/keys.ts";
import { DEFAULT_CONFIG } from "../../src/config/types.ts";
import { loadText, sourcesFail, withDir } from "./helpers.ts";

Deno.test("load: no file named means defaults only", () => {
  const loaded = loadConfig({ flags: {}, env: {} });
  assert.deepEqual(loaded, { config: DEFAULT_CONFIG, warnings: [] });
  // The result is a copy: changing it does not touch the defaults.
  loaded.config.listeners.push({ hostname: "x", port: 1 });
  assert.equal(DEFAULT_CONFIG.listeners.length, 1);
});

Deno.test("load: the file comes from --config, BROKER_CONFIG_FILE, RABBITMQ_CONFIG_FILE", async () => {
  await withDir(
    { "a.conf": "heartbeat = 1", "b.conf": "heartbeat = 2", "c.conf": "heartbeat = 3" },
    (
      dir,
    ) => {
      const env = { BROKER_CONFIG_FILE: `${dir}/b.conf`, RABBITMQ_CONFIG_FILE: `${dir}/c.conf` };
      const viaFlag = loadConfig({ flags: { config: `${dir}/a.conf` }, env });
      assert.equal(viaFlag.config.heartbeat, 1);
      assert.equal(viaFlag.configFile, `${dir}/a.conf`);
      assert.equal(loadConfig({ flags: {}, env }).config.heartbeat, 2);
      assert.equal(
        loadConfig({ flags: {}, env: { RABBITMQ_CONFIG_FILE: `${dir}/c.conf` } }).config.heartbeat,
        3,
      );
      // Empty variables count as unset, as in RabbitMQ's scripts.
      const emptyBroker = { BROKER_CONFIG_FILE: "", RABBITMQ_CONFIG_FILE: `${dir}/c.conf` };
      assert.equal(loadConfig({ flags: {}, env: emptyBroker }).config.heartbeat, 3);
    },
  );
});

Deno.test("load: RABBITMQ_CONFIG_FILE without the .conf extension", async () => {
  await withDir({ "rabbitmq.conf": "heartbeat = 7" }, (dir) => {
    const loaded = loadConfig({ flags: {}, env: { RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq` } });
    assert.equal(loaded.config.heartbeat, 7);
    assert.equal(loaded.configFile, `${dir}/rabbitmq.conf`);
    // The same for --config.
    assert.equal(loadConfig({ flags: { config: `${dir}/rabbitmq` }, env: {} }).config.heartbeat, 7);
  });
});

Deno.test("load: a file without extension that exists is read as is", async () => {
  await withDir({ "broker": "heartbeat = 8", "broker.conf": "heartbeat = 9" }, (dir) => {
    const loaded = loadConfig({ flags: { config: `${dir}/broker` }, env: {} });
    assert.equal(loaded.config.heartbeat, 8);
    assert.equal(loaded.configFile, `${dir}/broker`);
  });
});

Deno.test("load: a named config file that does not exist is an error", async () => {
  await withDir({}, (dir) => {
    sourcesFail(
      { flags: { config: `${dir}/missing.conf` }, env: {} },
      `--config: config file '${dir}/missing.conf' does not exist`,
    );
    sourcesFail(
      { flags: {}, env: { RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq` } },
      `RABBITMQ_CONFIG_FILE: config file '${dir}/rabbitmq' or '${dir}/rabbitmq.conf' does not exist`,
    );
    sourcesFail(
      { flags: {}, env: { BROKER_CONFIG_FILE: `${dir}/nope.conf` } },
      `BROKER_CONFIG_FILE: config file '${dir}/nope.conf' does not exist`,
    );
    sourcesFail(
      { flags: { config: dir }, env: {} },
      `--config: '${dir}' is a directory, not a config file`,
    );
    sourcesFail({ flags: { config: "" }, env: {} }, "--config: the file name is empty");
  });
});

Deno.test("load: Erlang-terms rabbitmq.config files are refused clearly", async () => {
  await withDir({ "rabbitmq.config": "[{rabbit, []}]." }, (dir) => {
    const msg = `RABBITMQ_CONFIG_FILE: '${dir}/rabbitmq.config' is an Erlang-terms (.config) ` +
      `file; broker reads only the rabbitmq.conf (key = value) format`;
    sourcesFail({ flags: {}, env: { RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq` } }, msg);
    sourcesFail({ flags: {}, env: { RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq.config` } }, msg);
  });
});

Deno.test("load: RABBITMQ_NODE_PORT and RABBITMQ_NODE_IP_ADDRESS make one AMQP listener", () => {
  const env = (e: Record<string, string>) => loadConfig({ flags: {}, env: e }).config.listeners;
  assert.deepEqual(env({ RABBITMQ_NODE_PORT: "5673" }), [{ hostname: "0.0.0.0", port: 5673 }]);
  assert.deepEqual(env({ RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1" }), [
    { hostname: "127.0.0.1", port: 5672 },
  ]);
  assert.deepEqual(env({ RABBITMQ_NODE_IP_ADDRESS: "::1", RABBITMQ_NODE_PORT: "6000" }), [
    { hostname: "::1", port: 6000 },
  ]);
  assert.deepEqual(env({ RABBITMQ_NODE_IP_ADDRESS: "[::]" }), [{ hostname: "::", port: 5672 }]);
  assert.deepEqual(env({ RABBITMQ_NODE_IP_ADDRESS: "localhost" }), [
    { hostname: "localhost", port: 5672 },
  ]);
  assert.deepEqual(env({ RABBITMQ_NODE_IP_ADDRESS: "auto" }), [{
    hostname: "0.0.0.0",
    port: 5672,
  }]);
  assert.deepEqual(
    env({ RABBITMQ_NODE_PORT: "", RABBITMQ_NODE_IP_ADDRESS: "" }),
    DEFAULT_CONFIG.listeners,
  );
});

Deno.test("load: bad environment values name the variable", () => {
  sourcesFail(
    { flags: {}, env: { RABBITMQ_NODE_PORT: "amqp" } },
    "RABBITMQ_NODE_PORT: 'amqp' is not a port number (0-65535)",
  );
  sourcesFail(
    { flags: {}, env: { RABBITMQ_NODE_IP_ADDRESS: "no such host!" } },
    "RABBITMQ_NODE_IP_ADDRESS: 'no such host!' is not an IP address or host name",
  );
  sourcesFail(
    { flags: {}, env: { RABBITMQ_LOG: "chatty" } },
    /^RABBITMQ_LOG: 'chatty' is not a log level/,
  );
  sourcesFail(
    { flags: {}, env: { RABBITMQ_LOG: "connection=loud" } },
    /^RABBITMQ_LOG: 'loud' is not a log level/,
  );
});

Deno.test("load: RABBITMQ_LOG and BROKER_DATA_DIR", () => {
  const load = (env: Record<string, string>) => loadConfig({ flags: {}, env });
  assert.equal(load({ RABBITMQ_LOG: "debug" }).config.logLevel, "debug");
  assert.equal(load({ RABBITMQ_LOG: "warning,+color" }).config.logLevel, "warn");
  const categories = load({ RABBITMQ_LOG: "connection=debug,error" });
  assert.equal(categories.config.logLevel, "error");
  assert.deepEqual(categories.warnings, [
    "RABBITMQ_LOG: per-category level 'connection=debug' is not used by broker",
  ]);
  assert.equal(load({ RABBITMQ_LOG: "" }).config.logLevel, "info");
  assert.equal(load({ BROKER_DATA_DIR: "/var/lib/broker" }).config.dataDir, "/var/lib/broker");
  assert.equal(load({ BROKER_DATA_DIR: "" }).config.dataDir, DEFAULT_CONFIG.dataDir);
});

Deno.test("load: flags", () => {
  const { config } = loadConfig({
    flags: {
      port: "0",
      bind: "127.0.0.1",
      adminPort: "15000",
      adminBind: "::1",
      dataDir: "/tmp/x",
      logLevel: "debug",
    },
    env: {},
  });
  assert.deepEqual(config.listeners, [{ hostname: "127.0.0.1", port: 0 }]);
  assert.deepEqual(config.management, { enabled: true, port: 15000, ip: "::1" });
  assert.equal(config.dataDir, "/tmp/x");
  assert.equal(config.logLevel, "debug");
  const only = (flags: Record<string, string>) => loadConfig({ flags, env: {} }).config;
  assert.deepEqual(only({ bind: "::" }).listeners, [{ hostname: "::", port: 5672 }]);
  assert.deepEqual(only({ bind: "[::1]" }).listeners, [{ hostname: "::1", port: 5672 }]);
  assert.deepEqual(only({ port: "5680" }).listeners, [{ hostname: "0.0.0.0", port: 5680 }]);
  assert.equal(only({ logLevel: "warning" }).logLevel, "warn");
});

Deno.test("load: bad flag values name the flag", () => {
  const fails = (flags: Record<string, string>, message: string | RegExp) =>
    sourcesFail({ flags, env: {} }, message);
  fails({ port: "x" }, "--port: 'x' is not a port number (0-65535)");
  fails({ port: "65536" }, "--port: '65536' is not a port number (0-65535)");
  fails({ bind: "" }, "--bind: '' is not an IP address or host name");
  fails({ adminPort: "-5" }, "--admin-port: '-5' is not a port number (0-65535)");
  fails({ adminBind: "a b" }, "--admin-bind: 'a b' is not an IP address or host name");
  fails({ dataDir: "" }, "--data-dir: the directory name is empty");
  fails({ logLevel: "trace" }, /^--log-level: 'trace' is not a log level/);
});

Deno.test("load: precedence flags > environment > file > defaults", async () => {
  const text = [
    "listeners.tcp.default = 127.0.0.1:5001",
    "listeners.tcp.other = 127.0.0.1:5002",
    "log.console.level = error",
    "management.tcp.port = 15001",
    "management.tcp.ip = 127.0.0.1",
    "heartbeat = 11",
  ].join("\n");

  // File over defaults.
  const file = await loadText(text);
  assert.deepEqual(file.config.listeners, [
    { hostname: "127.0.0.1", port: 5001 },
    { hostname: "127.0.0.1", port: 5002 },
  ]);
  assert.equal(file.config.logLevel, "error");
  assert.equal(file.config.heartbeat, 11);
  assert.equal(file.config.frameMax, DEFAULT_CONFIG.frameMax);

  // Environment over the file: one listener, the missing part taken from the file's first one.
  const env = await loadText(text, {
    env: { RABBITMQ_NODE_PORT: "6001", RABBITMQ_LOG: "warning", BROKER_DATA_DIR: "/env" },
  });
  assert.deepEqual(env.config.listeners, [{ hostname: "127.0.0.1", port: 6001 }]);
  assert.equal(env.config.logLevel, "warn");
  assert.equal(env.config.dataDir, "/env");
  assert.equal(env.config.heartbeat, 11);

  // Flags over the environment and the file.
  const flags = await loadText(text, {
    env: { RABBITMQ_NODE_PORT: "6001", RABBITMQ_LOG: "warning", BROKER_DATA_DIR: "/env" },
    flags: { bind: "0.0.0.0", logLevel: "debug", dataDir: "/flag", adminPort: "16000" },
  });
  assert.deepEqual(flags.config.listeners, [{ hostname: "0.0.0.0", port: 6001 }]);
  assert.equal(flags.config.logLevel, "debug");
  assert.equal(flags.config.dataDir, "/flag");
  assert.deepEqual(flags.config.management, { enabled: true, port: 16000, ip: "127.0.0.1" });

  const both = await loadText(text, {
    env: { RABBITMQ_NODE_IP_ADDRESS: "::1" },
    flags: { port: "7001" },
  });
  assert.deepEqual(both.config.listeners, [{ hostname: "::1", port: 7001 }]);

  // Environment and flags override even listeners.tcp = none.
  const none = await loadText("listeners.tcp = none", { env: { RABBITMQ_NODE_PORT: "5690" } });
  assert.deepEqual(none.config.listeners, [{ hostname: "0.0.0.0", port: 5690 }]);
  assert.deepEqual(none.warnings, []);
});

Deno.test("load: --admin-port turns a disabled management server back on", async () => {
  const off = await loadText("management.enabled = false");
  assert.equal(off.config.management.enabled, false);
  const on = await loadText("management.enabled = false", { flags: { adminPort: "15680" } });
  assert.deepEqual(on.config.management, { enabled: true, port: 15680, ip: "0.0.0.0" });
});

Deno.test("load: a realistic rabbitmq.conf starts with warnings, not errors", async () => {
  const sample = `
# ======================================
# RabbitMQ broker section
# ======================================

## Networking
listeners.tcp.default = 5672
# listeners.tcp.local = 127.0.0.1:5672
num_acceptors.tcp = 10
handshake_timeout = 10000
reverse_dns_lookups = false

## Security, access control
loopback_users.guest = false
default_vhost = /
default_user = admin
default_pass = 'S3cr#t'
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
auth_mechanisms.1 = PLAIN
auth_mechanisms.2 = AMQPLAIN

## TLS
listeners.ssl.default = 5671
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2

## Limits
heartbeat = 60
frame_max = 131072
channel_max = 128
max_message_size = 134217728
vm_memory_high_watermark.relative = 0.6
vm_memory_high_watermark_paging_ratio = 0.75
disk_free_limit.absolute = 2GB
collect_statistics_interval = 5000

## Clustering
cluster_formation.peer_discovery_backend = rabbit_peer_discovery_classic_config
cluster_formation.classic_config.nodes.1 = rabbit@hostname1
cluster_partition_handling = ignore

## Logging
log.file.level = info
log.console = true
log.console.level = info
log.file.rotation.date = $D0

## Management plugin
management.tcp.port = 15672
management.tcp.ip   = 0.0.0.0
management.load_definitions = /path/to/definitions.json

## Plugins
mqtt.listeners.tcp.default = 1883
stomp.listeners.tcp.1 = 61613
`;
  const { config, warnings, file } = await loadText(sample);
  assert.deepEqual(config.listeners, [{ hostname: "0.0.0.0", port: 5672 }]);
  assert.deepEqual(config.ssl.listeners, [{ hostname: "0.0.0.0", port: 5671 }]);
  assert.deepEqual(config.ssl.options, {
    verify: "verify_peer",
    fail_if_no_peer_cert: "false",
    "versions.1": "tlsv1.3",
    "versions.2": "tlsv1.2",
  });
  assert.deepEqual(config.loopbackUsers, []);
  assert.equal(config.defaultUser, "admin");
  assert.equal(config.defaultPass, "S3cr#t");
  assert.deepEqual(config.defaultUserTags, ["administrator"]);
  assert.equal(config.channelMax, 128);
  assert.deepEqual(config.memoryHighWatermark, { relative: 0.6 });
  assert.deepEqual(config.diskFreeLimit, { absolute: 2e9 });
  assert.deepEqual(config.management, { enabled: true, port: 15672, ip: "0.0.0.0" });
  assert.equal(config.logLevel, "info");
  // The line numbers are found by searching the sample (line 1 is the empty first line).
  const lines = sample.split("\n");
  const unused = (key: string) =>
    `${file}:${lines.findIndex((l) => l.startsWith(`${key} =`)) + 1}: ${key}: ` +
    `accepted but not used by broker`;
  assert.equal(
    unused("num_acceptors.tcp"),
    `${file}:9: num_acceptors.tcp: accepted but not used by broker`,
  );
  assert.deepEqual(warnings, [
    unused("num_acceptors.tcp"),
    unused("reverse_dns_lookups"),
    unused("auth_mechanisms.1"),
    unused("auth_mechanisms.2"),
    unused("vm_memory_high_watermark_paging_ratio"),
    unused("collect_statistics_interval"),
    unused("cluster_formation.peer_discovery_backend"),
    unused("cluster_formation.classic_config.nodes.1"),
    unused("cluster_partition_handling"),
    unused("log.file.level"),
    unused("log.file.rotation.date"),
    unused("management.load_definitions"),
    unused("mqtt.listeners.tcp.default"),
    unused("stomp.listeners.tcp.1"),
  ]);
});

Deno.test("load: CONFIG_HELP names every key, variable and flag", () => {
  for (const k of KEYS) {
    assert.ok(CONFIG_HELP.includes(k.key.replace("$name", "NAME").replace("*", "NAME")), k.key);
  }
  for (
    const name of [
      "--config",
      "--port",
      "--bind",
      "--admin-port",
      "--admin-bind",
      "--data-dir",
      "--log-level",
      "BROKER_CONFIG_FILE",
      "RABBITMQ_CONFIG_FILE",
      "RABBITMQ_NODE_PORT",
      "RABBITMQ_NODE_IP_ADDRESS",
      "RABBITMQ_LOG",
      "BROKER_DATA_DIR",
      "cluster_formation.*",
    ]
  ) {
    assert.ok(CONFIG_HELP.includes(name), name);
  }
  assert.ok(CONFIG_HELP.includes("(default 5672)"));
  assert.ok(CONFIG_HELP.split("\n").every((line) => line.length <= 100));
});
