/**
 * Scenario "recovery": fill a durable queue with persistent messages, stop the broker with
 * SIGTERM, start it again on the same data directory, and time how long until the port accepts
 * and a passive declare reports the full count. Then drain the queue to check nothing was lost.
 *
 * @module
 */
import type { AMQPChannel, AMQPClient } from "@cloudamqp/amqp-client";
import { closeQuietly, connect, freePort, now, portAccepts, readVm, round, sleep } from "./util.ts";

/** What the recovery scenario does. */
export interface RecoveryOptions {
  /** The broker command line; `--port P --data-dir D` are appended. */
  brokerCmd: string;
  messages: number;
  size: number;
  producers: number;
  confirm: number;
  /** Data directory; a fresh temp dir (removed afterwards) when undefined. */
  dataDir?: string;
  port?: number;
  /** Also consume every message after recovery and count them. */
  drain: boolean;
  /** Upper bound for each phase, in seconds. */
  timeout: number;
}

/** What the recovery scenario measured. */
export interface RecoveryResult {
  kind: "recovery";
  /** The URI the started broker listened on. */
  uri: string;
  messages: number;
  size: number;
  fillSeconds: number;
  fillRate: number;
  countBeforeStop: number;
  rssBeforeStopKiB: number;
  shutdownSeconds: number;
  exitCode: number | null;
  dataDirMiB: number;
  /** Restart to the port accepting TCP connections. */
  portSeconds: number;
  /** Restart to a passive declare reporting the full count. */
  recoverySeconds: number;
  countAfterRecovery: number;
  rssAfterRecoveryKiB: number;
  hwmAfterRecoveryKiB: number;
  drained?: number;
  drainSeconds?: number;
  drainRate?: number;
  redelivered?: number;
  lost: number;
  errors: string[];
}

/** A broker started by {@link startBroker}: the process and the file its output goes to. */
export interface Broker {
  child: Deno.ChildProcess;
  log: Deno.FsFile;
}

