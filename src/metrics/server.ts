/**
 * The Prometheus metrics HTTP server, as the rabbitmq_prometheus plugin runs it (port 15692, no
 * authentication): `GET /metrics` (aggregated, or per object with
 * `prometheus.return_per_object_metrics`) and `GET /metrics/per-object`, in the text format.
 * HEAD answers 204 without a body and OPTIONS 200, as RabbitMQ does; other methods 405, other
 * paths 404.
 *
 *   const metrics = MetricsServer.start(server, { port: 15692, hostname: "0.0.0.0" });
 *   …
 *   await metrics.close();
 */
import { log } from "../log.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";
import { renderMetrics } from "./prometheus.ts";
import type { MetricsSource } from "./prometheus.ts";

export interface MetricsServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  hostname: string;
  /** `/metrics` returns per-object metrics too (prometheus.return_per_object_metrics). */
  perObject?: boolean;
}

export class MetricsServer {
  private constructor(private readonly http: Deno.HttpServer<Deno.NetAddr>) {}

  /** Listens at once; throws when the port cannot be bound. */
  static start(source: MetricsSource, options: MetricsServerOptions): MetricsServer {
    const http = Deno.serve(
      { port: options.port, hostname: options.hostname, onListen: () => {} },
      (req) => handle(req, source, options.perObject ?? false),
    );
    log.info("Prometheus metrics started", {
      address: `${options.hostname}:${http.addr.port}`,
    });
    return new MetricsServer(http);
  }

  get port(): number {
    return this.http.addr.port;
  }

  /** Stops listening; scrapes under way finish first. */
  async close(): Promise<void> {
    await this.http.shutdown();
  }
}

const ALLOW = { allow: "HEAD, GET, OPTIONS" };

function handle(req: Request, source: MetricsSource, perObjectDefault: boolean): Response {
  // A trailing slash is the same path, as in RabbitMQ.
  const path = new URL(req.url).pathname.replace(/(.)\/$/, "$1");
  const perObject = path === "/metrics/per-object"
    ? true
    : path === "/metrics"
    ? perObjectDefault
    : undefined;
  if (perObject === undefined) {
    return Response.json({ error: "Object Not Found", reason: "Not Found" }, { status: 404 });
  }
  if (req.method === "HEAD") return new Response(null, { status: 204 });
  if (req.method === "OPTIONS") return new Response(null, { status: 200, headers: ALLOW });
  if (req.method !== "GET") return new Response(null, { status: 405, headers: ALLOW });
  try {
    const alarms = path === "/metrics";
    return new Response(renderMetrics(source, { perObject, alarms }), {
      headers: { "content-type": EXPOSITION_CONTENT_TYPE },
    });
  } catch (err) {
    log.error("metrics scrape failed", { error: String((err as Error)?.stack ?? err) });
    return new Response("internal error\n", { status: 500 });
  }
}
