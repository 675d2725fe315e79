/**
 * /api/permissions (administrators): every user's permissions; /api/permissions/{vhost}/{user}
 * GET, PUT {configure, write, read} (201 created, 204 updated) and DELETE.
 */
import type { Ctx, Router } from "../router.ts";
import { call, HttpError, noContent, notFound, putResult, readJson, strField } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";

export function register(r: Router): void {
  r.on(
    "GET",
    "/api/permissions",
    "administrator",
    (ctx) =>
      listResponse(ctx.service.listPermissions(), ctx.url, { defaultSort: ["vhost", "user"] }),
  );
  r.on(
    "GET",
    "/api/permissions/:vhost/:user",
    "administrator",
    (ctx) => objectResponse(permission(ctx), ctx.url),
  );
  r.on("PUT", "/api/permissions/:vhost/:user", "administrator", put);
  r.on("DELETE", "/api/permissions/:vhost/:user", "administrator", (ctx) => {
    permission(ctx);
    call(() => ctx.service.clearPermissions(ctx.params.user, ctx.params.vhost));
    return noContent();
  });
  r.on("GET", "/api/topic-permissions", "administrator", (ctx) => listResponse([], ctx.url));
}

function permission(ctx: Ctx): Record<string, unknown> {
  const row = ctx.service.permissionInfo(ctx.params.user, ctx.params.vhost);
  if (!row) throw notFound();
  return row;
}

async function put(ctx: Ctx): Promise<Response> {
  const { user, vhost } = ctx.params;
  if (!ctx.service.vhostExists(vhost) || !ctx.service.userInfo(user)) {
    throw new HttpError(400, "bad_request", "vhost_or_user_not_found");
  }
  const body = await readJson(ctx.req);
  const configure = strField(body, "configure");
  const write = strField(body, "write");
  const read = strField(body, "read");
  const created = ctx.service.permissionInfo(user, vhost) === undefined;
  call(() => ctx.service.setPermissions(user, vhost, configure, write, read));
  return putResult(created);
}
