/**
 * The management HTTP server: RabbitMQ's management API under /api (basic auth, JSON) and the
 * embedded web UI's files at their paths (no auth). Handlers read and change the broker through
 * the control service only; a rate sampler runs beside it and stops with it. It listens on plain
 * HTTP, HTTPS (management.ssl.*) or both, serving the same API on each.
 *
 *   const admin = AdminServer.start(service, { port: 15672, hostname: "0.0.0.0", … });
 *   …
 *   await admin.close();
 */
import type { ControlService } from "../control/service.ts";
import { ServiceError } from "../control/service.ts";
import { log } from "../log.ts";
import { authenticate, authorize } from "./auth.ts";
import { errorResponse, fromServiceError, HttpError, json, notFound } from "./http.ts";
import { Rates, SAMPLE_INTERVAL_MS } from "./rates.ts";
import { pathSegments, Router } from "./router.ts";
import type { AdminInfo } from "./router.ts";
import { UI_ASSETS } from "./ui/assets.ts";
import { registerApi } from "./api/mod.ts";

export interface AdminServerOptions extends Omit<AdminInfo, "port"> {
  /** The plain HTTP port; 0 picks a free one (tests); -1: no plain HTTP listener. */
  port: number;
  hostname: string;
  /** An HTTPS listener too (management.ssl.*): address, certificate chain and key (PEM). */
  tls?: { port: number; hostname: string; cert: string; key: string };
  /** Users that may log in from loopback addresses only (loopback_users). */
  loopbackUsers: readonly string[];
  sampleIntervalMs?: number;
}

export class AdminServer {
  private constructor(
    private readonly http: Deno.HttpServer<Deno.NetAddr> | undefined,
    private readonly https: Deno.HttpServer<Deno.NetAddr> | undefined,
    readonly rates: Rates,
    private readonly info: AdminInfo,
  ) {}

  /** Listens and starts sampling rates; throws when a port cannot be bound. */
  static start(service: ControlService, options: AdminServerOptions): AdminServer {
    const router = new Router();
    registerApi(router);
    const rates = new Rates(service, options.sampleIntervalMs ?? SAMPLE_INTERVAL_MS);
    const info: AdminInfo = {
      port: options.port,
      product: options.product,
      version: options.version,
      clusterName: options.clusterName,
      memoryHighWatermark: options.memoryHighWatermark,
      diskFreeLimit: options.diskFreeLimit,
      dataDir: options.dataDir,
    };
    const handler = (req: Request, conn: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
      handle(req, conn.remoteAddr.hostname, router, service, rates, info, options.loopbackUsers);
    const http = options.port < 0
      ? undefined
      : Deno.serve({ port: options.port, hostname: options.hostname, onListen() {} }, handler);
    let https;
    try {
      https = options.tls && Deno.serve({ ...options.tls, onListen() {} }, handler);
    } catch (err) {
      http?.shutdown();
      throw err;
    }
    // The port the API reports as its own (overview contexts, health checks): HTTP's, if any.
    info.port = (http ?? https)?.addr.port ?? -1;
    rates.start();
    if (http) {
      log.info("management HTTP API started", { address: `${options.hostname}:${http.addr.port}` });
    }
    if (https) {
      log.info("management HTTPS API started", {
        address: `${options.tls!.hostname}:${https.addr.port}`,
      });
    }
    return new AdminServer(http, https, rates, info);
  }

  /** The plain HTTP port (-1 when only HTTPS is served). */
  get port(): number {
    return this.http?.addr.port ?? -1;
  }

  /** The HTTPS port (-1 when there is no HTTPS listener). */
  get tlsPort(): number {
    return this.https?.addr.port ?? -1;
  }

  /** Stops sampling and listening; requests under way finish first. */
  async close(): Promise<void> {
    this.rates.stop();
    await Promise.all([this.http?.shutdown(), this.https?.shutdown()]);
  }
}

const STATIC_HEADERS = { "cache-control": "no-cache", "x-content-type-options": "nosniff" };

async function handle(
  req: Request,
  remoteAddress: string,
  router: Router,
  service: ControlService,
  rates: Rates,
  info: AdminInfo,
  loopbackUsers: readonly string[],
): Promise<Response> {
  const url = new URL(req.url);
  const head = req.method === "HEAD";
  try {
    if (url.pathname !== "/api" && !url.pathname.startsWith("/api/")) {
      const asset = UI_ASSETS[url.pathname];
      if (asset && (req.method === "GET" || head)) {
        return new Response(head ? null : asset.body, {
          headers: { "content-type": asset.contentType, ...STATIC_HEADERS },
        });
      }
      throw notFound();
    }
    const segments = pathSegments(url.pathname);
    if (!segments) throw notFound();
    if (req.method === "OPTIONS") {
      const allowed = router.allowedMethods(segments);
      if (!allowed) throw notFound();
      return new Response(null, { status: 200, headers: { allow: allowed.join(", ") } });
    }
    const route = router.match(req.method, segments);
    const user = authenticate(req, remoteAddress, service, loopbackUsers);
    authorize(user, route.access, route.params.vhost, service);
    const res = await route.handler({ req, url, params: route.params, user, service, rates, info });
    return head ? new Response(null, { status: res.status, headers: res.headers }) : res;
  } catch (err) {
    if (err instanceof HttpError) return errorResponse(err);
    if (err instanceof ServiceError) return errorResponse(fromServiceError(err));
    log.error("management API request failed", {
      method: req.method,
      path: url.pathname,
      error: String((err as Error)?.stack ?? err),
    });
    return json({ error: "internal_server_error", reason: String((err as Error)?.message) }, 500);
  }
}
