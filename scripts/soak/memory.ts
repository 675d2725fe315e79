/**
 * The broker's memory over a soak run: where to read it from, and a sampler that keeps the series.
 *
 * Sources: a pid's VmRSS from /proc (a broker the soak started, `--broker-pid`, or the local
 * process listening on the AMQP port), or the management API's `/api/nodes` `mem_used`
 * (`--admin-url`; RabbitMQ reports its own memory accounting there, not RSS).
 *
 * @module
 */
import { readVm } from "../bench/util.ts";

/** One way of reading the broker's memory, in KiB. */
export interface MemorySource {
  /** What is read, for the report: "VmRSS of pid 123" or "mem_used from http://…". */
  readonly label: string;
  read(): Promise<number | undefined>;
}

/** VmRSS of a local process. */
export function procRss(pid: number): MemorySource {
  return {
    label: `VmRSS of pid ${pid}`,
    read: () => Promise.resolve(readVm(pid)),
  };
}

/**
 * `mem_used` of the first node in a management API's `/api/nodes`. `adminUrl` is the API's base
 * (http://user:pass@host:15672); credentials in it become basic auth.
 */
export function adminMemUsed(adminUrl: string): MemorySource {
  const u = new URL(adminUrl);
  const auth = "Basic " +
    btoa(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`);
  u.username = u.password = "";
  const url = new URL("api/nodes", u.href.endsWith("/") ? u.href : u.href + "/").href;
  return {
    label: `mem_used from ${url}`,
    async read() {
      try {
        const res = await fetch(url, {
          headers: { authorization: auth },
          signal: AbortSignal.timeout(2000),
        });
        if (!res.ok) {
          await res.body?.cancel();
          return undefined;
        }
        const nodes = await res.json() as { mem_used?: number }[];
        const used = nodes[0]?.mem_used;
        return typeof used === "number" ? Math.round(used / 1024) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** One reading. */
export interface MemorySample {
  /** Seconds since the sampler started. */
  t: number;
  kib: number;
}

/** Reads a source every `everyMs` and keeps the series. */
export class MemorySampler {
  readonly samples: MemorySample[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #t0 = performance.now();
  #busy = false;

  constructor(readonly source: MemorySource, readonly everyMs = 1000) {}

  /** Takes one reading now (also used for the named points: baseline, end, after close). */
  async sample(): Promise<number | undefined> {
    const kib = await this.source.read();
    if (kib !== undefined) {
      this.samples.push({ t: (performance.now() - this.#t0) / 1000, kib });
    }
    return kib;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#timer = setInterval(async () => {
      if (this.#busy) return;
      this.#busy = true;
      await this.sample();
      this.#busy = false;
    }, this.everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The latest reading. */
  get last(): number | undefined {
    return this.samples.at(-1)?.kib;
  }

  /** The highest reading since `fromT` seconds (default: all). */
  peak(fromT = -Infinity): number | undefined {
    let max: number | undefined;
    for (const s of this.samples) {
      if (s.t >= fromT && (max === undefined || s.kib > max)) max = s.kib;
    }
    return max;
  }
}
