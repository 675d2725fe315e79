/**
 * The AMQP listener: accepts TCP connections and runs a {@link Connection} for each, over one
 * shared {@link Broker} model.
 */
import { Broker } from "../broker/broker.ts";
import { log, setLogLevel } from "../log.ts";
import type { LogLevel } from "../log.ts";
import { Connection } from "./connection.ts";
import { VERSION } from "../version.ts";

export interface ServerOptions {
  port: number;
  hostname: string;
  logLevel: LogLevel;
  /** Largest frame we accept and offer in connection.tune (RabbitMQ: 131072). */
  frameMax: number;
  /** Channels per connection offered in connection.tune (RabbitMQ: 2047). */
  channelMax: number;
  /** Heartbeat interval in seconds offered in connection.tune (RabbitMQ: 60). */
  heartbeat: number;
  /** Largest message body accepted (RabbitMQ 3.10: 128 MiB). */
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  /** Whether users in LOOPBACK_USERS (guest) may connect only from loopback addresses. */
  loopbackUsers: boolean;
  product: string;
  version: string;
  clusterName: string;
}

export const DEFAULT_OPTIONS: ServerOptions = {
  port: 5672,
  hostname: "0.0.0.0",
  logLevel: "info",
  frameMax: 131072,
  channelMax: 2047,
  heartbeat: 60,
  maxMessageSize: 128 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  loopbackUsers: true,
  product: "broker",
  version: VERSION,
  clusterName: "broker@localhost",
};

export class BrokerServer {
  readonly connections = new Set<Connection>();
  private closed = false;
  private readonly accepting: Promise<void>;

  constructor(
    private readonly listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>,
    readonly broker: Broker,
    readonly options: ServerOptions,
  ) {
    this.accepting = this.acceptLoop();
  }

  get port(): number {
    return this.listener.addr.port;
  }

  private async acceptLoop(): Promise<void> {
    try {
      for await (const socket of this.listener) {
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

  /** Stops accepting, closes every client with 320 CONNECTION_FORCED, and waits briefly. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.listener.close();
    } catch { /* already closed */ }
    await this.accepting;
    for (const c of [...this.connections]) {
      c.forceClose("broker forced connection closure with reason 'shutdown'");
    }
    const deadline = Date.now() + 2000;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const c of [...this.connections]) c.terminate();
  }
}

export function startServer(options: Partial<ServerOptions> = {}): Promise<BrokerServer> {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  setLogLevel(opts.logLevel);
  const listener = Deno.listen({ port: opts.port, hostname: opts.hostname, transport: "tcp" });
  const server = new BrokerServer(listener, new Broker(), opts);
  log.info("AMQP listener started", { address: `${opts.hostname}:${server.port}` });
  return Promise.resolve(server);
}
