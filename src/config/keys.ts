/**
 * Every rabbitmq.conf key the broker knows: the keys it honours (with how each value is read and
 * where it lands in {@link BrokerConfig}), and the RabbitMQ keys it accepts but does not use, so
 * a real rabbitmq.conf loads with warnings rather than errors. Value types and limits follow
 * RabbitMQ's schema (`deps/rabbit/priv/schema/rabbit.schema` and
 * `rabbitmq_management.schema`).
 *
 * Patterns: `$name` matches one key word; a trailing `*` matches one or more words.
 *
 * @example
 * ```ts
 * const spec = findKey(["listeners", "tcp", "default"]); // the listeners.tcp.$name spec
 * ```
 */
import type { BrokerConfig, ListenerAddress } from "./types.ts";
import { DEFAULT_CONFIG } from "./types.ts";
import { isLogFormat } from "../log.ts";
import {
  BadValue,
  boolean,
  bytesize,
  decimal,
  informationUnit,
  integer,
  integerIn,
  ipAddress,
  listenerAddress,
  logLevel,
  MAX_MESSAGE_SIZE_LIMIT,
  MAX_TIMER_MS,
  port,
  regex,
} from "./values.ts";

/** What the config file has set so far; collections are gathered here and finished at the end. */
export interface FileState {
  config: BrokerConfig;
  tcp: { listeners: ListenerAddress[]; none: boolean };
  ssl: { listeners: ListenerAddress[]; none: boolean };
  sslOptionsNone: boolean;
  /** Set once any loopback_users key appears: then the file's list replaces the default. */
  loopback?: { users: string[]; none: boolean };
  /** Set once any default_user_tags.TAG key appears. */
  tags?: string[];
  /** log.console = false turns console logging (the only kind the broker does) off. */
  consoleLog?: boolean;
  memory: { relative?: number; absolute?: number };
  disk: { relative?: number; absolute?: number };
  /**
   * The management.tcp.* keys win over the legacy management.listener.* ones (`legacy`: one of
   * those was set; with neither, management.ssl.* alone means HTTPS only).
   */
  managementTcp: { port?: boolean; ip?: boolean; legacy?: boolean };
}

export function newFileState(): FileState {
  return {
    config: structuredClone(DEFAULT_CONFIG),
    tcp: { listeners: [], none: false },
    ssl: { listeners: [], none: false },
    sslOptionsNone: false,
    memory: {},
    disk: {},
    managementTcp: {},
  };
}

export interface KeySpec {
  /** Key pattern, e.g. `listeners.tcp.$name`. */
  key: string;
  /** Value syntax, for help. */
  value: string;
  /** Default, for help. */
  default: string;
  help: string;
  /** Reads `value` into the state; throws {@link BadValue}. `words` are the `$name`/`*` parts. */
  apply(s: FileState, value: string, words: string[]): void;
}

const D = DEFAULT_CONFIG;
const showListener = (l: ListenerAddress) =>
  l.hostname.includes(":") ? `[${l.hostname}]:${l.port}` : `${l.hostname}:${l.port}`;

/** The `KEY = none` form that empties a collection; `key` names the collection in the message. */
function none(value: string, key: string): true {
  if (value !== "none") {
    throw new BadValue(`can only be 'none' (entries are set with ${key}.NAME = ...)`);
  }
  return true;
}

/** ssl_options.* values RabbitMQ types (others are kept as written). */
const SSL_BOOLEAN_OPTIONS = new Set([
  "fail_if_no_peer_cert",
  "honor_cipher_order",
  "honor_ecc_order",
  "reuse_sessions",
  "secure_renegotiate",
  "client_renegotiation",
  "log_alert",
]);
const SSL_FILE_OPTIONS = new Set(["certfile", "keyfile", "cacertfile", "dhfile"]);

function checkSslOption(name: string, value: string): void {
  if (SSL_BOOLEAN_OPTIONS.has(name)) boolean(value);
  else if (name === "verify" && value !== "verify_peer" && value !== "verify_none") {
    throw new BadValue("is not verify_peer or verify_none");
  } else if (name === "depth") integerIn(value, 0, 255);
  else if (SSL_FILE_OPTIONS.has(name)) readableFile(value);
}

function readableFile(value: string): string {
  try {
    Deno.openSync(value, { read: true }).close();
    if (!Deno.statSync(value).isFile) throw new Error("not a file");
  } catch {
    throw new BadValue("file does not exist or cannot be read");
  }
  return value;
}

