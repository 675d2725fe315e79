/**
 * GET /api/nodes and /api/nodes/{name}: this broker as RabbitMQ's single node, with memory, file
 * descriptors, sockets, disk space and uptime (monitoring users and administrators).
 */
import type { Ctx, Router } from "../router.ts";
import { json, notFound } from "../http.ts";
import { EXCHANGE_TYPES } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/nodes", "monitoring", (ctx) => json([node(ctx)]));
  r.on("GET", "/api/nodes/:node", "monitoring", (ctx) => {
    if (ctx.params.node !== ctx.service.nodeName) throw notFound();
    return json(node(ctx));
  });
}

function node(ctx: Ctx): Record<string, unknown> {
  const s = ctx.service.nodeStatus();
  const { memoryHighWatermark: mem, diskFreeLimit: disk } = ctx.info;
  const total = s.mem_total as number;
  const memLimit = mem.absolute ?? Math.round((mem.relative ?? 0.6) * total);
  const diskLimit = disk.absolute ?? Math.round((disk.relative ?? 0) * total);
  const fdTotal = s.fd_total as number | undefined;
  const alarms = ctx.service.alarms();
  return {
    name: s.name,
    type: "disc",
    running: true,
    os_pid: s.os_pid,
    uptime: s.uptime,
    processors: s.processors,
    run_queue: 0,
    mem_used: s.mem_used,
    mem_limit: memLimit,
    mem_alarm: alarms.includes("memory"),
    mem_calculation_strategy: "rss",
    disk_free: s.disk_free,
    disk_free_limit: diskLimit,
    disk_free_alarm: alarms.includes("disk"),
    fd_used: s.fd_used,
    fd_total: fdTotal,
    sockets_used: s.sockets_used,
    sockets_total: fdTotal === undefined ? undefined : Math.floor(fdTotal * 0.9),
    proc_used: 0,
    proc_total: 1048576,
    rates_mode: "basic",
    net_ticktime: 60,
    being_drained: false,
    partitions: [],
    cluster_links: [],
    applications: [],
    enabled_plugins: ["rabbitmq_management"],
    exchange_types: EXCHANGE_TYPES,
    auth_mechanisms: [
      { name: "PLAIN", description: "SASL PLAIN authentication mechanism", enabled: true },
      { name: "AMQPLAIN", description: "QPid AMQPLAIN mechanism", enabled: true },
    ],
    contexts: [{ description: "RabbitMQ Management", path: "/", port: String(ctx.info.port) }],
    db_dir: ctx.info.dataDir,
    config_files: [],
    log_files: [],
  };
}