/** Runs `cmd` with `--port P --data-dir D` appended; stdout and stderr go to `logPath`. */
export function startBroker(cmd: string[], port: number, dataDir: string, logPath: string): Broker {
  const log = Deno.openSync(logPath, { create: true, append: true });
  const child = new Deno.Command(cmd[0], {
    args: [...cmd.slice(1), "--port", String(port), "--data-dir", dataDir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Both streams go to the log file; the writes are small and rare.
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) log.writeSync(chunk);
  };
  pump(child.stdout).catch(() => {});
  pump(child.stderr).catch(() => {});
  return { child, log };
}

/** Resolves once `port` accepts TCP connections; throws if the child exits first or on timeout. */
export async function waitPort(
  port: number,
  child: Deno.ChildProcess,
  timeoutS: number,
): Promise<void> {
  const until = now() + timeoutS * 1000;
  let exited = false;
  child.status.then(() => exited = true);
  while (now() < until) {
    if (exited) throw new Error("broker exited before accepting connections");
    if (await portAccepts("127.0.0.1", port)) return;
    await sleep(20);
  }
  throw new Error(`port ${port} did not accept within ${timeoutS} s`);
}

/** SIGTERM, then SIGKILL after `timeoutS`; the exit code, or null when it had to be killed. */
export async function stopBroker(b: Broker, timeoutS: number): Promise<number | null> {
  try {
    b.child.kill("SIGTERM");
  } catch {
    // already gone
  }
  const status = await Promise.race([b.child.status, sleep(timeoutS * 1000).then(() => null)]);
  if (!status) {
    b.child.kill("SIGKILL");
    await b.child.status;
    return null;
  }
  return status.code;
}

function dirSize(path: string): number {
  let total = 0;
  for (const e of Deno.readDirSync(path)) {
    const p = `${path}/${e.name}`;
    if (e.isDirectory) total += dirSize(p);
    else if (e.isFile) total += Deno.statSync(p).size;
  }
  return total;
}

/** Runs the fill / stop / restart / count / drain sequence against a broker it starts itself. */
export async function runRecovery(o: RecoveryOptions): Promise<RecoveryResult> {
  const cmd = o.brokerCmd.trim().split(/\s+/);
  const ownDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? Deno.makeTempDirSync({ prefix: "bench-recovery-" });
  const logPath = `${dataDir}.broker.log`;
  const port = o.port ?? freePort();
  const uri = `amqp://guest:guest@127.0.0.1:${port}/`;
  const queue = "bench.recovery";
  const errors: string[] = [];
  const result: Partial<RecoveryResult> = {
    kind: "recovery",
    uri,
    messages: o.messages,
    size: o.size,
  };
  let broker: Broker | undefined = startBroker(cmd, port, dataDir, logPath);
  try {
    await waitPort(port, broker.child, o.timeout);

    // Fill with confirms so every message is known to be stored before the stop.
    const setup = await connect(uri, errors, "bench-recovery-setup");
    let ch = await setup.channel();
    await ch.queueDeclare(queue, { durable: true });
    const t0 = now();
    const per = Math.ceil(o.messages / o.producers);
    await Promise.all(
      Array.from(
        { length: o.producers },
        (_, p) => fill(uri, queue, Math.min(per, o.messages - p * per), o.size, o.confirm, errors),
      ),
    );
    const fillSeconds = (now() - t0) / 1000;
    result.fillSeconds = round(fillSeconds, 2);
    result.fillRate = round(o.messages / fillSeconds, 0);
    result.countBeforeStop = (await ch.queueDeclare(queue, { passive: true })).messageCount;
    await closeQuietly(setup);
    result.rssBeforeStopKiB = readVm(broker.child.pid) ?? 0;

    const t1 = now();
    result.exitCode = await stopBroker(broker, o.timeout);
    result.shutdownSeconds = round((now() - t1) / 1000, 2);
    broker.log.close();
    broker = undefined;
    result.dataDirMiB = round(dirSize(dataDir) / 1048576, 1);

    // Restart and time recovery.
    const t2 = now();
    broker = startBroker(cmd, port, dataDir, logPath);
    await waitPort(port, broker.child, o.timeout);
    result.portSeconds = round((now() - t2) / 1000, 2);
    let client: AMQPClient | undefined;
    let count = -1;
    const until = now() + o.timeout * 1000;
    while (now() < until) {
      try {
        if (!client || client.closed) {
          client = await connect(uri, [], "bench-recovery-check");
          ch = await client.channel();
        }
        if (ch.closed) ch = await client.channel();
        count = (await ch.queueDeclare(queue, { passive: true })).messageCount;
        if (count >= result.countBeforeStop) break;
      } catch {
        // not recovered yet (connection refused, 404, …): try again
      }
      await sleep(20);
    }
    result.recoverySeconds = round((now() - t2) / 1000, 2);
    result.countAfterRecovery = count;
    await sleep(500);
    result.rssAfterRecoveryKiB = readVm(broker.child.pid) ?? 0;
    result.hwmAfterRecoveryKiB = readVm(broker.child.pid, "VmHWM") ?? 0;
    await closeQuietly(client);

    let received = count;
    if (o.drain) {
      const d = await drain(uri, queue, result.countBeforeStop, o.timeout, errors);
      Object.assign(result, d);
      received = d.drained;
    }
    result.lost = Math.max(0, result.countBeforeStop - received);
    try {
      const c = await connect(uri, errors, "bench-recovery-cleanup");
      await (await c.channel()).queueDelete(queue);
      await closeQuietly(c);
    } catch (e) {
      errors.push(`cleanup: ${(e as Error).message}`);
    }
  } finally {
    if (broker) {
      await stopBroker(broker, 30);
      broker.log.close();
    }
    if (ownDir) {
      Deno.removeSync(dataDir, { recursive: true });
      if (errors.length === 0) Deno.removeSync(logPath);
      else errors.push(`broker log kept at ${logPath}`);
    }
  }
  result.errors = errors.slice(0, 20);
  return result as RecoveryResult;
}

async function fill(
  uri: string,
  queue: string,
  count: number,
  size: number,
  window: number,
  errors: string[],
): Promise<void> {
  if (count <= 0) return;
  const client = await connect(uri, errors, "bench-recovery-fill");
  const ch: AMQPChannel = await client.channel();
  await ch.confirmSelect();
  const body = new Uint8Array(size);
  const props = { deliveryMode: 2 };
  let outstanding = 0;
  let wake: (() => void) | undefined;
  let failed = 0;
  const settle = () => {
    outstanding--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (let i = 0; i < count; i++) {
    while (outstanding >= window) await new Promise<void>((r) => wake = r);
    outstanding++;
    ch.basicPublish("", queue, body, props).then(settle, (e) => {
      failed++;
      if (errors.length < 20) errors.push(`fill: ${e.message}`);
      settle();
    });
  }
  while (outstanding > 0) await new Promise<void>((r) => wake = r);
  if (failed) errors.push(`fill: ${failed} publishes nacked or failed`);
  await closeQuietly(client);
}

async function drain(
  uri: string,
  queue: string,
  expected: number,
  timeoutS: number,
  errors: string[],
): Promise<{ drained: number; drainSeconds: number; drainRate: number; redelivered: number }> {
  const client = await connect(uri, errors, "bench-recovery-drain");
  const ch = await client.channel();
  await ch.basicQos(2000);
  let drained = 0;
  let redelivered = 0;
  let lastProgress = now();
  const t0 = now();
  await ch.basicConsume(queue, { noAck: false }, (msg) => {
    drained++;
    if (msg.redelivered) redelivered++;
    lastProgress = now();
    if (drained % 500 === 0 || drained === expected) {
      ch.basicAck(msg.deliveryTag, true).catch(() => {});
    }
  });
  const until = now() + timeoutS * 1000;
  while (drained < expected && now() < until && now() - lastProgress < 5000) await sleep(20);
  const drainSeconds = (now() - t0) / 1000;
  await closeQuietly(client);
  return {
    drained,
    drainSeconds: round(drainSeconds, 2),
    drainRate: round(drained / drainSeconds, 0),
    redelivered,
  };
}
