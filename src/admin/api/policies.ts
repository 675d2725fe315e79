/**
 * /api/policies (policymakers and administrators, each vhost only to users with access to it):
 * every policy, a vhost's, or one: GET, PUT {pattern, definition, priority, apply-to} (201
 * created, 204 updated) and DELETE, in RabbitMQ's shape. Operator policies and runtime
 * parameters this broker does not have: those listings answer empty lists.
 */
import type { Ctx, Router } from "../router.ts";
import {
  badRequest,
  call,
  json,
  noContent,
  notFound,
  putResult,
  readJson,
  strField,
} from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import { requireVhost } from "./common.ts";

const SORT = { defaultSort: ["vhost", "name"] };

export function register(r: Router): void {
  const empty = () => json([]);
  r.on("GET", "/api/policies", "policymaker", (ctx) => {
    const rows = ctx.service.listPolicies().filter((p) =>
      ctx.user.seesObjectsIn(p.vhost as string)
    );
    return listResponse(rows, ctx.url, SORT);
  });
  r.on("GET", "/api/policies/:vhost", "policymaker", (ctx) => {
    requireVhost(ctx);
    return listResponse(ctx.service.listPolicies(ctx.params.vhost), ctx.url, SORT);
  });
  r.on("GET", "/api/policies/:vhost/:name", "policymaker", (ctx) => {
    requireVhost(ctx);
    const row = ctx.service.policyInfo(ctx.params.vhost, ctx.params.name);
    if (!row) throw notFound();
    return objectResponse(row, ctx.url);
  });
  r.on("PUT", "/api/policies/:vhost/:name", "policymaker", put);
  r.on("DELETE", "/api/policies/:vhost/:name", "policymaker", (ctx) => {
    requireVhost(ctx);
    if (!ctx.service.policyInfo(ctx.params.vhost, ctx.params.name)) throw notFound();
    call(() => ctx.service.clearPolicy(ctx.params.vhost, ctx.params.name));
    return noContent();
  });
  r.on("GET", "/api/operator-policies", "policymaker", empty);
  r.on("GET", "/api/parameters", "policymaker", empty);
  r.on("GET", "/api/parameters/:component", "policymaker", empty);
  r.on("GET", "/api/global-parameters", "policymaker", empty);
}

async function put(ctx: Ctx): Promise<Response> {
  const { vhost, name } = ctx.params;
  requireVhost(ctx);
  const body = await readJson(ctx.req);
  const pattern = strField(body, "pattern");
  const applyTo = body["apply-to"];
  if (applyTo !== undefined && typeof applyTo !== "string") {
    throw badRequest("apply-to must be queues, exchanges or all");
  }
  let priority = body.priority;
  if (typeof priority === "string" && /^-?\d+$/.test(priority)) priority = Number(priority);
  if (priority !== undefined && (typeof priority !== "number" || !Number.isInteger(priority))) {
    throw badRequest("priority must be an integer");
  }
  const created = call(() =>
    ctx.service.setPolicy({
      vhost,
      name,
      pattern,
      definition: body.definition,
      applyTo,
      priority: priority as number | undefined,
    })
  );
  return putResult(created);
}
