/**
 * /api/vhosts: the vhosts the user may see (monitoring users and administrators: all), each with
 * its message totals and rates; /api/vhosts/{name} GET, PUT ({description, tags}; 201 created,
 * 204 updated) and DELETE (administrators); /api/vhosts/{name}/permissions.
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, call, json, noContent, notFound, putResult, readJson } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { LENGTHS, MESSAGE_TOTALS, withDetails } from "../rates.ts";
import type { Counts } from "../rates.ts";
import { DefinitionsError, parseTags } from "../definitions.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/vhosts", "management", (ctx) => {
    const totals = ctx.rates.vhostTotals();
    const rows = ctx.service.vhostDetails().filter((v) => ctx.user.seesVhost(v.name as string));
    return listResponse(rows, ctx.url, { augment: (row) => augment(row, totals) });
  });
  r.on("GET", "/api/vhosts/:vhost", "vhost-visible", (ctx) => {
    const row = ctx.service.vhostInfo(ctx.params.vhost);
    if (!row) throw notFound();
    return objectResponse(augment(row, ctx.rates.vhostTotals()), ctx.url);
  });
  r.on("PUT", "/api/vhosts/:vhost", "administrator", put);
  r.on("DELETE", "/api/vhosts/:vhost", "administrator", (ctx) => {
    requireVhost(ctx);
    call(() => ctx.service.deleteVhost(ctx.params.vhost));
    return noContent();
  });
  r.on(
    "GET",
    "/api/vhosts/:vhost/permissions",
    "administrator",
    (ctx) => listResponse(ctx.service.listPermissions(requireVhost(ctx)), ctx.url),
  );
  r.on("GET", "/api/vhosts/:vhost/topic-permissions", "administrator", (ctx) => {
    requireVhost(ctx);
    return json([]);
  });
}

function augment(
  row: Row,
  totals: { counts: Map<string, Counts>; rates: Map<string, Counts> },
): Row {
  const counts = totals.counts.get(row.name as string) ?? {};
  const rates = totals.rates.get(row.name as string);
  return {
    ...row,
    ...withDetails(counts, rates, [...LENGTHS, "recv_oct", "send_oct"]),
    message_stats: withDetails(counts, rates, MESSAGE_TOTALS),
  };
}

async function put(ctx: Ctx): Promise<Response> {
  const body = await readJson(ctx.req);
  const description = body.description ?? (body.metadata as Row | undefined)?.description;
  if (description !== undefined && typeof description !== "string") {
    throw badRequest("description must be a string");
  }
  let tags: string[] | undefined;
  try {
    const t = body.tags ?? (body.metadata as Row | undefined)?.tags;
    tags = t === undefined ? undefined : parseTags(t);
  } catch (err) {
    if (err instanceof DefinitionsError) throw badRequest(err.message);
    throw err;
  }
  const created = call(() => ctx.service.putVhost(ctx.params.vhost, { description, tags }));
  // As RabbitMQ's HTTP API does, the user who creates a vhost gets full permissions on it.
  if (created) {
    call(() => ctx.service.setPermissions(ctx.user.name, ctx.params.vhost, ".*", ".*", ".*"));
  }
  return putResult(created);
}
