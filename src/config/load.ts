/**
 * Loads the broker's configuration from its four sources, in precedence order
 * flags > environment > config file > defaults (each layer overrides only what it sets):
 *
 * - config file: `--config`, else `BROKER_CONFIG_FILE`, else `RABBITMQ_CONFIG_FILE`; as RabbitMQ
 *   does, the `.conf` extension may be left off. A file named but missing is an error; no file
 *   named means defaults only. Syntax: {@link parseConf}; keys: {@link KEYS}.
 * - environment: `RABBITMQ_NODE_PORT` and `RABBITMQ_NODE_IP_ADDRESS` (one AMQP listener, as in
 *   RabbitMQ), `RABBITMQ_LOG` (log level), `BROKER_DATA_DIR`. An empty variable counts as unset,
 *   as in RabbitMQ's scripts.
 * - flags: `--port`/`--bind` (one AMQP listener), `--admin-port`/`--admin-bind`,
 *   `--metrics-port`/`--metrics-bind`, `--data-dir`,
 *   `--log-level`.
 *
 * @example
 * ```ts
 * const { config, warnings } = loadConfig({ flags: { port: "5673" }, env: Deno.env.toObject() });
 * for (const w of warnings) log.warn(w);
 * ```
 */
import type { LogLevel } from "../log.ts";
import { ConfigError } from "./errors.ts";
import { findKey, isUnusedKey, KEYS, newFileState, UNUSED_KEYS } from "./keys.ts";
import type { FileState } from "./keys.ts";
import { lastWins, parseConf } from "./parse.ts";
import type { BrokerConfig, ListenerAddress } from "./types.ts";
import { DEFAULT_CONFIG } from "./types.ts";
import { BadValue, host, logLevel, port } from "./values.ts";

export { ConfigError } from "./errors.ts";

/** Where configuration comes from; `env` is usually `Deno.env.toObject()`. */
export interface ConfigSources {
  flags: {
    port?: string;
    bind?: string;
    adminPort?: string;
    adminBind?: string;
    metricsPort?: string;
    metricsBind?: string;
    dataDir?: string;
    logLevel?: string;
    config?: string;
  };
  env: Record<string, string | undefined>;
}

export interface LoadedConfig {
  config: BrokerConfig;
  /** Things worth logging at start-up: unknown or unused keys, overridden duplicates... */
  warnings: string[];
  /** The config file read, if any. */
  configFile?: string;
}

/** Merges flags, environment, config file and defaults. Throws {@link ConfigError}. */
export function loadConfig(sources: ConfigSources): LoadedConfig {
  const warnings: string[] = [];
  const env = (name: string) => {
    const v = sources.env[name];
    return v === undefined || v === "" ? undefined : v;
  };

  const file = findConfigFile(sources.flags.config, env);
  const config = file ? readConfigFile(file, warnings) : structuredClone(DEFAULT_CONFIG);
  applyEnv(config, env, warnings);
  applyFlags(config, sources.flags);

  if (config.listeners.length === 0) {
    warnings.push("no AMQP listener is configured (listeners.tcp = none)");
  }
  return file ? { config, warnings, configFile: file } : { config, warnings };
}

function findConfigFile(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): string | undefined {
  let origin: string;
  let path: string | undefined;
  if (flag !== undefined) {
    [origin, path] = ["--config", flag];
    if (path === "") throw new ConfigError("--config: the file name is empty");
  } else if ((path = env("BROKER_CONFIG_FILE")) !== undefined) origin = "BROKER_CONFIG_FILE";
  else if ((path = env("RABBITMQ_CONFIG_FILE")) !== undefined) origin = "RABBITMQ_CONFIG_FILE";
  else return undefined;

  // RabbitMQ lets the extension be left off: "/etc/rabbitmq/rabbitmq" finds rabbitmq.conf.
  const bare = !path.endsWith(".conf") && !path.endsWith(".config");
  for (const candidate of bare ? [path, `${path}.conf`] : [path]) {
    const info = statOrUndefined(candidate);
    if (info && !info.isFile && candidate === path) {
      const what = info.isDirectory ? "a directory" : "not a regular file";
      throw new ConfigError(`${origin}: '${path}' is ${what}, not a config file`);
    }
    if (info?.isFile) {
      if (candidate.endsWith(".config")) throw erlangTermsFile(origin, candidate);
      return candidate;
    }
  }
  if (bare && statOrUndefined(`${path}.config`)?.isFile) {
    throw erlangTermsFile(origin, `${path}.config`);
  }
  const tried = bare ? `'${path}' or '${path}.conf'` : `'${path}'`;
  throw new ConfigError(`${origin}: config file ${tried} does not exist`);
}

function erlangTermsFile(origin: string, path: string): ConfigError {
  return new ConfigError(
    `${origin}: '${path}' is an Erlang-terms (.config) file; broker reads only the ` +
      `rabbitmq.conf (key = value) format`,
  );
}

