/**
 * The broker process's network side: AMQP listeners that run a {@link Connection} per client over
 * one shared {@link Broker} model, the control socket for the CLI, and orderly shutdown.
 */
import type { Broker } from "../broker/broker.ts";
import { log, setLogFormat, setLogLevel } from "../log.ts";
import type { LogLevel } from "../log.ts";
import { Connection } from "./connection.ts";
import { AlarmMonitor } from "./alarms.ts";
import { IdleCollector } from "./idle_gc.ts";
import { VERSION } from "../version.ts";
import { DEFAULT_CONFIG } from "../config/types.ts";
import type { BrokerConfig, ListenerAddress } from "../config/types.ts";
import { openBroker } from "../control/bootstrap.ts";
import { ControlService } from "../control/service.ts";
import type { LiveServer } from "../control/service.ts";
import { CONTROL_SOCKET_FILE, ControlListener } from "../control/socket.ts";
import type { MetadataStore } from "../store/metadata.ts";
import type { MessageStore } from "../store/message_store.ts";
import { AdminServer } from "../admin/server.ts";
import { amqpsSettings, readCertifiedKey } from "./tls.ts";
import type { AmqpListener } from "./tls.ts";
import { listenTls } from "./tls_listener.ts";
import { MetricsServer } from "../metrics/server.ts";
import { NodeTotals } from "../metrics/totals.ts";

export interface ServerOptions extends Omit<BrokerConfig, "listeners" | "dataDir"> {
  /** The first AMQP listener (port 0 picks a free one, as tests do; -1: none). */
  port: number;
  hostname: string;
  /** More AMQP listeners (listeners.tcp.NAME). */
  extraListeners: ListenerAddress[];
  /** Where the metadata store and control socket live; undefined keeps everything in memory. */
  dataDir: string | undefined;
  logLevel: LogLevel;
  product: string;
  version: string;
  clusterName: string;
}

/**
 * Defaults for {@link startServer}. Started from code (tests, embedding), the broker opens no HTTP
 * server unless asked: management and metrics are off here. `broker serve` passes the whole
 * configuration ({@link optionsFromConfig}), where both are on by default.
 */
export const DEFAULT_OPTIONS: ServerOptions = {
  ...DEFAULT_CONFIG,
  management: { ...DEFAULT_CONFIG.management, enabled: false },
  prometheus: { ...DEFAULT_CONFIG.prometheus, enabled: false },
  port: DEFAULT_CONFIG.listeners[0].port,
  hostname: DEFAULT_CONFIG.listeners[0].hostname,
  extraListeners: [],
  dataDir: undefined,
  product: "broker",
  version: VERSION,
  clusterName: "broker@localhost",
};

/** ServerOptions from merged configuration (the first listener is the primary one). */
export function optionsFromConfig(config: BrokerConfig): ServerOptions {
  const [first, ...rest] = config.listeners;
  return {
    ...DEFAULT_OPTIONS,
    ...config,
    port: first?.port ?? -1,
    hostname: first?.hostname ?? DEFAULT_OPTIONS.hostname,
    extraListeners: rest,
    dataDir: config.dataDir,
  };
}

export class BrokerServer implements LiveServer {
  readonly connections = new Set<Connection>();
  readonly startedAt = Date.now();
  readonly service: ControlService;
  private control: ControlListener | undefined;
  /** The management HTTP server, when management.enabled. */
  admin: AdminServer | undefined;
  /** The Prometheus metrics HTTP server, when prometheus.enabled. */
  metrics: MetricsServer | undefined;
  /** Since-start totals of what has ended (connections, channels, their message counts). */
  readonly totals = new NodeTotals();
  /**
   * Memory and disk alarms, sampled from construction until close. Tests clear an alarm they
   * raised with a tiny watermark through `alarms.setMemoryHighWatermark`.
   */
  readonly alarms: AlarmMonitor;
  /**
   * Socket reads and writes by all client connections: the idle collector's sign of traffic
   * (writes too, so that draining a backlog to consumers that send nothing back is not "idle").
   */
  socketIo = 0;
  private readonly idleCollector = new IdleCollector(() => this.socketIo).start();
  private closed = false;
  private readonly accepting: Promise<void>[];

  constructor(
    private readonly listeners: AmqpListener[],
    readonly broker: Broker,
    readonly store: MetadataStore,
    readonly messages: MessageStore | undefined,
    readonly options: ServerOptions,
    /** AMQPS listeners (listeners.ssl.NAME); their connections are TLS ones. */
    private readonly tlsListeners: AmqpListener[] = [],
  ) {
    this.alarms = new AlarmMonitor({
      memoryHighWatermark: options.memoryHighWatermark,
      diskFreeLimit: options.diskFreeLimit,
      dataDir: options.dataDir,
    }).start();
    this.service = new ControlService(broker, store, this);
    this.accepting = [
      ...listeners.map((l) => this.acceptLoop(l, false)),
      ...tlsListeners.map((l) => this.acceptLoop(l, true)),
    ];
  }

  /** The first listener's port. */
  get port(): number {
    return this.listeners[0]?.addr.port ?? -1;
  }

  /** The management HTTP server's port (-1 when it is off). */
  get adminPort(): number {
    return this.admin?.port ?? -1;
  }

  listenerAddresses(): string[] {
    return this.listeners.map((l) => `${l.addr.hostname}:${l.addr.port}`);
  }

  /** The AMQPS listeners' addresses, as {@link listenerAddresses}. */
  tlsListenerAddresses(): string[] {
    return this.tlsListeners.map((l) => `${l.addr.hostname}:${l.addr.port}`);
  }

