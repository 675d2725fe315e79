/**
 * The control socket: a Unix socket in the data dir through which CLI commands reach a running
 * server. Its file mode (owner only, in an owner-only data dir) is the authority, as the Erlang
 * cookie is for rabbitmqctl. One JSON request line in, one JSON response line out.
 */
import { log } from "../log.ts";
import { OPS } from "./ops.ts";
import type { OpArgs } from "./ops.ts";
import { ServiceError } from "./service.ts";
import type { ControlService } from "./service.ts";

export const CONTROL_SOCKET_FILE = "control.sock";
/** Large enough for a definitions document of a big broker; one request or answer per line. */
const MAX_REQUEST = 512 * 1024 * 1024;

export interface ControlRequest {
  op: string;
  args: OpArgs;
}

export type ControlResponse =
  | { ok: true; result: unknown }
  | { ok: false; error: string; kind: string };

/** Runs one operation against a service, turning errors into a response. */
export function handleRequest(service: ControlService, req: ControlRequest): ControlResponse {
  const op = OPS[req.op];
  if (!op) return { ok: false, error: `unknown operation '${req.op}'`, kind: "invalid" };
  try {
    return { ok: true, result: op(service, req.args ?? {}) ?? null };
  } catch (err) {
    if (err instanceof ServiceError) return { ok: false, error: err.message, kind: err.kind };
    if (err instanceof TypeError) return { ok: false, error: err.message, kind: "invalid" };
    throw err;
  }
}

export class ControlListener {
  private constructor(
    private readonly listener: Deno.Listener,
    readonly path: string,
    private readonly service: ControlService,
  ) {
    this.serve();
  }

  /** Listens at `path`; refuses when another live server already answers there. */
  static async start(path: string, service: ControlService): Promise<ControlListener> {
    try {
      const probe = await Deno.connect({ transport: "unix", path });
      probe.close();
      throw new Error(`another broker is already running on this data dir (${path})`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.ConnectionRefused)) {
        throw err;
      }
    }
    try {
      Deno.removeSync(path);
    } catch { /* no stale socket */ }
    const listener = Deno.listen({ transport: "unix", path });
    Deno.chmodSync(path, 0o600);
    return new ControlListener(listener, path, service);
  }

  private async serve(): Promise<void> {
    try {
      for await (const conn of this.listener) this.handle(conn);
    } catch { /* closed */ }
  }

  private async handle(conn: Deno.Conn): Promise<void> {
    try {
      const line = await readLine(conn);
      let response: ControlResponse;
      try {
        const req = JSON.parse(line) as ControlRequest;
        response = handleRequest(this.service, req);
        if (
          response.ok && req.op !== "status" && !req.op.endsWith(".list") &&
          !req.op.startsWith("list.")
        ) {
          log.info("control operation", { op: req.op, name: req.args?.name ?? req.args?.user });
        }
      } catch (err) {
        response = { ok: false, error: `bad request: ${(err as Error).message}`, kind: "invalid" };
      }
      await writeAll(conn, new TextEncoder().encode(JSON.stringify(response) + "\n"));
    } catch (err) {
      log.warn("control request failed", { error: String(err) });
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }

  close(): void {
    try {
      this.listener.close();
    } catch { /* closed */ }
    try {
      Deno.removeSync(this.path);
    } catch { /* gone */ }
  }
}

async function readLine(conn: Deno.Conn): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(16 * 1024);
  while (true) {
    const n = await conn.read(buf);
    if (n === null) break;
    const chunk = buf.slice(0, n);
    const nl = chunk.indexOf(10);
    chunks.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
    total += n;
    if (nl >= 0) break;
    if (total > MAX_REQUEST) throw new Error("request too large");
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(out);
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/**
 * Sends one request to the server listening at `path`. Resolves to undefined when no server is
 * listening there (no socket, or a stale one).
 */
export async function callControl(
  path: string,
  req: ControlRequest,
): Promise<ControlResponse | undefined> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.ConnectionRefused) {
      return undefined;
    }
    throw err;
  }
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(req) + "\n"));
    return JSON.parse(await readLine(conn)) as ControlResponse;
  } finally {
    conn.close();
  }
}
