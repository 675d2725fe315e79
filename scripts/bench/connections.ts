/**
 * Scenario "connections": the broker's resident memory per idle connection (one channel each).
 *
 * @module
 */
import type { AMQPClient } from "@cloudamqp/amqp-client";
import { socketFloor } from "./socket_floor.ts";
import { closeQuietly, connect, now, readVm, round, sleep } from "./util.ts";

/** What the connection scenario measured. */
export interface ConnectionsResult {
  kind: "connections";
  connections: number;
  opened: number;
  brokerPid: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  rssAfterCloseKiB: number;
  /** (after − before) / opened, in KiB. */
  rssPerConnectionKiB: number;
  openSeconds: number;
  /** RSS per idle connection of a bare Deno server (scripts/bench/socket_floor.ts). */
  bareDenoServerKiB: number;
  errors: string[];
}

/** Opens `count` connections with one channel each and reads the broker's RSS before and after. */
export async function runConnections(
  uri: string,
  count: number,
  brokerPid: number,
): Promise<ConnectionsResult> {
  const errors: string[] = [];
  const before = readVm(brokerPid);
  if (before === undefined) throw new Error(`cannot read /proc/${brokerPid}/status`);
  const clients: AMQPClient[] = [];
  const t0 = now();
  const batch = 50;
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    const opened = await Promise.allSettled(
      Array.from({ length: n }, async (_, k) => {
        const client = await connect(uri, errors, `bench-idle-${i + k}`);
        await client.channel();
        return client;
      }),
    );
    for (const r of opened) {
      if (r.status === "fulfilled") clients.push(r.value);
      else if (errors.length < 20) errors.push(String(r.reason?.message ?? r.reason));
    }
  }
  const openSeconds = (now() - t0) / 1000;
  await sleep(2000); // let the broker settle (GC, lazily allocated buffers)
  const after = readVm(brokerPid) ?? 0;
  for (let i = 0; i < clients.length; i += 100) {
    await Promise.all(clients.slice(i, i + 100).map((c) => closeQuietly(c)));
  }
  await sleep(1000);
  const afterClose = readVm(brokerPid) ?? 0;
  // What Deno itself needs per idle socket, measured the same way: the floor for any Deno server.
  const floor = await socketFloor(Math.min(count, 1000));
  return {
    kind: "connections",
    connections: count,
    opened: clients.length,
    brokerPid,
    rssBeforeKiB: before,
    rssAfterKiB: after,
    rssAfterCloseKiB: afterClose,
    rssPerConnectionKiB: round((after - before) / Math.max(1, clients.length), 1),
    openSeconds: round(openSeconds, 2),
    bareDenoServerKiB: floor.rssPerConnectionKiB,
    errors,
  };
}
