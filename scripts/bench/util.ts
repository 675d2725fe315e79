/**
 * Small helpers shared by the benchmark scenarios: connecting, timing, RSS, free ports.
 *
 * @module
 */
import { AMQPClient } from "@cloudamqp/amqp-client";

/** Name and version of the AMQP client library every scenario uses. */
export const CLIENT_NAME = "@cloudamqp/amqp-client 4 (npm)";

/** The benchmark's own minimal client (wire.ts), used for producers and consumers by default. */
export const WIRE_CLIENT_NAME = "bench wire client (scripts/bench/wire.ts)";

/** The frame_max the benchmark clients ask for (RabbitMQ's default); the client's own is 8 KiB. */
export const FRAME_MAX = 131072;

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now();

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable between workers (each has
 * its own `performance.now()` origin). Used for the timestamp carried in message bodies.
 */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Adds `frameMax` to an amqp:// URI unless it already names one. */
export function withFrameMax(uri: string): string {
  const u = new URL(uri);
  if (!u.searchParams.has("frameMax")) u.searchParams.set("frameMax", String(FRAME_MAX));
  return u.toString();
}

/** Opens a connection with the benchmark's settings; errors are collected into `errors`. */
export async function connect(uri: string, errors: string[], name = "bench"): Promise<AMQPClient> {
  const u = new URL(withFrameMax(uri));
  u.searchParams.set("name", name);
  const client = new AMQPClient(u.toString());
  client.onerror = (e) => errors.push(`${name}: ${e.message}`);
  await client.connect();
  // Like PerfTest and the Java client: no Nagle delay on the client's side of the socket.
  client.socket?.setNoDelay(true);
  return client;
}

/** Closes a connection, ignoring errors (the broker may already have closed it). */
export async function closeQuietly(client: AMQPClient | undefined): Promise<void> {
  if (!client || client.closed) return;
  try {
    await Promise.race([client.close(), sleep(3000)]);
  } catch {
    // already closed
  }
}

/** Reads `VmRSS` (or another `Vm*` field) of a process from /proc, in KiB; undefined if gone. */
export function readVm(pid: number, field = "VmRSS"): number | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/status`);
    const m = text.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds the pid of the process listening on a local TCP port by matching the socket inode of
 * /proc/net/tcp{,6} against /proc/PID/fd links. Needs permission to read other processes' fds.
 */
export function findListenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1].split(":")[1], 16);
      if (localPort === port && cols[3] === "0A") inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${entry.name}/fd`)) {
        try {
          const link = Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`);
          const m = link.match(/^socket:\[(\d+)\]$/);
          if (m && inodes.has(m[1])) return Number(entry.name);
        } catch {
          // fd closed meanwhile
        }
      }
    } catch {
      // process gone or not ours
    }
  }
  return undefined;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True once a TCP connection to host:port succeeds. */
export async function portAccepts(hostname: string, port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ hostname, port });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** Host and port of an amqp:// URI (5672 when the port is left out). */
export function hostPort(uri: string): { hostname: string; port: number } {
  const u = new URL(uri);
  return { hostname: u.hostname || "127.0.0.1", port: u.port ? Number(u.port) : 5672 };
}

/** Refuses URIs that point anywhere but this machine: the benchmark only talks to loopback. */
export function assertLoopback(uri: string): void {
  const { hostname } = hostPort(uri);
  if (!["127.0.0.1", "localhost", "[::1]", "::1"].includes(hostname)) {
    throw new Error(`refusing to benchmark ${hostname}: only 127.0.0.1/localhost are allowed`);
  }
}

/** A short random id so concurrent runs do not share queue names. */
export function runId(): string {
  return Math.floor(Math.random() * 0xffffffff).toString(36);
}

/** Rounds for display. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
