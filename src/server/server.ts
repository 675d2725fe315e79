/**
 * The broker process's network side: AMQP listeners that run a {@link Connection} per client over
 * one shared {@link Broker} model, the control socket for the CLI, and orderly shutdown.
 */
import type { Broker } from "../broker/broker.ts";
import { log, setLogLevel } from "../log.ts";
import type { LogLevel } from "../log.ts";
import { Connection } from "./connection.ts";
import { AlarmMonitor } from "./alarms.ts";
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

export const DEFAULT_OPTIONS: ServerOptions = {
  ...DEFAULT_CONFIG,
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
  /**
   * Memory and disk alarms, sampled from construction until close. Tests clear an alarm they
   * raised with a tiny watermark through `alarms.setMemoryHighWatermark`.
   */
  readonly alarms: AlarmMonitor;
  private closed = false;
  private readonly accepting: Promise<void>[];

  constructor(
    private readonly listeners: Deno.Listener<Deno.TcpConn, Deno.NetAddr>[],
    readonly broker: Broker,
    readonly store: MetadataStore,
    readonly messages: MessageStore | undefined,
    readonly options: ServerOptions,
  ) {
    this.alarms = new AlarmMonitor({
      memoryHighWatermark: options.memoryHighWatermark,
      diskFreeLimit: options.diskFreeLimit,
      dataDir: options.dataDir,
    }).start();
    this.service = new ControlService(broker, store, this);
    this.accepting = listeners.map((l) => this.acceptLoop(l));
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

  private async acceptLoop(listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>): Promise<void> {
    try {
      for await (const socket of listener) {
        const conn = new Connection(socket, this);
        this.connections.add(conn);
        conn.run();
      }
    } catch (err) {
      if (!this.closed) log.error("listener failed", { error: String(err) });
    }
  }

  connectionClosed(conn: Connection): void {
    this.connections.delete(conn);
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
    for (const l of this.listeners) {
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
    await this.messages?.close();
    this.store.close();
  }
}

/** Opens the data dir, starts the AMQP listeners and the control socket. */
export async function startServer(options: Partial<ServerOptions> = {}): Promise<BrokerServer> {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  setLogLevel(opts.logLevel);
  const { broker, store, messages } = openBroker(opts.dataDir, opts, { messages: true });
  const listeners: Deno.Listener<Deno.TcpConn, Deno.NetAddr>[] = [];
  try {
    const primary = opts.port < 0 ? [] : [{ hostname: opts.hostname, port: opts.port }];
    for (const a of [...primary, ...opts.extraListeners]) {
      listeners.push(Deno.listen({ port: a.port, hostname: a.hostname, transport: "tcp" }));
    }
  } catch (err) {
    for (const l of listeners) l.close();
    await messages?.close();
    store.close();
    throw err;
  }
  const server = new BrokerServer(listeners, broker, store, messages, opts);
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
        port: opts.management.port,
        hostname: opts.management.ip,
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
  for (const a of server.listenerAddresses()) log.info("AMQP listener started", { address: a });
  return server;
}
