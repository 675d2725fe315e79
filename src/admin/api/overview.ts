/**
 * GET /api/overview: versions, object and queue totals, overall message rates (with history
 * samples when `msg_rates_age`/`lengths_age` ranges are asked for), listeners. Also
 * /api/cluster-name and /api/extensions, which the web UI reads on start.
 */
import type { Ctx, Router } from "../router.ts";
import { json } from "../http.ts";
import { LENGTHS, MESSAGE_TOTALS, rangeOf, withDetails } from "../rates.ts";
import { RABBITMQ_COMPAT_VERSION } from "../definitions.ts";
import { objectResponse } from "../pagination.ts";
import { EXCHANGE_TYPES } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/overview", "management", overview);
  r.on("GET", "/api/cluster-name", "management", (ctx) => json({ name: ctx.info.clusterName }));
  r.on("GET", "/api/extensions", "management", () => json([]));
}

/** "host:port" (or "[v6]:port") as RabbitMQ's listener ip_address and port. */
export function splitAddress(a: string): { ip_address: string; port: number } {
  const i = a.lastIndexOf(":");
  return { ip_address: a.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(a.slice(i + 1)) };
}

function overview(ctx: Ctx): Response {
  const { service, user, info, url } = ctx;
  // Monitoring users see totals of every vhost; others those of the vhosts they may use.
  const vhosts = user.isMonitor ? undefined : user.loginVhosts;
  const totals = ctx.rates.totals(vhosts);
  const msgRange = rangeOf(url, "msg_rates");
  const lengthsRange = rangeOf(url, "lengths");
  const node = service.nodeName;
  const status = service.nodeStatus();
  const listener = (protocol: string) => (a: string) => ({
    node,
    protocol,
    ...splitAddress(a),
    socket_opts: {},
  });
  const listeners = [
    ...(status.listeners as string[]).map(listener("amqp")),
    ...(status.tls_listeners as string[]).map(listener("amqp/ssl")),
  ];
  return objectResponse({
    management_version: RABBITMQ_COMPAT_VERSION,
    rates_mode: "basic",
    sample_retention_policies: { global: [600], basic: [600], detailed: [600] },
    exchange_types: EXCHANGE_TYPES,
    product_version: info.version,
    product_name: info.product,
    rabbitmq_version: RABBITMQ_COMPAT_VERSION,
    cluster_name: info.clusterName,
    erlang_version: "n/a",
    erlang_full_version: `Deno ${Deno.version.deno}`,
    release_series_support_status: "supported",
    disable_stats: false,
    is_op_policy_updating_enabled: false,
    enable_queue_totals: true,
    message_stats: withDetails(
      totals.counts,
      totals.rates,
      MESSAGE_TOTALS,
      totals.history,
      msgRange,
    ),
    churn_rates: {},
    queue_totals: withDetails(totals.counts, totals.rates, LENGTHS, totals.history, lengthsRange),
    object_totals: service.objectTotals(vhosts && [...vhosts]),
    statistics_db_event_queue: 0,
    node,
    listeners,
    contexts: [{
      node,
      description: "RabbitMQ Management",
      path: "/",
      port: String(info.port),
    }],
  }, url);
}