  private async acceptLoop(listener: AmqpListener, tls: boolean): Promise<void> {
    try {
      for await (const socket of listener) {
        if (this.connections.size >= this.options.connectionMax) {
          refuseOverConnectionMax(socket, this.options.connectionMax);
          continue;
        }
        const conn = new Connection(socket, this, tls);
        this.connections.add(conn);
        log.debug("accepting AMQP connection", { connection: conn.name });
        conn.run();
      }
    } catch (err) {
      if (!this.closed) log.error("listener failed", { error: String(err) });
    }
  }

  connectionClosed(conn: Connection): void {
    if (this.connections.delete(conn) && conn.vhost) this.totals.connectionClosed();
  }

  async startControlSocket(dataDir: string): Promise<void> {
    this.control = await ControlListener.start(`${dataDir}/${CONTROL_SOCKET_FILE}`, this.service);
  }

  /** Stops accepting, closes every client with 320 CONNECTION_FORCED, and waits briefly. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.control?.close();
    await this.admin?.close();
    await this.metrics?.close();
    for (const l of [...this.listeners, ...this.tlsListeners]) {
      try {
        l.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.accepting);
    for (const c of [...this.connections]) {
      c.forceClose("broker forced connection closure with reason 'shutdown'");
    }
    const deadline = Date.now() + 2000;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of [...this.connections]) c.terminate();
    this.alarms.close();
    this.idleCollector.stop();
    await this.messages?.close();
    this.store.close();
  }
}

/**
 * Past connection_max a new TCP connection is closed at once, before any AMQP byte, with a log
 * line; open connections are not touched. (RabbitMQ 3.10 stops accepting instead, so such clients
 * hang until one closes; failing fast is kinder to them.)
 */
function refuseOverConnectionMax(
  socket: { remoteAddr: Deno.Addr; close(): void },
  max: number,
): void {
  const peer = socket.remoteAddr as Deno.NetAddr;
  log.warn(`connection refused: connection limit (${max}) reached`, {
    peer: `${peer.hostname}:${peer.port}`,
  });
  try {
    socket.close();
  } catch { /* already closed */ }
}

/** Opens the data dir, starts the AMQP listeners and the control socket. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<BrokerServer> {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  setLogLevel(opts.logLevel);
  setLogFormat(opts.logFormat);
  // TLS files are read first: a bad one refuses the start before the data dir is opened.
  const amqps = opts.ssl.listeners.length > 0 ? amqpsSettings(opts.ssl.options) : undefined;
  const managementSsl = opts.management.enabled ? opts.management.ssl : undefined;
  const managementTls = managementSsl && readCertifiedKey(managementSsl, "management.ssl");
  const { broker, store, messages } = openBroker(opts.dataDir, opts, { messages: true });
  const listeners: AmqpListener[] = [];
  const tlsListeners: AmqpListener[] = [];
  try {
    const primary = opts.port < 0 ? [] : [{ hostname: opts.hostname, port: opts.port }];
    for (const a of [...primary, ...opts.extraListeners]) {
      listeners.push(Deno.listen({ port: a.port, hostname: a.hostname, transport: "tcp" }));
    }
    if (amqps && amqps.unused.length > 0) {
      log.warn("ssl_options keys not used by broker", { keys: amqps.unused.join(", ") });
    }
    for (const a of amqps ? opts.ssl.listeners : []) {
      tlsListeners.push(await listenTls(a, amqps!.settings));
    }
  } catch (err) {
    for (const l of [...listeners, ...tlsListeners]) l.close();
    await messages?.close();
    store.close();
    throw err;
  }
  const server = new BrokerServer(listeners, broker, store, messages, opts, tlsListeners);
  if (opts.dataDir !== undefined) {
    try {
      await server.startControlSocket(opts.dataDir);
    } catch (err) {
      await server.close();
      throw err;
    }
  }
  if (opts.management.enabled) {
    try {
      server.admin = AdminServer.start(server.service, {
        // Only management.ssl.* configured: HTTPS only, as in RabbitMQ.
        port: opts.management.tcp === false ? -1 : opts.management.port,
        hostname: opts.management.ip,
        tls: managementSsl && {
          port: managementSsl.port,
          hostname: managementSsl.ip,
          ...managementTls!,
        },
        loopbackUsers: opts.loopbackUsers,
        product: opts.product,
        version: opts.version,
        clusterName: opts.clusterName,
        memoryHighWatermark: opts.memoryHighWatermark,
        diskFreeLimit: opts.diskFreeLimit,
        dataDir: opts.dataDir,
      });
    } catch (err) {
      // A busy management port must not keep the broker from serving AMQP (as with several
      // brokers on one host): it runs without the HTTP API, and says so.
      if (!(err instanceof Deno.errors.AddrInUse)) {
        await server.close();
        throw err;
      }
      log.error("management HTTP API not started: address in use", {
        address: `${opts.management.ip}:${opts.management.port}`,
      });
    }
  }
  if (opts.prometheus.enabled) {
    try {
      server.metrics = MetricsServer.start(server, {
        port: opts.prometheus.port,
        hostname: opts.prometheus.ip,
        perObject: opts.prometheus.perObject,
      });
    } catch (err) {
      // As with the management port: a busy metrics port leaves the broker serving AMQP.
      if (!(err instanceof Deno.errors.AddrInUse)) {
        await server.close();
        throw err;
      }
      log.error("Prometheus metrics not started: address in use", {
        address: `${opts.prometheus.ip}:${opts.prometheus.port}`,
      });
    }
  }
  for (const a of server.listenerAddresses()) log.info("AMQP listener started", { address: a });
  for (const a of server.tlsListenerAddresses()) {
    log.info("AMQPS (TLS) listener started", { address: a });
  }
  return server;
}
