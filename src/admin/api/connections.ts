/**
 * /api/connections, /api/connections/{name} (GET; DELETE closes it with 320 CONNECTION_FORCED,
 * the X-Reason header as the text) and /api/vhosts/{vhost}/connections. Users see their own
 * connections; monitoring users and administrators see all; deleting another user's connection
 * takes an administrator.
 */
import type { Ctx, Router } from "../router.ts";
import { noContent, notAuthorised, notFound } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { augmentRow } from "../rates.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/connections", "management", (ctx) => list(ctx, undefined));
  r.on(
    "GET",
    "/api/vhosts/:vhost/connections",
    "vhost-visible",
    (ctx) => list(ctx, requireVhost(ctx)),
  );
  r.on(
    "GET",
    "/api/connections/:connection",
    "management",
    (ctx) => objectResponse(augment(ctx, connection(ctx, false)), ctx.url),
  );
  r.on("DELETE", "/api/connections/:connection", "management", (ctx) => {
    const c = connection(ctx, true);
    const reason = ctx.req.headers.get("x-reason") ?? undefined;
    ctx.service.closeConnection(c.name as string, reason || undefined);
    return noContent();
  });
}

/** Adds recv_oct/send_oct rates. */
export function augment(ctx: Ctx, row: Row): Row {
  const rates = ctx.rates.of("c", row.vhost as string, row.name as string);
  return augmentRow(row, rates, ["recv_oct", "send_oct"]);
}

function list(ctx: Ctx, vhost: string | undefined): Response {
  const rows = ctx.service.connectionDetails(vhost).filter((c) => ctx.user.seesUser(c.user));
  return listResponse(rows, ctx.url, { augment: (r) => augment(ctx, r) });
}

/** The path's connection, if the user may see it (or, for `del`, close it). */
function connection(ctx: Ctx, del: boolean): Row {
  const row = ctx.service.connectionInfo(ctx.params.connection);
  if (!row) throw notFound();
  const own = row.user === ctx.user.name;
  if (!own && !(del ? ctx.user.isAdmin : ctx.user.isMonitor)) {
    throw notAuthorised("User not authorised to access object");
  }
  return row;
}
