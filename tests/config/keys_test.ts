/** Every honoured rabbitmq.conf key, with good and bad values, through loadConfig. */
import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../src/config/types.ts";
import { loadFails, loadText, withDir } from "./helpers.ts";
import { loadConfig } from "../../src/config/load.ts";

Deno.test("keys: an empty file gives the defaults", async () => {
  const { config, warnings } = await loadText("# nothing here\n\n");
  assert.deepEqual(config, DEFAULT_CONFIG);
  assert.deepEqual(warnings, []);
});

Deno.test("keys: listeners.tcp.NAME replace the default listener, in file order", async () => {
  const { config } = await loadText(
    [
      "listeners.tcp.default = 5673",
      "listeners.tcp.local = 127.0.0.1:5674",
      "listeners.tcp.local_v6 = ::1:5675",
      "listeners.tcp.bracketed = [::1]:5676",
      "listeners.tcp.any_v6 = :::5677",
    ].join("\n"),
  );
  assert.deepEqual(config.listeners, [
    { hostname: "0.0.0.0", port: 5673 },
    { hostname: "127.0.0.1", port: 5674 },
    { hostname: "::1", port: 5675 },
    { hostname: "::1", port: 5676 },
    { hostname: "::", port: 5677 },
  ]);
});

Deno.test("keys: listeners.tcp = none disables AMQP listeners", async () => {
  const { config, warnings } = await loadText("listeners.tcp = none\nlisteners.tcp.default = 1");
  assert.deepEqual(config.listeners, []);
  assert.deepEqual(warnings, ["no AMQP listener is configured (listeners.tcp = none)"]);
});

Deno.test("keys: bad listener values", async () => {
  const addr = "is not a listener address (PORT, IP:PORT or [IPv6]:PORT)";
  await loadFails(
    "listeners.tcp.default = localhost:5672",
    `FILE:1: listeners.tcp.default: 'localhost:5672' ${addr}`,
  );
  await loadFails(
    "\nlisteners.tcp.default = 70000",
    "FILE:2: listeners.tcp.default: '70000' is not a port number (0-65535)",
  );
  await loadFails(
    "listeners.tcp = 5672",
    "FILE:1: listeners.tcp: '5672' can only be 'none' " +
      "(entries are set with listeners.tcp.NAME = ...)",
  );
  await loadFails("listeners.ssl.default = x", `FILE:1: listeners.ssl.default: 'x' ${addr}`);
});

Deno.test("keys: listeners.ssl.NAME and ssl_options.*", async () => {
  await withDir({ "cert.pem": "c", "key.pem": "k", "ca.pem": "a" }, async (dir) => {
    const { config } = await loadText(
      [
        "listeners.ssl.default = 5671",
        "listeners.ssl.v6 = [::]:5681",
        `ssl_options.certfile = ${dir}/cert.pem`,
        `ssl_options.keyfile = ${dir}/key.pem`,
        `ssl_options.cacertfile = ${dir}/ca.pem`,
        "ssl_options.verify = verify_peer",
        "ssl_options.fail_if_no_peer_cert = true",
        "ssl_options.depth = 2",
        "ssl_options.versions.1 = tlsv1.3",
        "ssl_options.password = 'se#cret'",
      ].join("\n"),
    );
    assert.deepEqual(config.ssl.listeners, [
      { hostname: "0.0.0.0", port: 5671 },
      { hostname: "::", port: 5681 },
    ]);
    assert.deepEqual(config.ssl.options, {
      certfile: `${dir}/cert.pem`,
      keyfile: `${dir}/key.pem`,
      cacertfile: `${dir}/ca.pem`,
      verify: "verify_peer",
      fail_if_no_peer_cert: "true",
      depth: "2",
      "versions.1": "tlsv1.3",
      password: "se#cret",
    });
  });
  const none = await loadText("listeners.ssl = none\nssl_options = none\nssl_options.depth = 1");
  assert.deepEqual(none.config.ssl, { listeners: [], options: {} });
});

Deno.test("keys: bad ssl_options values", async () => {
  await loadFails(
    "ssl_options.verify = yes",
    "FILE:1: ssl_options.verify: 'yes' is not verify_peer or verify_none",
  );
  await loadFails(
    "ssl_options.fail_if_no_peer_cert = 1",
    "FILE:1: ssl_options.fail_if_no_peer_cert: '1' is not a boolean (true or false)",
  );
  await loadFails(
    "ssl_options.depth = 256",
    "FILE:1: ssl_options.depth: '256' is out of range (0-255)",
  );
  await loadFails(
    "ssl_options.certfile = /nonexistent/cert.pem",
    "FILE:1: ssl_options.certfile: '/nonexistent/cert.pem' file does not exist or cannot be read",
  );
  await loadFails(
    "ssl_options = all",
    "FILE:1: ssl_options: 'all' can only be 'none' (entries are set with ssl_options.NAME = ...)",
  );
});

