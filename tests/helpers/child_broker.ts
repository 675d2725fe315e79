/**
 * Runs the broker as a child process (`deno run -A main.ts serve`) on a data dir, for tests that
 * must kill it for real (SIGKILL mid-stream, SIGTERM/SIGINT shutdown) and start it again on the
 * same data dir.
 *
 *   const dataDir = await Deno.makeTempDir({ prefix: "broker-durability-" });
 *   const broker = await startChildBroker({ dataDir });
 *   try {
 *     // ... amqp.connect(broker.url) ...
 *     broker.kill("SIGKILL");
 *     await broker.exited;
 *     const again = await startChildBroker({ dataDir }); // same data dir, a new port
 *   } finally {
 *     await broker.stop();
 *   }
 *
 * The child is the real `deno` binary ({@link Deno.execPath}), not a shell or a task runner, so a
 * signal sent with {@link ChildBroker.kill} reaches the broker process itself. Its stderr (the log)
 * is captured and can be waited on with {@link ChildBroker.waitForLog}.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ROOT = new URL("../..", import.meta.url).pathname;

/** Picks a loopback port that is free now (bound to port 0, then released). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface ChildBrokerOptions {
  /** The data dir (kept across restarts; the caller creates and removes it). */
  dataDir: string;
  /** The AMQP port; a free one is picked when omitted. */
  port?: number;
  /** How long to wait for the listener, in ms (default 10 s). */
  startMs?: number;
  /** A rabbitmq.conf file for the broker (BROKER_CONFIG_FILE); none by default. */
  configFile?: string;
}

/** A broker running in a child process. */
export class ChildBroker {
  /** Everything the child wrote to stderr (its log) and stdout so far. */
  output = "";
  /** Resolves with the exit status once the process has ended (and its output is read). */
  readonly exited: Promise<Deno.CommandStatus>;
  #status: Deno.CommandStatus | undefined;
  #waiters: (() => void)[] = [];

  constructor(
    readonly process: Deno.ChildProcess,
    readonly port: number,
    readonly dataDir: string,
  ) {
    const readers = [this.#read(process.stderr), this.#read(process.stdout)];
    this.exited = Promise.all([process.status, ...readers]).then(([status]) => {
      this.#status = status;
      this.#wake();
      return status;
    });
  }

  /** `amqp://guest:guest@127.0.0.1:PORT/` */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  /** The broker's process id. */
  get pid(): number {
    return this.process.pid;
  }

  /**
   * A memory figure of the broker process from /proc/PID/status, in KiB: `VmRSS` (resident now)
   * by default, or e.g. `VmHWM` (the peak resident size so far). Undefined once it has exited.
   */
  memoryKiB(field: "VmRSS" | "VmHWM" = "VmRSS"): number | undefined {
    try {
      const status = Deno.readTextFileSync(`/proc/${this.pid}/status`);
      const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  }

  /** How many sockets the broker process has open (listeners included), from /proc/PID/fd. */
  openSockets(): number {
    let n = 0;
    for (const fd of Deno.readDirSync(`/proc/${this.pid}/fd`)) {
      try {
        if (Deno.readLinkSync(`/proc/${this.pid}/fd/${fd.name}`).startsWith("socket:")) n++;
      } catch { /* closed meanwhile */ }
    }
    return n;
  }

  /** The exit status, once the process has ended. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  async #read(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.output += dec.decode(chunk, { stream: true });
        this.#wake();
      }
    } catch { /* the pipe broke with the process */ }
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when the log matches `re` (returns the match); rejects after `ms` or on exit. */
  async waitForLog(re: RegExp, ms = 5000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (this.#status) {
        throw new Error(
          `broker exited (${this.#status.code}) before logging ${re}:\n${this.output}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${re} in the broker log:\n${this.output}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a signal to the broker process (ignored once it has exited). */
  kill(signal: Deno.Signal): void {
    if (this.#status) return;
    try {
      this.process.kill(signal);
    } catch { /* already gone */ }
  }

  /** Resolves with the exit status, or rejects when the process is still running after `ms`. */
  waitExit(ms = 5000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`broker still running ${ms} ms later:\n${this.output}`)),
        ms,
      );
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  /** SIGKILLs the process unless it has already exited, and waits (5 s at most). Never throws. */
  async stop(): Promise<void> {
    this.kill("SIGKILL");
    await this.waitExit(5000).catch(() => {});
  }
}

/**
 * Starts `deno run -A main.ts serve` on `dataDir` and resolves once it logs that its AMQP listener
 * is up and the port accepts connections. Retries with another port if the picked one was taken
 * in between (the broker then exits at once).
 */
export async function startChildBroker(options: ChildBrokerOptions): Promise<ChildBroker> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? freePort();
    const child = spawn(port, options);
    try {
      await child.waitForLog(/AMQP listener started/, options.startMs ?? 10_000);
      await waitAccepting(port, 2000);
      return child;
    } catch (err) {
      lastError = err;
      await child.stop();
      if (options.port !== undefined) break;
    }
  }
  throw lastError;
}

function spawn(port: number, options: ChildBrokerOptions): ChildBroker {
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "serve",
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      // The management HTTP API on a free loopback port too, never the shared 15672.
      "--admin-port",
      String(freePort()),
      "--admin-bind",
      "127.0.0.1",
      // Metrics on a free loopback port, unless the test's config file says where (or off).
      ...(options.configFile
        ? []
        : ["--metrics-port", String(freePort()), "--metrics-bind", "127.0.0.1"]),
      "--data-dir",
      options.dataDir,
      "--log-level",
      "info", // the readiness and recovery lines are info
    ],
    cwd: ROOT,
    // Empty means unset to the broker: nothing from the test's environment configures it.
    env: {
      BROKER_CONFIG_FILE: options.configFile ?? "",
      RABBITMQ_CONFIG_FILE: "",
      RABBITMQ_NODE_PORT: "",
      RABBITMQ_NODE_IP_ADDRESS: "",
      RABBITMQ_LOG: "",
      BROKER_DATA_DIR: "",
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new ChildBroker(process, port, options.dataDir);
}

async function waitAccepting(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Runs `fn` with a fresh temp data dir, removed afterwards. */
export async function withDataDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "broker-durability-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The segment files of the message store in `dataDir` (name and size), by name. */
export function segmentFiles(dataDir: string): { name: string; size: number }[] {
  const dir = `${dataDir}/messages`;
  const out: { name: string; size: number }[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile) out.push({ name: e.name, size: Deno.statSync(`${dir}/${e.name}`).size });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
