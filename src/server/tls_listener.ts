/**
 * AMQPS listeners: a node:tls server, its sockets adapted to the read/write/close interface
 * {@link Connection} uses on Deno conns.
 *
 * Why not `Deno.listenTls` (Deno 2.9.6): it cannot ask for or verify client certificates, and a
 * connection closed before its TLS handshake is not closed at all (the TCP socket stays open
 * until the client sends something), so a client that connects and stays silent would hold a
 * socket forever. node:tls does both, and drops a handshake that takes longer than RabbitMQ's
 * ssl_handshake_timeout.
 *
 * Client certificates, as Erlang's ssl (RabbitMQ) does them: with `ssl_options.verify =
 * verify_peer` one is asked for, and one that does not chain to `ssl_options.cacertfile` is
 * refused; a client without one is refused only with `ssl_options.fail_if_no_peer_cert = true`.
 * With verify_none (the default) none is asked for.
 */
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import type { ListenerAddress } from "../config/types.ts";
import { log } from "../log.ts";
import type { AmqpListener, AmqpsSettings, ClientSocket } from "./tls.ts";

/** RabbitMQ's ssl_handshake_timeout default: a TLS handshake must end within this. */
const TLS_HANDSHAKE_TIMEOUT_MS = 5000;
/** Reading from a socket pauses while this many received bytes wait for the connection. */
const MAX_BUFFERED = 1024 * 1024;
/** How long a closing socket may take to send what is written before it is cut off. */
const CLOSE_GRACE_MS = 1000;

/** Listens on `address`; resolves once listening, rejects when the address cannot be bound. */
export function listenTls(
  address: ListenerAddress,
  settings: AmqpsSettings,
): Promise<AmqpListener> {
  const server = tls.createServer({
    cert: settings.cert,
    key: settings.key,
    ca: settings.caCerts,
    requestCert: settings.verifyPeer,
    rejectUnauthorized: settings.failIfNoPeerCert,
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  });
  const listener = new TlsListener(server);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.hostname, () => {
      server.off("error", reject);
      server.on("error", (err) => log.error("AMQPS listener failed", { error: String(err) }));
      resolve(listener);
    });
  });
}

class TlsListener implements AmqpListener {
  private readonly accepted: ClientSocket[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly server: tls.Server) {
    server.on("secureConnection", (socket: TLSSocket) => {
      if (!socket.authorized && hasCertificate(socket)) {
        // Only reached without fail_if_no_peer_cert (rejectUnauthorized does it otherwise).
        log.debug("TLS client certificate refused", {
          peer: `${socket.remoteAddress}:${socket.remotePort}`,
          error: String(socket.authorizationError),
        });
        socket.destroy();
        return;
      }
      this.accepted.push(new NodeTlsSocket(socket));
      this.notify();
    });
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      log.debug("TLS handshake failed", {
        peer: `${socket.remoteAddress}:${socket.remotePort}`,
        error: String(err),
      });
      socket.destroy(); // Deno's node:tls leaves a timed-out one open
    });
  }

  get addr(): Deno.NetAddr {
    const a = this.server.address();
    if (a === null || typeof a === "string") throw new Deno.errors.BadResource("not listening");
    return { transport: "tcp", hostname: a.address, port: a.port };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ClientSocket> {
    for (;;) {
      const next = this.accepted.shift();
      if (next) yield next;
      else if (this.closed) return;
      else await new Promise<void>((resolve) => this.wake = resolve);
    }
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource("listener closed");
    this.closed = true;
    this.server.close();
    for (const s of this.accepted.splice(0)) s.close();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Whether the client sent a certificate (node gives an empty object when it did not). */
function hasCertificate(socket: TLSSocket): boolean {
  const cert = socket.getPeerCertificate();
  return cert !== undefined && cert !== null && Object.keys(cert).length > 0;
}

/** A node:tls socket with Deno.Conn's read/write/close, as {@link Connection} reads and writes. */
class NodeTlsSocket implements ClientSocket {
  readonly remoteAddr: Deno.NetAddr;
  readonly localAddr: Deno.NetAddr;
  private readonly chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: TLSSocket) {
    this.remoteAddr = netAddr(socket.remoteAddress, socket.remotePort);
    this.localAddr = netAddr(socket.localAddress, socket.localPort);
    socket.setNoDelay(true); // as Connection does for plain TCP: no Nagle delay on small replies
    socket.on("data", (chunk: Uint8Array) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered >= MAX_BUFFERED) socket.pause();
      this.notify();
    });
    socket.on("end", () => this.finish());
    socket.on("close", () => this.finish());
    socket.on("error", (err: Error) => {
      this.failure ??= err;
      this.notify();
    });
  }

  async read(buf: Uint8Array): Promise<number | null> {
    while (this.chunks.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => this.wake = resolve);
    }
    let n = 0;
    while (n < buf.length && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length, buf.length - n);
      buf.set(chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
    }
    this.buffered -= n;
    if (this.buffered < MAX_BUFFERED && this.socket.isPaused()) this.socket.resume();
    return n;
  }

  /** Resolves once node has taken the bytes (the caller may then reuse `data`'s buffer). */
  write(data: Uint8Array): Promise<number> {
    if (this.socket.destroyed || this.socket.writableEnded) {
      return Promise.reject(new Deno.errors.BrokenPipe("TLS socket closed"));
    }
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => err ? reject(err) : resolve(data.length));
    });
  }

  /**
   * Sends what is written, then TLS close_notify, then closes; a peer that does not take the
   * data (a full send buffer) is cut off after {@link CLOSE_GRACE_MS}.
   */
  close(): void {
    if (this.socket.destroyed || this.socket.writableEnded) {
      throw new Deno.errors.BadResource("TLS socket closed");
    }
    const cutOff = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.socket.once("close", () => clearTimeout(cutOff));
    this.socket.end(() => this.socket.destroy());
    this.finish();
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function netAddr(hostname: string | undefined, port: number | undefined): Deno.NetAddr {
  return { transport: "tcp", hostname: hostname ?? "", port: port ?? 0 };
}
