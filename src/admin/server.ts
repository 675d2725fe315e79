/**
 * The management HTTP server: RabbitMQ's management API under /api (basic auth, JSON) and the
 * embedded web UI's files at their paths (no auth). Handlers read and change the broker through
 * the control service only; a rate sampler runs beside it and stops with it.
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
  /** 0 picks a free port (tests). */
  port: number;
  hostname: string;
  /** Users that may log in from loopback addresses only (loopback_users). */
  loopbackUsers: readonly string[];
  sampleIntervalMs?: number;
}

export class AdminServer {
  private constructor(
    private readonly http: Deno.HttpServer<Deno.NetAddr>,
    readonly rates: Rates,
    private readonly info: AdminInfo,
  ) {}

  /** Listens and starts sampling rates; throws when the port cannot be bound. */
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
    const http = Deno.serve(
      { port: options.port, hostname: options.hostname, onListen: () => {} },
      (req, conn) =>
        handle(req, conn.remoteAddr.hostname, router, service, rates, info, options.loopbackUsers),
    );
    info.port = http.addr.port;
    rates.start();
    log.info("management HTTP API started", { address: `${options.hostname}:${info.port}` });
    return new AdminServer(http, rates, info);
  }

  get port(): number {
    return this.info.port;
  }

  /** Stops sampling and listening; requests under way finish first. */
  async close(): Promise<void> {
    this.rates.stop();
    await this.http.shutdown();
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
