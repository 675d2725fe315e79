/**
 * /api/channels, /api/channels/{name}, /api/vhosts/{vhost}/channels and
 * /api/connections/{name}/channels: channels with their message rates. Users see their own;
 * monitoring users and administrators see all.
 */
import type { Ctx, Router } from "../router.ts";
import { notAuthorised, notFound } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { augmentRow } from "../rates.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/channels", "management", (ctx) => list(ctx, ctx.service.channelDetails()));
  r.on(
    "GET",
    "/api/vhosts/:vhost/channels",
    "vhost-visible",
    (ctx) => list(ctx, ctx.service.channelDetails(requireVhost(ctx))),
  );
  r.on("GET", "/api/connections/:connection/channels", "management", (ctx) => {
    const conn = ctx.service.connectionInfo(ctx.params.connection);
    if (!conn) throw notFound();
    if (!ctx.user.seesUser(conn.user)) throw notAuthorised("User not authorised to access object");
    const rows = ctx.service.channelDetails(conn.vhost as string).filter((c) =>
      (c.connection_details as Row).name === conn.name
    );
    return list(ctx, rows);
  });
  r.on("GET", "/api/channels/:channel", "management", (ctx) => {
    const row = ctx.service.channelInfo(ctx.params.channel);
    if (!row) throw notFound();
    if (!ctx.user.seesUser(row.user)) throw notAuthorised("User not authorised to access object");
    return objectResponse(augment(ctx, row), ctx.url);
  });
}

function augment(ctx: Ctx, row: Row): Row {
  return augmentRow(row, ctx.rates.of("ch", row.vhost as string, row.name as string), []);
}

function list(ctx: Ctx, rows: Row[]): Response {
  const mine = rows.filter((c) => ctx.user.seesUser(c.user));
  return listResponse(mine, ctx.url, { augment: (r) => augment(ctx, r) });
}
