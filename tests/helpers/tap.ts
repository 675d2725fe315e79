/**
 * A TCP proxy on 127.0.0.1 that forwards to the broker and records both directions of every
 * connection, so tests can inspect the frames on the wire:
 *
 *   const tap = new Tap({ hostname: "127.0.0.1", port: broker.port });
 *   const conn = await amqp.connect(tap.url(broker.url));
 *   // tap.sessions[0].up: what the client sent; tap.sessions[0].down: what the broker sent
 *   await tap.close();
 */
export class Tap {
  readonly sessions: { up: Uint8Array[]; down: Uint8Array[] }[] = [];
  #listener: Deno.TcpListener;
  #target: { hostname: string; port: number };
  #conns: Deno.Conn[] = [];
  #tasks: Promise<void>[] = [];
  #accepting: Promise<void>;

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  /** The broker URL with the host and port replaced by the tap's. */
  url(brokerUrl: string, query = ""): string {
    const u = new URL(brokerUrl);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString() + query;
  }

  async #accept() {
    try {
      for await (const client of this.#listener) {
        const server = await Deno.connect(this.#target);
        this.#conns.push(client, server);
        const session = { up: [] as Uint8Array[], down: [] as Uint8Array[] };
        this.sessions.push(session);
        this.#tasks.push(this.#pump(client, server, session.up));
        this.#tasks.push(this.#pump(server, client, session.down));
      }
    } catch {
      // listener closed
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn, record: Uint8Array[]) {
    const buf = new Uint8Array(256 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        const chunk = buf.slice(0, n);
        record.push(chunk);
        let off = 0;
        while (off < chunk.length) off += await to.write(chunk.subarray(off));
      }
    } catch {
      // either side closed
    }
    try {
      from.close();
    } catch { /* already closed */ }
    try {
      to.close();
    } catch { /* already closed */ }
  }

  async close() {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await this.#accepting;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#tasks);
  }
}
