/**
 * /api/vhost-limits, as RabbitMQ's management API has it: GET every vhost's limits (the vhosts
 * the user sees; monitoring users and administrators see all), GET one vhost's
 * (`[{"vhost": V, "value": {"max-queues": 10}}]`, `[]` without limits), PUT
 * /api/vhost-limits/V/NAME with `{"value": N}` and DELETE /api/vhost-limits/V/NAME
 * (administrators; both 204, DELETE also when the limit was not set).
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, fromServiceError, HttpError, json, noContent, readJson } from "../http.ts";
import { ServiceError } from "../../control/service.ts";
import type { VhostLimits } from "../../broker/vhost_limits.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/vhost-limits", "management", (ctx) => {
    const rows = ctx.service.listVhostLimits().filter((l) => ctx.user.seesVhost(l.vhost));
    return json(rows.map(limitsRow));
  });
  r.on("GET", "/api/vhost-limits/:vhost", "vhost-visible", (ctx) => {
    const rows = ctx.service.listVhostLimits(requireVhost(ctx));
    return json(rows.filter((l) => Object.keys(l.limits).length > 0).map(limitsRow));
  });
  r.on("PUT", "/api/vhost-limits/:vhost/:name", "administrator", async (ctx) => {
    const { vhost, name } = ctx.params;
    existingVhost(ctx);
    const body = await readJson(ctx.req);
    if (!("value" in body)) throw badRequest("[{key_missing,value}]");
    change(() => ctx.service.setVhostLimit(vhost, name, body.value));
    return noContent();
  });
  r.on("DELETE", "/api/vhost-limits/:vhost/:name", "administrator", (ctx) => {
    existingVhost(ctx);
    change(() => ctx.service.clearVhostLimit(ctx.params.vhost, ctx.params.name));
    return noContent();
  });
}

/** A vhost's limits in RabbitMQ's listing shape. */
const limitsRow = (l: { vhost: string; limits: VhostLimits }) => ({
  vhost: l.vhost,
  value: l.limits,
});

/** A change needs the path's vhost; RabbitMQ's 404 body when it does not exist. */
function existingVhost(ctx: Ctx): void {
  if (!ctx.service.vhostExists(ctx.params.vhost)) {
    throw new HttpError(404, "not_found", "vhost_not_found");
  }
}

/** Runs a change; a refused value is a 400 worded as RabbitMQ words a refused parameter. */
function change(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    if (err.kind === "invalid") throw badRequest(`Validation failed\n\n${err.message}\n`);
    throw fromServiceError(err);
  }
}
