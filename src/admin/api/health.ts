/**
 * Health checks: /api/health/checks/{alarms,local-alarms,virtual-hosts,is-in-service,
 * port-listener/PORT,protocol-listener/PROTOCOL} answer {"status":"ok"} (or 503 {"status":
 * "failed", "reason"}; the alarm checks also list the alarms in effect as RabbitMQ does,
 * "alarms": [{"node", "resource": "memory" | "disk"}]), and the older /api/aliveness-test/{vhost}
 * declares the aliveness-test queue, publishes to it and reads the message back.
 */
import type { Ctx, Router } from "../router.ts";
import { call, json } from "../http.ts";
import { requireVhost } from "./common.ts";
import { splitAddress } from "./overview.ts";

export function register(r: Router): void {
  const ok = () => json({ status: "ok" });
  r.on("GET", "/api/health/checks/alarms", "management", (ctx) => {
    return alarms(ctx, "There are alarms in effect in the cluster");
  });
  r.on("GET", "/api/health/checks/local-alarms", "management", (ctx) => {
    return alarms(ctx, "There are alarms in effect on the node");
  });
  r.on("GET", "/api/health/checks/virtual-hosts", "management", ok);
  r.on("GET", "/api/health/checks/is-in-service", "management", ok);
  r.on("GET", "/api/health/checks/port-listener/:port", "management", portListener);
  r.on("GET", "/api/health/checks/protocol-listener/:protocol", "management", protocolListener);
  r.on("GET", "/api/aliveness-test/:vhost", "vhost", (ctx) => {
    call(() => ctx.service.alivenessTest(requireVhost(ctx)));
    return ok();
  });
}

function alarms(ctx: Ctx, reason: string): Response {
  const node = ctx.service.nodeName;
  const active = ctx.service.alarms().map((resource) => ({ node, resource }));
  return active.length === 0 ? json({ status: "ok" }) : failed(reason, { alarms: active });
}

function ports(ctx: Ctx): number[] {
  const status = ctx.service.nodeStatus();
  const amqp = [...status.listeners as string[], ...status.tls_listeners as string[]]
    .map((a) => splitAddress(a).port);
  return [...amqp, ctx.info.port];
}

function failed(reason: string, extra: Record<string, unknown>): Response {
  return json({ status: "failed", reason, ...extra }, 503);
}

function portListener(ctx: Ctx): Response {
  const port = Number(ctx.params.port);
  const all = ports(ctx);
  if (!all.includes(port)) {
    return failed(`No active listener on port ${ctx.params.port}`, { missing: port, ports: all });
  }
  return json({ status: "ok", port });
}

const PROTOCOLS: Record<string, string> = {
  amqp: "amqp",
  amqp091: "amqp",
  "amqp0.9.1": "amqp",
  "amqp0-9-1": "amqp",
  http: "http",
  management: "http",
};

function protocolListener(ctx: Ctx): Response {
  const asked = ctx.params.protocol.toLowerCase();
  const protocol = PROTOCOLS[asked];
  const active = ["amqp", "http"];
  if (!protocol) {
    return failed(`No active listener for protocol ${ctx.params.protocol}`, {
      missing: ctx.params.protocol,
      protocols: active,
    });
  }
  return json({ status: "ok", protocol: asked });
}
