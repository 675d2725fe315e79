/**
 * Policies and runtime parameters: this broker has none, so the listings RabbitMQ tools and the
 * web UI read (/api/policies, /api/operator-policies, /api/parameters, /api/global-parameters)
 * answer empty lists, to policymakers and administrators as in RabbitMQ.
 */
import type { Router } from "../router.ts";
import { json } from "../http.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  const empty = () => json([]);
  r.on("GET", "/api/policies", "policymaker", empty);
  r.on("GET", "/api/policies/:vhost", "policymaker", (ctx) => {
    requireVhost(ctx);
    return json([]);
  });
  r.on("GET", "/api/operator-policies", "policymaker", empty);
  r.on("GET", "/api/parameters", "policymaker", empty);
  r.on("GET", "/api/parameters/:component", "policymaker", empty);
  r.on("GET", "/api/global-parameters", "policymaker", empty);
}
