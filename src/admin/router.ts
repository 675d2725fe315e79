/**
 * Method + path routing for the management API. Patterns name their parameters
 * (`/api/queues/:vhost/:queue`); each path segment is percent-decoded once, so `%2F` is the
 * vhost `/`. As in RabbitMQ, an `exchange`, `source` or `destination` named `amq.default` is the
 * default exchange (""). A path that matches with another method is a 405; none at all, a 404.
 *
 *   router.on("GET", "/api/queues/:vhost", "vhost", (ctx) => json(...));
 */
import type { ControlService } from "../control/service.ts";
import type { Access, Principal } from "./auth.ts";
import { methodNotAllowed, notFound } from "./http.ts";
import type { Rates } from "./rates.ts";

/** What the admin server knows beyond the service: its own listener and the broker's identity. */
export interface AdminInfo {
  port: number;
  product: string;
  version: string;
  clusterName: string;
  /** vm_memory_high_watermark and disk_free_limit, for the node's limits. */
  memoryHighWatermark: { relative?: number; absolute?: number };
  diskFreeLimit: { absolute?: number; relative?: number };
  dataDir: string | undefined;
}

/** Everything a handler gets. */
export interface Ctx {
  req: Request;
  url: URL;
  params: Record<string, string>;
  user: Principal;
  service: ControlService;
  rates: Rates;
  info: AdminInfo;
}

export type Handler = (ctx: Ctx) => Response | Promise<Response>;

interface Route {
  segments: string[];
  methods: Map<string, { access: Access; handler: Handler }>;
}

export interface Match {
  params: Record<string, string>;
  access: Access;
  handler: Handler;
}

const DEFAULT_EXCHANGE_PARAMS = new Set(["exchange", "source", "destination"]);

/** Splits a raw path into decoded segments; undefined when an escape is malformed. */
export function pathSegments(pathname: string): string[] | undefined {
  const raw = pathname.split("/").slice(1);
  if (raw.length > 1 && raw[raw.length - 1] === "") raw.pop();
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

export class Router {
  private readonly routes: Route[] = [];

  /** Adds a handler for `method` on `pattern`, requiring `access`. */
  on(method: string, pattern: string, access: Access, handler: Handler): this {
    const segments = pattern.split("/").slice(1);
    let route = this.routes.find((r) => r.segments.join("/") === segments.join("/"));
    if (!route) {
      route = { segments, methods: new Map() };
      this.routes.push(route);
    }
    route.methods.set(method, { access, handler });
    return this;
  }

  /** The route for a request; throws 404 or 405 (with the allowed methods). */
  match(method: string, segments: string[]): Match {
    let allowed: string[] | undefined;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      const m = route.methods.get(method === "HEAD" ? "GET" : method);
      if (m) return { params, ...m };
      allowed ??= [...route.methods.keys()];
    }
    if (allowed) throw methodNotAllowed(allowed.includes("GET") ? [...allowed, "HEAD"] : allowed);
    throw notFound();
  }

  /** The methods a path allows (for OPTIONS), or undefined when no route matches it. */
  allowedMethods(segments: string[]): string[] | undefined {
    for (const route of this.routes) {
      if (matchSegments(route.segments, segments)) return [...route.methods.keys(), "OPTIONS"];
    }
    return undefined;
  }
}

function matchSegments(pattern: string[], path: string[]): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(":")) {
      const name = p.slice(1);
      params[name] = DEFAULT_EXCHANGE_PARAMS.has(name) && path[i] === "amq.default" ? "" : path[i];
    } else if (p !== path[i]) return undefined;
  }
  return params;
}