/** The management HTTPS listener, created by the first management.ssl.* key (port 15671). */
function managementSsl(s: FileState): NonNullable<BrokerConfig["management"]["ssl"]> {
  return s.config.management.ssl ??= { port: 15671, ip: D.management.ip };
}

/** The keys the broker honours, in help order. */
export const KEYS: KeySpec[] = [
  {
    key: "listeners.tcp.$name",
    value: "PORT | IP:PORT | [IPv6]:PORT",
    default: showListener(D.listeners[0]),
    help: "AMQP listener; NAME is any label (e.g. default). A bare port listens on all " +
      "interfaces. Once any is set, the file's listeners replace the default one.",
    apply(s, v) {
      s.tcp.listeners.push(listenerAddress(v, D.listeners[0].hostname));
    },
  },
  {
    key: "listeners.tcp",
    value: "none",
    default: "-",
    help: "none: no AMQP listener at all (listeners.tcp.NAME keys are then ignored).",
    apply(s, v) {
      s.tcp.none = none(v, "listeners.tcp");
    },
  },
  {
    key: "listeners.ssl.$name",
    value: "PORT | IP:PORT | [IPv6]:PORT",
    default: "none",
    help: "AMQPS (TLS) listener, as listeners.tcp.NAME; uses ssl_options.*.",
    apply(s, v) {
      s.ssl.listeners.push(listenerAddress(v, D.listeners[0].hostname));
    },
  },
  {
    key: "listeners.ssl",
    value: "none",
    default: "-",
    help: "none: no TLS listener.",
    apply(s, v) {
      s.ssl.none = none(v, "listeners.ssl");
    },
  },
  {
    key: "ssl_options.*",
    value: "TEXT",
    default: "-",
    help: "TLS options of the AMQPS listeners: ssl_options.certfile, .keyfile, .cacertfile " +
      "(readable PEM files), .verify (verify_peer checks client certificates against " +
      ".cacertfile; verify_none, the default, asks for none), .fail_if_no_peer_cert (true: " +
      "refuse clients without one). Others (.versions.1, .ciphers.1, .depth, .password...) are " +
      "accepted and named in a warning at start. ssl_options = none clears them.",
    apply(s, v, words) {
      const name = words.join(".");
      checkSslOption(name, v);
      s.config.ssl.options[name] = v;
    },
  },
  {
    key: "ssl_options",
    value: "none",
    default: "-",
    help: "none: no TLS options.",
    apply(s, v) {
      s.sslOptionsNone = none(v, "ssl_options");
    },
  },
  {
    key: "loopback_users.$name",
    value: "true | false",
    default: D.loopbackUsers.join(", "),
    help: "true: user NAME may connect only from localhost. Once any is set, the file's list " +
      "replaces the default (loopback_users.guest = false lets guest in from anywhere).",
    apply(s, v, [user]) {
      s.loopback ??= { users: [], none: false };
      if (boolean(v)) s.loopback.users.push(user);
    },
  },
  {
    key: "loopback_users",
    value: "none",
    default: "-",
    help: "none: no user is restricted to localhost.",
    apply(s, v) {
      s.loopback ??= { users: [], none: false };
      s.loopback.none = none(v, "loopback_users");
    },
  },
  {
    key: "default_user",
    value: "NAME",
    default: D.defaultUser,
    help: "User created when the data directory is new.",
    apply(s, v) {
      s.config.defaultUser = v;
    },
  },
  {
    key: "default_pass",
    value: "PASSWORD",
    default: D.defaultPass,
    help: "Password of default_user (quote it if it contains '#': default_pass = 'a#b').",
    apply(s, v) {
      s.config.defaultPass = v;
    },
  },
  {
    key: "default_vhost",
    value: "NAME",
    default: D.defaultVhost,
    help: "Virtual host created when the data directory is new.",
    apply(s, v) {
      s.config.defaultVhost = v;
    },
  },
  {
    key: "default_user_tags.$name",
    value: "true | false",
    default: D.defaultUserTags.join(", "),
    help: "true gives default_user the tag NAME (e.g. administrator, management, monitoring). " +
      "Once any is set, the file's tags replace the default.",
    apply(s, v, [tag]) {
      s.tags ??= [];
      if (boolean(v)) s.tags.push(tag);
    },
  },
  ...(["configure", "read", "write"] as const).map((p): KeySpec => ({
    key: `default_permissions.${p}`,
    value: "REGEX",
    default: D.defaultPermissions[p],
    help: `${p[0].toUpperCase()}${p.slice(1)} permission of default_user in default_vhost.`,
    apply(s, v) {
      s.config.defaultPermissions[p] = regex(v);
    },
  })),
  {
    key: "heartbeat",
    value: "SECONDS",
    default: String(D.heartbeat),
    help: "Heartbeat timeout the server proposes (connection.tune); 0 disables heartbeats.",
    apply(s, v) {
      s.config.heartbeat = integerIn(v, 0, 65535);
    },
  },
  {
    key: "frame_max",
    value: "BYTES",
    default: String(D.frameMax),
    help: "Largest frame the server accepts (at least 4096; 0 means no limit); KB/MB suffixes " +
      "(powers of 1024) are accepted.",
    apply(s, v) {
      const n = bytesize(v);
      if (n !== 0 && (n < 4096 || n > 0xffffffff)) {
        throw new BadValue("is out of range (0, or 4096-4294967295)");
      }
      s.config.frameMax = n;
    },
  },
  {
    key: "channel_max",
    value: "COUNT",
    default: String(D.channelMax),
    help: "Most channels per connection (0 means no limit, i.e. 65535).",
    apply(s, v) {
      s.config.channelMax = integerIn(v, 0, 65535);
    },
  },
  {
    key: "connection_max",
    value: "COUNT | infinity",
    default: "infinity",
    help: "Most client connections at once; past it a new TCP connection is closed at once, " +
      "with a log line (0 refuses every one).",
    apply(s, v) {
      if (v !== "infinity" && !/^[0-9]+$/.test(v)) {
        throw new BadValue("should be a non-negative integer or infinity");
      }
      s.config.connectionMax = v === "infinity"
        ? Infinity
        : integerIn(v, 0, Number.MAX_SAFE_INTEGER);
    },
  },
  {
    key: "max_message_size",
    value: "BYTES",
    default: String(D.maxMessageSize),
    help: `Largest message body accepted (1-${MAX_MESSAGE_SIZE_LIMIT}, i.e. at most 512 MiB).`,
    apply(s, v) {
      s.config.maxMessageSize = integerIn(v, 1, MAX_MESSAGE_SIZE_LIMIT);
    },
  },
  {
    key: "handshake_timeout",
    value: "MILLISECONDS | infinity",
    default: String(D.handshakeTimeoutMs),
    help: "Time allowed for the AMQP handshake after the TCP connection opens.",
    apply(s, v) {
      if (v === "infinity") {
        s.config.handshakeTimeoutMs = MAX_TIMER_MS;
        return;
      }
      const n = integer(v);
      if (n < 1 || n > MAX_TIMER_MS) {
        throw new BadValue(`is out of range (1-${MAX_TIMER_MS}, or infinity)`);
      }
      s.config.handshakeTimeoutMs = n;
    },
  },
  {
    key: "consumer_timeout",
    value: "MILLISECONDS",
    default: String(D.consumerTimeoutMs),
    help: "A delivery (to a consumer or by basic.get) left unacknowledged this long closes its " +
      "channel with 406 PRECONDITION_FAILED; its unacked messages are requeued.",
    apply(s, v) {
      const n = integer(v);
      if (n < 1) throw new BadValue("is out of range (at least 1)");
      s.config.consumerTimeoutMs = n;
    },
  },
  {
    key: "management.enabled",
    value: "true | false",
    default: String(D.management.enabled),
    help: "false turns the management HTTP server off (a broker key, not a RabbitMQ one); " +
      "--admin-port or --admin-bind turns it back on.",
    apply(s, v) {
      s.config.management.enabled = boolean(v);
    },
  },
  {
    key: "management.tcp.port",
    value: "PORT",
    default: String(D.management.port),
    help: "Management HTTP API and UI port.",
    apply(s, v) {
      s.config.management.port = port(v);
      s.managementTcp.port = true;
    },
  },
  {
    key: "management.tcp.ip",
    value: "IP",
    default: D.management.ip,
    help: "Management HTTP interface address.",
    apply(s, v) {
      s.config.management.ip = ipAddress(v);
      s.managementTcp.ip = true;
    },
  },
  {
    key: "management.listener.port",
    value: "PORT",
    default: "-",
    help: "Legacy (pre-3.7.9) spelling of management.tcp.port (management.tcp.port wins).",
    apply(s, v) {
      const p = port(v);
      s.managementTcp.legacy = true;
      if (!s.managementTcp.port) s.config.management.port = p;
    },
  },
  {
    key: "management.listener.ip",
    value: "IP",
    default: "-",
    help: "Legacy spelling of management.tcp.ip (management.tcp.ip wins).",
    apply(s, v) {
      const ip = ipAddress(v);
      s.managementTcp.legacy = true;
      if (!s.managementTcp.ip) s.config.management.ip = ip;
    },
  },
  {
    key: "management.ssl.port",
    value: "PORT",
    default: "15671",
    help: "Management HTTPS port. Any management.ssl.* key starts the HTTPS listener; the plain " +
      "HTTP one then runs only when management.tcp.* (or management.listener.*) is set too.",
    apply(s, v) {
      managementSsl(s).port = port(v);
    },
  },
  {
    key: "management.ssl.ip",
    value: "IP",
    default: D.management.ip,
    help: "Management HTTPS interface address.",
    apply(s, v) {
      managementSsl(s).ip = ipAddress(v);
    },
  },
  ...(["certfile", "keyfile", "cacertfile"] as const).map((name): KeySpec => ({
    key: `management.ssl.${name}`,
    value: "FILE",
    default: "-",
    help: name === "cacertfile"
      ? "CA certificates (PEM); intermediates among them complete the chain sent to clients."
      : `The management HTTPS listener's ${
        name === "certfile" ? "certificate (PEM; chain allowed)" : "private key (PEM, unencrypted)"
      }.`,
    apply(s, v) {
      managementSsl(s)[name] = readableFile(v);
    },
  })),
  {
    key: "prometheus.enabled",
    value: "true | false",
    default: String(D.prometheus.enabled),
    help: "false turns the Prometheus metrics HTTP server off (a broker key, not a RabbitMQ " +
      "one: RabbitMQ serves metrics once the rabbitmq_prometheus plugin is enabled).",
    apply(s, v) {
      s.config.prometheus.enabled = boolean(v);
    },
  },
  {
    key: "prometheus.tcp.port",
    value: "PORT",
    default: String(D.prometheus.port),
    help: "Prometheus metrics port: GET /metrics (aggregated) and /metrics/per-object " +
      "(per-queue), text format, no authentication.",
    apply(s, v) {
      s.config.prometheus.port = port(v);
    },
  },
  {
    key: "prometheus.tcp.ip",
    value: "IP",
    default: D.prometheus.ip,
    help: "Prometheus metrics interface address.",
    apply(s, v) {
      s.config.prometheus.ip = ipAddress(v);
    },
  },
  {
    key: "prometheus.return_per_object_metrics",
    value: "true | false",
    default: String(D.prometheus.perObject),
    help: "true: /metrics returns per-object (per-queue) metrics, as /metrics/per-object does.",
    apply(s, v) {
      s.config.prometheus.perObject = boolean(v);
    },
  },
  {
    key: "log.console.level",
    value: "LEVEL",
    default: D.logLevel,
    help: "debug, info, notice (= info), warning or warn, error, critical/alert/emergency " +
      "(= error), none.",
    apply(s, v) {
      s.config.logLevel = logLevel(v);
    },
  },
  {
    key: "log.console.formatter",
    value: "plaintext | json",
    default: D.logFormat,
    help: "json: one JSON object per line (time, level, msg and the line's fields). The broker " +
      "logs to the console (stderr) only: log.file.* keys are accepted and not used.",
    apply(s, v) {
      if (!isLogFormat(v)) throw new BadValue("is not plaintext or json");
      s.config.logFormat = v;
    },
  },
  {
    key: "log.console",
    value: "true | false",
    default: "true",
    help: "false turns logging off (the broker logs to the console only).",
    apply(s, v) {
      s.consoleLog = boolean(v);
    },
  },
  {
    key: "vm_memory_high_watermark.relative",
    value: "FRACTION",
    default: String(D.memoryHighWatermark.relative),
    help: "Memory alarm threshold as a fraction of RAM (0-1; 0 blocks all publishing).",
    apply(s, v) {
      s.memory.relative = decimal(v, 0, 1);
    },
  },
  {
    key: "vm_memory_high_watermark.absolute",
    value: "BYTES",
    default: "-",
    help: "Memory alarm threshold in bytes; units 500MB, 500MiB, 2GB, 2GiB, 1TB... (k/M/G/T/P " +
      "are powers of 1000, Ki/Mi/Gi/Ti/Pi powers of 1024). Wins over .relative.",
    apply(s, v) {
      s.memory.absolute = informationUnit(v);
    },
  },
  {
    key: "disk_free_limit.absolute",
    value: "BYTES",
    default: String(D.diskFreeLimit.absolute),
    help: "Free disk space below which publishing is blocked; units as " +
      "vm_memory_high_watermark.absolute. Wins over .relative.",
    apply(s, v) {
      s.disk.absolute = informationUnit(v);
    },
  },
  {
    key: "disk_free_limit.relative",
    value: "RATIO",
    default: "-",
    help: "Free disk space limit relative to total RAM (e.g. 1.5).",
    apply(s, v) {
      s.disk.relative = decimal(v, 0, 1000);
    },
  },
];

