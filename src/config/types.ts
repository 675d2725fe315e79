/**
 * The broker's settings after flags, environment, config file and defaults are merged
 * (precedence in that order). {@link DEFAULT_CONFIG} holds RabbitMQ's defaults.
 */
import type { LogLevel } from "../log.ts";

export interface ListenerAddress {
  hostname: string;
  port: number;
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
  maxMessageSize: number;
  /** Milliseconds; `handshake_timeout = infinity` is stored as 2147483647 (the largest timer delay). */
  handshakeTimeoutMs: number;
  /**
   * Milliseconds a delivery may stay unacknowledged before its channel is closed with 406
   * PRECONDITION_FAILED (consumer_timeout; RabbitMQ's default is 30 minutes).
   */
  consumerTimeoutMs: number;
  management: { enabled: boolean; port: number; ip: string };
  logLevel: LogLevel;
  /** vm_memory_high_watermark.relative (fraction of RAM) or .absolute (bytes). */
  memoryHighWatermark: { relative?: number; absolute?: number };
  /** disk_free_limit.absolute (bytes) or .relative (ratio to total RAM). */
  diskFreeLimit: { absolute?: number; relative?: number };
  /** listeners.ssl.* and ssl_options.* (used by the TLS listener; accepted and kept now). */
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
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  consumerTimeoutMs: 1_800_000,
  management: { enabled: true, port: 15672, ip: "0.0.0.0" },
  logLevel: "info",
  memoryHighWatermark: { relative: 0.6 },
  diskFreeLimit: { absolute: 50_000_000 },
  ssl: { listeners: [], options: {} },
  dataDir: "./data",
};
