/**
 * Resource alarms, as RabbitMQ raises them: a memory alarm while the process's resident set is
 * above the memory high watermark (`vm_memory_high_watermark.relative` × total RAM, or `.absolute`
 * bytes), and a disk alarm while the free space of the data dir's file system is below
 * `disk_free_limit` (`.absolute` bytes, or `.relative` × total RAM). One timer samples both.
 *
 * While any alarm is on, a connection that publishes is no longer read from (see
 * `Connection`): it gets `connection.blocked` with {@link AlarmMonitor.reason} when it announced
 * that capability, and `connection.unblocked` once every alarm has cleared. Connections that only
 * consume keep being read, so queues can drain.
 *
 * A broker without a data dir keeps everything in memory and writes nothing to disk, so it has no
 * disk alarm.
 *
 * @example
 * ```ts
 * const alarms = new AlarmMonitor({
 *   memoryHighWatermark: { relative: 0.6 },
 *   diskFreeLimit: { absolute: 50_000_000 },
 *   dataDir: "/var/lib/broker",
 * }).start();
 * if (alarms.blocked) console.log(alarms.reason); // "low on memory"
 * alarms.close();
 * ```
 */
import { statfsSync } from "node:fs";
import { log } from "../log.ts";

/** The resources RabbitMQ names in its alarms (`/api/health/checks/alarms`). */
export type AlarmResource = "memory" | "disk";

export interface MemoryWatermark {
  relative?: number;
  absolute?: number;
}

export interface DiskFreeLimit {
  absolute?: number;
  relative?: number;
}

export interface AlarmLimits {
  memoryHighWatermark: MemoryWatermark;
  diskFreeLimit: DiskFreeLimit;
  /** The directory whose file system is watched; undefined: no disk alarm. */
  dataDir: string | undefined;
}

/** How often memory and disk are sampled. */
export const ALARM_CHECK_INTERVAL_MS = 1000;

/** RabbitMQ's texts for connection.blocked, per resource (joined with " & " when both). */
const BLOCKED_REASONS: Record<AlarmResource, string> = {
  memory: "low on memory",
  disk: "low on disk",
};

export class AlarmMonitor {
  private readonly active = new Set<AlarmResource>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private waiters: (() => void)[] = [];
  private memoryTotal: number | undefined;
  private memoryUnknownLogged = false;
  private diskUnknownLogged = false;
  memoryHighWatermark: MemoryWatermark;
  diskFreeLimit: DiskFreeLimit;
  readonly dataDir: string | undefined;

  constructor(limits: AlarmLimits, readonly intervalMs = ALARM_CHECK_INTERVAL_MS) {
    this.memoryHighWatermark = limits.memoryHighWatermark;
    this.diskFreeLimit = limits.diskFreeLimit;
    this.dataDir = limits.dataDir;
  }

  /** Samples once now, then every `intervalMs` until {@link close}. */
  start(): this {
    this.check();
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      Deno.unrefTimer(this.timer);
    }
    return this;
  }

  /** Stops sampling, drops the alarms and releases everyone waiting in {@link whenClear}. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.active.clear();
    this.release();
  }

  /** The alarms in effect, memory first. */
  get alarms(): AlarmResource[] {
    return (["memory", "disk"] as const).filter((r) => this.active.has(r));
  }

  /** Whether publishing connections are to be blocked. */
  get blocked(): boolean {
    return this.active.size > 0;
  }

  /** The reason for connection.blocked, as RabbitMQ words it: "low on memory & low on disk". */
  get reason(): string {
    return this.alarms.map((r) => BLOCKED_REASONS[r]).join(" & ");
  }

  /** Resolves when no alarm is in effect any more (or the monitor is closed). */
  whenClear(): Promise<void> {
    if (!this.blocked || this.timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Changes the memory high watermark at run time and re-checks at once, as
   * `rabbitmqctl set_vm_memory_high_watermark` does. Tests use it to clear an alarm they raised
   * with a tiny watermark.
   */
  setMemoryHighWatermark(watermark: MemoryWatermark): void {
    this.memoryHighWatermark = watermark;
    this.check();
  }

  /** Changes the disk free limit at run time and re-checks at once (`set_disk_free_limit`). */
  setDiskFreeLimit(limit: DiskFreeLimit): void {
    this.diskFreeLimit = limit;
    this.check();
  }

  /** The memory limit in bytes, or undefined when total RAM is unknown for a relative one. */
  memoryLimit(): number | undefined {
    const w = this.memoryHighWatermark;
    if (w.absolute !== undefined) return w.absolute;
    const total = this.totalMemory();
    return total === undefined ? undefined : Math.round((w.relative ?? 0.6) * total);
  }

  /** The disk free limit in bytes, or undefined when total RAM is unknown for a relative one. */
  diskLimit(): number | undefined {
    const l = this.diskFreeLimit;
    if (l.absolute !== undefined) return l.absolute;
    const total = this.totalMemory();
    return total === undefined ? undefined : Math.round((l.relative ?? 0) * total);
  }

  /** Samples memory and disk and sets or clears the alarms. */
  check(): void {
    const limit = this.memoryLimit();
    if (limit === undefined) {
      if (!this.memoryUnknownLogged) {
        log.warn("memory alarm disabled: total system memory unknown");
        this.memoryUnknownLogged = true;
      }
      this.update("memory", false, {});
    } else {
      const used = Deno.memoryUsage().rss;
      this.update("memory", used > limit, { used, limit });
    }
    const free = this.diskFree();
    const diskLimit = this.diskLimit();
    if (free === undefined || diskLimit === undefined) this.update("disk", false, {});
    else this.update("disk", free < diskLimit, { free, limit: diskLimit });
  }

  private update(resource: AlarmResource, on: boolean, facts: Record<string, number>): void {
    if (on === this.active.has(resource)) return;
    if (on) {
      this.active.add(resource);
      log.warn(`${resource} resource limit alarm set; publishers will be blocked until it clears`, {
        ...facts,
      });
    } else {
      this.active.delete(resource);
      log.warn(`${resource} resource limit alarm cleared`, { ...facts });
      if (!this.blocked) this.release();
    }
  }

  private release(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private totalMemory(): number | undefined {
    if (this.memoryTotal === undefined) {
      try {
        this.memoryTotal = Deno.systemMemoryInfo().total;
      } catch { /* not allowed: stays unknown */ }
    }
    return this.memoryTotal;
  }

  private diskFree(): number | undefined {
    if (this.dataDir === undefined) return undefined;
    try {
      const fs = statfsSync(this.dataDir);
      return fs.bavail * fs.bsize;
    } catch (err) {
      if (!this.diskUnknownLogged) {
        log.warn("disk alarm disabled: free disk space unknown", {
          dir: this.dataDir,
          error: String(err),
        });
        this.diskUnknownLogged = true;
      }
      return undefined;
    }
  }
}