/**
 * RabbitMQ keys (core, management and common plugins) that are valid in rabbitmq.conf but that
 * the broker does not implement: accepted with a warning.
 */
export const UNUSED_KEYS: string[] = [
  // core: networking and protocol
  "num_acceptors.*",
  "socket_writer.gc_threshold",
  "reverse_dns_lookups",
  "tcp_listen_options",
  "tcp_listen_options.*",
  "ssl_handshake_timeout",
  "ssl_allow_poodle_attack",
  "ssl_cert_login_from",
  "ssl_cert_login_san_type",
  "ssl_cert_login_san_index",
  "proxy_protocol",
  "initial_frame_max",
  "channel_max_per_node",
  "consumer_max_per_channel",
  "ranch_connection_max",
  "vhost_max",
  "erlang.K",
  // core: auth and seeding
  "auth_mechanisms.*",
  "auth_backends.*",
  "password_hashing_module",
  "credential_validator.*",
  "default_users.*",
  "default_policies.*",
  "default_limits.*",
  "anonymous_login_user",
  "anonymous_login_pass",
  "load_definitions",
  "definitions.*",
  // core: resources, storage, clustering
  "vm_memory_high_watermark_paging_ratio",
  "vm_memory_calculation_strategy",
  "memory_monitor_interval",
  "total_memory_available_override_value",
  "cluster_name",
  "cluster_formation.*",
  "cluster_partition_handling",
  "cluster_partition_handling.*",
  "cluster_keepalive_interval",
  "cluster_queue_limit",
  "delegate_count",
  "default_worker_pool_size",
  "mirroring_sync_batch_size",
  "mirroring_sync_max_throughput",
  "queue_master_locator",
  "queue_leader_locator",
  "default_queue_type",
  "classic_queue.*",
  "quorum_queue.*",
  "queue_index_embed_msgs_below",
  "message_store_shutdown_timeout",
  "mnesia_table_loading_retry_timeout",
  "mnesia_table_loading_retry_limit",
  "metadata_store.*",
  "raft.*",
  "runtime_parameters.*",
  "message_interceptors.*",
  "deprecated_features.*",
  "vhost_restart_strategy",
  "background_gc_enabled",
  "background_gc_target_interval",
  "hipe_compile",
  "collect_statistics",
  "collect_statistics_interval",
  "product.name",
  "product.version",
  "motd_file",
  "net_ticktime",
  "distribution.*",
  "sysmon_handler.*",
  "amqp1_0.*",
  "amqp_client.*",
  // logging other than the console's level and format
  "log.*",
  // plugins
  "management.*",
  "management_agent.*",
  // rabbitmq_prometheus keys other than the ones above (prometheus.path, .ssl.*, ...)
  "prometheus.*",
  "mqtt.*",
  "web_mqtt.*",
  "stomp.*",
  "web_stomp.*",
  "stream.*",
  "auth_ldap.*",
  "auth_http.*",
  "auth_oauth2.*",
  "auth_cache.*",
  "federation.*",
  "shovel.*",
  "peer_discovery.*",
];

/** Matches `segments` against a pattern; returns the words matched by `$name`/`*`, or null. */
export function matchKey(pattern: string, segments: string[]): string[] | null {
  const parts = pattern.split(".");
  const words: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === "*") {
      if (segments.length <= i) return null;
      words.push(...segments.slice(i));
      return words;
    }
    if (i >= segments.length) return null;
    if (parts[i] === "$name") words.push(segments[i]);
    else if (parts[i] !== segments[i]) return null;
  }
  return segments.length === parts.length ? words : null;
}

/** The honoured key spec for a key, with its wildcard words. */
export function findKey(segments: string[]): { spec: KeySpec; words: string[] } | undefined {
  for (const spec of KEYS) {
    const words = matchKey(spec.key, segments);
    if (words) return { spec, words };
  }
  return undefined;
}

/** True for a RabbitMQ key the broker accepts but ignores. */
export function isUnusedKey(segments: string[]): boolean {
  return UNUSED_KEYS.some((p) => matchKey(p, segments) !== null);
}