Deno.test("keys: loopback_users", async () => {
  assert.deepEqual((await loadText("loopback_users.guest = false")).config.loopbackUsers, []);
  assert.deepEqual(
    (await loadText(
      "loopback_users.guest = true\nloopback_users.ops = true\nloopback_users.x = false",
    ))
      .config.loopbackUsers,
    ["guest", "ops"],
  );
  // As RabbitMQ's translation: once any loopback_users key is set, the file's list is the list.
  assert.deepEqual((await loadText("loopback_users.ops = true")).config.loopbackUsers, ["ops"]);
  assert.deepEqual((await loadText("loopback_users = none")).config.loopbackUsers, []);
  assert.deepEqual(
    (await loadText("loopback_users.john\\.doe = true")).config.loopbackUsers,
    ["john.doe"],
  );
  await loadFails(
    "loopback_users.guest = no",
    "FILE:1: loopback_users.guest: 'no' is not a boolean (true or false)",
  );
  await loadFails(
    "loopback_users = guest",
    "FILE:1: loopback_users: 'guest' can only be 'none' " +
      "(entries are set with loopback_users.NAME = ...)",
  );
});

Deno.test("keys: default user, password, vhost, tags and permissions", async () => {
  const { config } = await loadText(
    [
      "default_user = admin",
      "default_pass = 'p#ss w0rd'",
      "default_vhost = /prod",
      "default_user_tags.administrator = false",
      "default_user_tags.management = true",
      "default_user_tags.monitoring = true",
      "default_permissions.configure = ^amq\\.gen.*",
      "default_permissions.read = .*",
      "default_permissions.write = ^$",
    ].join("\n"),
  );
  assert.equal(config.defaultUser, "admin");
  assert.equal(config.defaultPass, "p#ss w0rd");
  assert.equal(config.defaultVhost, "/prod");
  assert.deepEqual(config.defaultUserTags, ["management", "monitoring"]);
  assert.deepEqual(config.defaultPermissions, {
    configure: "^amq\\.gen.*",
    read: ".*",
    write: "^$",
  });
  await loadFails(
    "default_user_tags.administrator = yes",
    "FILE:1: default_user_tags.administrator: 'yes' is not a boolean (true or false)",
  );
  await loadFails(
    "default_permissions.write = (",
    "FILE:1: default_permissions.write: '(' is not a valid regular expression",
  );
  // Only one permission set: the others keep their defaults.
  const one = await loadText("default_permissions.read = ^r$");
  assert.deepEqual(one.config.defaultPermissions, { configure: ".*", read: "^r$", write: ".*" });
});

Deno.test("keys: heartbeat, frame_max, channel_max", async () => {
  const { config } = await loadText("heartbeat = 0\nframe_max = 8192\nchannel_max = 0");
  assert.equal(config.heartbeat, 0);
  assert.equal(config.frameMax, 8192);
  assert.equal(config.channelMax, 0);
  assert.equal((await loadText("frame_max = 128KB")).config.frameMax, 131072);
  assert.equal((await loadText("frame_max = 0")).config.frameMax, 0);
  assert.equal((await loadText("channel_max = 65535")).config.channelMax, 65535);

  await loadFails("heartbeat = -1", "FILE:1: heartbeat: '-1' is out of range (0-65535)");
  await loadFails("heartbeat = 60s", "FILE:1: heartbeat: '60s' is not an integer");
  await loadFails(
    "frame_max = abc",
    "FILE:1: frame_max: 'abc' is not an integer (optionally with KB, MB or GB)",
  );
  await loadFails(
    "frame_max = 4095",
    "FILE:1: frame_max: '4095' is out of range (0, or 4096-4294967295)",
  );
  await loadFails("channel_max = 65536", "FILE:1: channel_max: '65536' is out of range (0-65535)");
  await loadFails("channel_max = many", "FILE:1: channel_max: 'many' is not an integer");
});

Deno.test("keys: max_message_size (RabbitMQ caps it at 512 MiB)", async () => {
  assert.equal((await loadText("max_message_size = 536870912")).config.maxMessageSize, 536870912);
  assert.equal((await loadText("max_message_size = 1024")).config.maxMessageSize, 1024);
  await loadFails(
    "max_message_size = 536870913",
    "FILE:1: max_message_size: '536870913' is out of range (1-536870912)",
  );
  await loadFails(
    "max_message_size = 0",
    "FILE:1: max_message_size: '0' is out of range (1-536870912)",
  );
  await loadFails(
    "max_message_size = 128MB",
    "FILE:1: max_message_size: '128MB' is not an integer",
  );
});

