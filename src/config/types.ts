/**
 * The broker's settings after flags, environment, config file and defaults are merged
 * (precedence in that order). {@link DEFAULT_CONFIG} holds RabbitMQ's defaults.
 */
import type { LogFormat, LogLevel } from "../log.ts";

export interface ListenerAddress {
  hostname: string;
  port: number;
}

/** The management HTTPS listener (management.ssl.port, .ip and the PEM files). */
export interface ManagementTls {
  port: number;
  ip: string;
  certfile?: string;
  keyfile?: string;
  cacertfile?: string;
}

export interface PermissionSet {
  configure: string;
  write: string;
  read: string;
}

export interface BrokerConfig {
  /** AMQP listeners (listeners.tcp.default / listeners.tcp.NAME; RABBITMQ_NODE_PORT/IP; --port/--bind). */
  listeners: ListenerAddress[];
  /** Users that may connect only from loopback addresses (loopback_users.NAME; `none` empties it). */
  loopbackUsers: string[];
  defaultUser: string;
  defaultPass: string;
  defaultVhost: string;
  defaultUserTags: string[];
  defaultPermissions: PermissionSet;
  /** Seconds; 0 disables. */
  heartbeat: number;
  frameMax: number;
  channelMax: number;
  /** Most client connections at once (connection_max); Infinity: no limit. */
  connectionMax: number;
  maxMessageSize: number;
  /** Milliseconds; `handshake_timeout = infinity` is stored as 2147483647 (the largest timer delay). */
  handshakeTimeoutMs: number;
  /**
   * Milliseconds a delivery may stay unacknowledged before its channel is closed with 406
   * PRECONDITION_FAILED (consumer_timeout; RabbitMQ's default is 30 minutes).
   */
  consumerTimeoutMs: number;
  management: {
    enabled: boolean;
    port: number;
    ip: string;
    /**
     * false: no plain HTTP listener, because only management.ssl.* keys configure the listeners
     * (RabbitMQ then serves HTTPS only).
     */
    tcp?: boolean;
    /** management.ssl.*: an HTTPS listener. */
    ssl?: ManagementTls;
  };
  logLevel: LogLevel;
  /** log.console.formatter: plaintext lines or one JSON object per line. */
  logFormat: LogFormat;
  /**
   * The Prometheus metrics HTTP server (rabbitmq_prometheus: prometheus.tcp.*,
   * prometheus.return_per_object_metrics; `enabled` is a broker key).
   */
  prometheus: { enabled: boolean; port: number; ip: string; perObject: boolean };
  /** vm_memory_high_watermark.relative (fraction of RAM) or .absolute (bytes). */
  memoryHighWatermark: { relative?: number; absolute?: number };
  /** disk_free_limit.absolute (bytes) or .relative (ratio to total RAM). */
  diskFreeLimit: { absolute?: number; relative?: number };
  /** AMQPS listeners (listeners.ssl.NAME) and their TLS options (ssl_options.*). */
  ssl: { listeners: ListenerAddress[]; options: Record<string, string> };
  dataDir: string;
}

export const DEFAULT_CONFIG: BrokerConfig = {
  listeners: [{ hostname: "0.0.0.0", port: 5672 }],
  loopbackUsers: ["guest"],
  defaultUser: "guest",
  defaultPass: "guest",
  defaultVhost: "/",
  defaultUserTags: ["administrator"],
  defaultPermissions: { configure: ".*", write: ".*", read: ".*" },
  heartbeat: 60,
  frameMax: 131072,
  channelMax: 2047,
  connectionMax: Infinity,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  consumerTimeoutMs: 1_800_000,
  management: { enabled: true, port: 15672, ip: "0.0.0.0" },
  logLevel: "info",
  logFormat: "plaintext",
  prometheus: { enabled: true, port: 15692, ip: "0.0.0.0", perObject: false },
  memoryHighWatermark: { relative: 0.6 },
  diskFreeLimit: { absolute: 50_000_000 },
  ssl: { listeners: [], options: {} },
  dataDir: "./data",
};