function statOrUndefined(path: string): Deno.FileInfo | undefined {
  try {
    return Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw new ConfigError(`cannot read config file '${path}': ${(err as Error).message}`);
  }
}

function readConfigFile(path: string, warnings: string[]): BrokerConfig {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read config file '${path}': ${(err as Error).message}`);
  }
  const parsed = parseConf(text, path);
  const { entries, warnings: duplicates } = lastWins(parsed.entries, path);
  warnings.push(...parsed.warnings, ...duplicates);

  const state = newFileState();
  for (const e of entries) {
    const where = `${path}:${e.line}`;
    const found = findKey(e.segments);
    if (found) {
      try {
        found.spec.apply(state, e.value, found.words);
      } catch (err) {
        if (!(err instanceof BadValue)) throw err;
        throw new ConfigError(`${where}: ${e.key}: '${e.value}' ${err.message}`);
      }
    } else if (isUnusedKey(e.segments)) {
      warnings.push(`${where}: ${e.key}: accepted but not used by broker`);
    } else {
      warnings.push(`${where}: unknown key '${e.key}' ignored`);
    }
  }
  return finishFile(state, path, warnings);
}

/** Turns the gathered collections into config fields, as RabbitMQ's schema translations do. */
function finishFile(s: FileState, path: string, warnings: string[]): BrokerConfig {
  const c = s.config;
  if (s.tcp.none) c.listeners = [];
  else if (s.tcp.listeners.length > 0) c.listeners = s.tcp.listeners;
  c.ssl.listeners = s.ssl.none ? [] : s.ssl.listeners;
  if (s.sslOptionsNone) c.ssl.options = {};
  const plainHttp = s.managementTcp.port || s.managementTcp.ip || s.managementTcp.legacy;
  if (c.management.ssl && !plainHttp) c.management.tcp = false;
  if (s.loopback) c.loopbackUsers = s.loopback.none ? [] : s.loopback.users;
  if (s.tags) c.defaultUserTags = s.tags;
  if (s.consoleLog === false) c.logLevel = "none";

  if (s.memory.absolute !== undefined) {
    if (s.memory.relative !== undefined) {
      warnings.push(
        `${path}: vm_memory_high_watermark.absolute and .relative are both set; ` +
          `.absolute takes precedence`,
      );
    }
    c.memoryHighWatermark = { absolute: s.memory.absolute };
  } else if (s.memory.relative !== undefined) {
    c.memoryHighWatermark = { relative: s.memory.relative };
  }
  if (s.disk.absolute !== undefined) {
    if (s.disk.relative !== undefined) {
      warnings.push(
        `${path}: disk_free_limit.absolute and .relative are both set; .absolute takes precedence`,
      );
    }
    c.diskFreeLimit = { absolute: s.disk.absolute };
  } else if (s.disk.relative !== undefined) {
    c.diskFreeLimit = { relative: s.disk.relative };
  }
  return c;
}

/** Reads one source value; a {@link BadValue} becomes a ConfigError naming the source. */
function read<T>(source: string, raw: string, parse: (raw: string) => T): T {
  try {
    return parse(raw);
  } catch (err) {
    if (!(err instanceof BadValue)) throw err;
    throw new ConfigError(`${source}: '${raw}' ${err.message}`);
  }
}

/**
 * The single AMQP listener that an address/port override produces: what is not overridden comes
 * from the first listener of the layers below (or the default listener).
 */
function singleListener(
  config: BrokerConfig,
  hostname: string | undefined,
  portNumber: number | undefined,
): ListenerAddress[] {
  const base = config.listeners[0] ?? DEFAULT_CONFIG.listeners[0];
  return [{ hostname: hostname ?? base.hostname, port: portNumber ?? base.port }];
}

function applyEnv(
  config: BrokerConfig,
  env: (name: string) => string | undefined,
  warnings: string[],
): void {
  const portText = env("RABBITMQ_NODE_PORT");
  const ipText = env("RABBITMQ_NODE_IP_ADDRESS");
  if (portText !== undefined || ipText !== undefined) {
    const p = portText === undefined ? undefined : read("RABBITMQ_NODE_PORT", portText, port);
    // "auto" is RabbitMQ's own default: all interfaces.
    const ip = ipText === undefined
      ? undefined
      : ipText === "auto"
      ? DEFAULT_CONFIG.listeners[0].hostname
      : read("RABBITMQ_NODE_IP_ADDRESS", ipText, host);
    config.listeners = singleListener(config, ip, p);
  }

  const logText = env("RABBITMQ_LOG");
  if (logText !== undefined) {
    const level = rabbitmqLog(logText, warnings);
    if (level) config.logLevel = level;
  }

  const dataDir = env("BROKER_DATA_DIR");
  if (dataDir !== undefined) config.dataDir = dataDir;
}

/**
 * `RABBITMQ_LOG` as RabbitMQ reads it: comma-separated `LEVEL` (the global level),
 * `CATEGORY=LEVEL` (per-category, which the broker does not have) and `+color`/`-color`.
 */
function rabbitmqLog(value: string, warnings: string[]): LogLevel | undefined {
  let level: LogLevel | undefined;
  for (const item of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    if (item === "+color" || item === "-color") continue;
    const eq = item.indexOf("=");
    if (eq >= 0) {
      read("RABBITMQ_LOG", item.slice(eq + 1), logLevel);
      warnings.push(`RABBITMQ_LOG: per-category level '${item}' is not used by broker`);
    } else {
      level = read("RABBITMQ_LOG", item, logLevel);
    }
  }
  return level;
}

function applyFlags(config: BrokerConfig, flags: ConfigSources["flags"]): void {
  if (flags.port !== undefined || flags.bind !== undefined) {
    config.listeners = singleListener(
      config,
      flags.bind === undefined ? undefined : read("--bind", flags.bind, host),
      flags.port === undefined ? undefined : read("--port", flags.port, port),
    );
  }
  if (flags.adminPort !== undefined) {
    config.management.port = read("--admin-port", flags.adminPort, port);
    config.management.enabled = true;
    delete config.management.tcp; // a plain HTTP listener, even beside management.ssl.*
  }
  if (flags.adminBind !== undefined) {
    config.management.ip = read("--admin-bind", flags.adminBind, host);
    config.management.enabled = true;
    delete config.management.tcp;
  }
  if (flags.metricsPort !== undefined) {
    config.prometheus.port = read("--metrics-port", flags.metricsPort, port);
    config.prometheus.enabled = true;
  }
  if (flags.metricsBind !== undefined) {
    config.prometheus.ip = read("--metrics-bind", flags.metricsBind, host);
    config.prometheus.enabled = true;
  }
  if (flags.dataDir !== undefined) {
    if (flags.dataDir === "") throw new ConfigError("--data-dir: the directory name is empty");
    config.dataDir = flags.dataDir;
  }
  if (flags.logLevel !== undefined) {
    config.logLevel = read("--log-level", flags.logLevel, logLevel);
  }
}

function wrap(text: string, indent: string, width = 98): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.length + word.length + 1 > width && line.trim() !== "") {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += (line.trim() === "" ? "" : " ") + word;
  }
  lines.push(line.trimEnd());
  return lines.join("\n");
}

function helpText(): string {
  const d = DEFAULT_CONFIG;
  const out: string[] = [
    "Configuration (precedence: flags > environment > config file > defaults):",
    "",
    "Flags:",
    `  --config FILE        config file in rabbitmq.conf format (".conf" may be left off)`,
    `  --port PORT          the AMQP listener's port (default ${d.listeners[0].port})`,
    `  --bind ADDRESS       the AMQP listener's address (default ${d.listeners[0].hostname}; ` +
    `:: for IPv6)`,
    `  --admin-port PORT    management HTTP port (default ${d.management.port})`,
    `  --admin-bind ADDRESS management HTTP address (default ${d.management.ip})`,
    `  --metrics-port PORT  Prometheus metrics HTTP port (default ${d.prometheus.port})`,
    `  --metrics-bind ADDRESS`,
    `                       Prometheus metrics HTTP address (default ${d.prometheus.ip})`,
    `  --data-dir DIR       data directory (default ${d.dataDir})`,
    `  --log-level LEVEL    debug, info, warn, error or none (default ${d.logLevel})`,
    "",
    "Environment (an empty variable counts as unset):",
    "  BROKER_CONFIG_FILE, RABBITMQ_CONFIG_FILE",
    "                       config file, when --config is not given",
    "  RABBITMQ_NODE_PORT   the AMQP listener's port (replaces the config file's listeners)",
    "  RABBITMQ_NODE_IP_ADDRESS",
    "                       the AMQP listener's address (auto = all interfaces)",
    "  RABBITMQ_LOG         log level, e.g. debug (RabbitMQ's LEVEL[,CATEGORY=LEVEL] form)",
    "  BROKER_DATA_DIR      data directory",
    "",
    "Config file keys (one 'key = value' per line, '#' comments):",
  ];
  for (const k of KEYS) {
    const key = k.key.replace("$name", "NAME").replace("*", "NAME");
    out.push(`  ${key} = ${k.value}`);
    const dflt = k.default === "-" ? "" : ` (default ${k.default})`;
    out.push(wrap(`${k.help}${dflt}`, "      "));
  }
  out.push(
    "",
    wrap(
      "Other RabbitMQ keys are accepted with a warning that broker does not use them: " +
        UNUSED_KEYS.join(", ") +
        " (log.*, management.* and prometheus.* other than the keys above). " +
        "Unknown keys are ignored with a warning.",
      "  ",
    ),
  );
  return out.join("\n");
}

/** The configuration reference `broker serve --help` appends: every key, variable and flag. */
export const CONFIG_HELP: string = helpText();