Deno.test("keys: handshake_timeout", async () => {
  assert.equal((await loadText("handshake_timeout = 5000")).config.handshakeTimeoutMs, 5000);
  assert.equal(
    (await loadText("handshake_timeout = infinity")).config.handshakeTimeoutMs,
    2147483647,
  );
  await loadFails(
    "handshake_timeout = 0",
    "FILE:1: handshake_timeout: '0' is out of range (1-2147483647, or infinity)",
  );
  await loadFails("handshake_timeout = 10s", "FILE:1: handshake_timeout: '10s' is not an integer");
});

Deno.test("keys: consumer_timeout (milliseconds, at least 1, as RabbitMQ 3.10)", async () => {
  assert.equal(DEFAULT_CONFIG.consumerTimeoutMs, 1_800_000);
  const { config, warnings } = await loadText("consumer_timeout = 60000");
  assert.equal(config.consumerTimeoutMs, 60000);
  assert.deepEqual(warnings, []);
  // Longer than the largest timer delay is fine: the channel re-arms its check.
  assert.equal((await loadText("consumer_timeout = 3600000000")).config.consumerTimeoutMs, 36e8);
  await loadFails(
    "consumer_timeout = 0",
    "FILE:1: consumer_timeout: '0' is out of range (at least 1)",
  );
  await loadFails(
    "consumer_timeout = -5",
    "FILE:1: consumer_timeout: '-5' is out of range (at least 1)",
  );
  // RabbitMQ's schema has no `infinity` here (only advanced.config can unset the timeout).
  await loadFails(
    "consumer_timeout = infinity",
    "FILE:1: consumer_timeout: 'infinity' is not an integer",
  );
});

Deno.test("keys: management", async () => {
  const { config } = await loadText(
    "management.tcp.port = 15673\nmanagement.tcp.ip = 127.0.0.1\nmanagement.enabled = false",
  );
  assert.deepEqual(config.management, { enabled: false, port: 15673, ip: "127.0.0.1" });
  const v6 = await loadText("management.tcp.ip = ::");
  assert.equal(v6.config.management.ip, "::");
  // Legacy management.listener.* keys, overridden by management.tcp.* whatever the order.
  const legacy = await loadText("management.listener.port = 15000\nmanagement.listener.ip = ::1");
  assert.deepEqual(legacy.config.management, { enabled: true, port: 15000, ip: "::1" });
  const both = await loadText("management.tcp.port = 15001\nmanagement.listener.port = 15000");
  assert.equal(both.config.management.port, 15001);

  await loadFails(
    "management.tcp.port = 99999",
    "FILE:1: management.tcp.port: '99999' is not a port number (0-65535)",
  );
  await loadFails(
    "management.tcp.ip = localhost",
    "FILE:1: management.tcp.ip: 'localhost' is not an IP address",
  );
  await loadFails(
    "management.enabled = off",
    "FILE:1: management.enabled: 'off' is not a boolean (true or false)",
  );
});

Deno.test("keys: log.console.level and log.console", async () => {
  assert.equal((await loadText("log.console.level = debug")).config.logLevel, "debug");
  assert.equal((await loadText("log.console.level = warning")).config.logLevel, "warn");
  assert.equal((await loadText("log.console.level = warn")).config.logLevel, "warn");
  assert.equal((await loadText("log.console.level = critical")).config.logLevel, "error");
  assert.equal((await loadText("log.console.level = none")).config.logLevel, "none");
  assert.equal(
    (await loadText("log.console = false\nlog.console.level = debug")).config.logLevel,
    "none",
  );
  assert.equal((await loadText("log.console = true")).config.logLevel, "info");
  await loadFails(
    "log.console.level = loud",
    "FILE:1: log.console.level: 'loud' is not a log level " +
      "(debug, info, notice, warning, error, critical, alert, emergency, none)",
  );
  await loadFails(
    "log.console = yes",
    "FILE:1: log.console: 'yes' is not a boolean (true or false)",
  );
});

Deno.test("keys: vm_memory_high_watermark", async () => {
  assert.deepEqual(
    (await loadText("vm_memory_high_watermark.relative = 0.4")).config.memoryHighWatermark,
    { relative: 0.4 },
  );
  assert.deepEqual(
    (await loadText("vm_memory_high_watermark.absolute = 1073741824")).config.memoryHighWatermark,
    { absolute: 1073741824 },
  );
  for (
    const [raw, n] of [["2GB", 2e9], ["512MiB", 536870912], ["1024MB", 1.024e9], ["1Gi", 2 ** 30]]
  ) {
    const { config } = await loadText(`vm_memory_high_watermark.absolute = ${raw}`);
    assert.deepEqual(config.memoryHighWatermark, { absolute: n }, String(raw));
  }
  const both = await loadText(
    "vm_memory_high_watermark.relative = 0.5\nvm_memory_high_watermark.absolute = 2GB",
  );
  assert.deepEqual(both.config.memoryHighWatermark, { absolute: 2e9 });
  assert.deepEqual(both.warnings, [
    `${both.file}: vm_memory_high_watermark.absolute and .relative are both set; ` +
    `.absolute takes precedence`,
  ]);

  await loadFails(
    "vm_memory_high_watermark.relative = 1.5",
    "FILE:1: vm_memory_high_watermark.relative: '1.5' is out of range (0-1)",
  );
  await loadFails(
    "vm_memory_high_watermark.relative = 60%",
    "FILE:1: vm_memory_high_watermark.relative: '60%' is not a number (e.g. 0.4)",
  );
  await loadFails(
    "vm_memory_high_watermark.absolute = 2 GB",
    "FILE:1: vm_memory_high_watermark.absolute: '2 GB' is not a byte size " +
      "(e.g. 500MB, 500MiB, 10GB, 10GiB, 2TB or 1000000000)",
  );
});

Deno.test("keys: disk_free_limit", async () => {
  assert.deepEqual(
    (await loadText("disk_free_limit.absolute = 1GB")).config.diskFreeLimit,
    { absolute: 1e9 },
  );
  assert.deepEqual(
    (await loadText("disk_free_limit.absolute = 50000000")).config.diskFreeLimit,
    { absolute: 50_000_000 },
  );
  assert.deepEqual(
    (await loadText("disk_free_limit.relative = 1.5")).config.diskFreeLimit,
    { relative: 1.5 },
  );
  const both = await loadText("disk_free_limit.relative = 2.0\ndisk_free_limit.absolute = 2GiB");
  assert.deepEqual(both.config.diskFreeLimit, { absolute: 2 ** 31 });
  assert.equal(both.warnings.length, 1);
  await loadFails(
    "disk_free_limit.absolute = lots",
    "FILE:1: disk_free_limit.absolute: 'lots' is not a byte size " +
      "(e.g. 500MB, 500MiB, 10GB, 10GiB, 2TB or 1000000000)",
  );
  await loadFails(
    "disk_free_limit.relative = x",
    "FILE:1: disk_free_limit.relative: 'x' is not a number (e.g. 0.4)",
  );
});

Deno.test("keys: unknown keys warn with file:line; RabbitMQ keys we don't use warn too", async () => {
  const { config, warnings, file } = await loadText(
    [
      "heartbeat = 30",
      "cluster_formation.peer_discovery_backend = classic_config",
      "cluster_formation.classic_config.nodes.1 = rabbit@hostname1",
      "log.file.level = info",
      "collect_statistics_interval = 10000",
      "management.path_prefix = /admin",
      "frobnicate = yes",
      "listeners.tcp.default.extra = 1",
    ].join("\n"),
  );
  assert.equal(config.heartbeat, 30);
  assert.deepEqual(warnings, [
    `${file}:2: cluster_formation.peer_discovery_backend: accepted but not used by broker`,
    `${file}:3: cluster_formation.classic_config.nodes.1: accepted but not used by broker`,
    `${file}:4: log.file.level: accepted but not used by broker`,
    `${file}:5: collect_statistics_interval: accepted but not used by broker`,
    `${file}:6: management.path_prefix: accepted but not used by broker`,
    `${file}:7: unknown key 'frobnicate' ignored`,
    `${file}:8: unknown key 'listeners.tcp.default.extra' ignored`,
  ]);
});

Deno.test("keys: the same key twice, the last wins; only the last value is checked", async () => {
  const { config, warnings, file } = await loadText("heartbeat = abc\nheartbeat = 15");
  assert.equal(config.heartbeat, 15);
  assert.deepEqual(warnings, [`${file}:2: heartbeat is also set on line 1; the last value wins`]);
  await loadFails(
    "heartbeat = 15\n\nheartbeat = abc",
    "FILE:3: heartbeat: 'abc' is not an integer",
  );
});

Deno.test("keys: a value error names file:line even deep in a file", async () => {
  const lines = Array.from({ length: 11 }, (_, i) => `# comment ${i + 1}`);
  lines.push("frame_max = abc");
  await withDir({ "rabbitmq.conf": lines.join("\n") }, (dir) => {
    assert.throws(
      () => loadConfig({ flags: { config: `${dir}/rabbitmq.conf` }, env: {} }),
      {
        name: "ConfigError",
        message: `${dir}/rabbitmq.conf:12: frame_max: 'abc' is not an integer ` +
          `(optionally with KB, MB or GB)`,
      },
    );
  });
});
