/**
 * /api/bindings[/{vhost}] and, between a source exchange and a queue (`q`) or exchange (`e`),
 * /api/bindings/{vhost}/e/{source}/{q|e}/{destination}: GET lists them, POST {routing_key,
 * arguments} creates one (201, Location: its properties_key path); …/{props} names one binding
 * by its properties_key for GET and DELETE.
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, call, noContent, notFound, readJson } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import { tableFromJson } from "../amqp_json.ts";
import { propertiesKey, quotePlus } from "../properties_key.ts";
import { asBadRequest, requireVhost } from "./common.ts";

const BETWEEN = "/api/bindings/:vhost/e/:source/:kind/:destination";

export function register(r: Router): void {
  r.on("GET", "/api/bindings", "management", (ctx) => {
    const rows = ctx.service.bindingDetails().filter((b) =>
      ctx.user.seesObjectsIn(b.vhost as string)
    );
    return listResponse(rows, ctx.url, { defaultSort: [] });
  });
  r.on(
    "GET",
    "/api/bindings/:vhost",
    "vhost",
    (ctx) =>
      listResponse(ctx.service.bindingDetails(requireVhost(ctx)), ctx.url, { defaultSort: [] }),
  );
  for (const kind of ["q", "e"]) {
    const path = BETWEEN.replace(":kind", kind);
    r.on("GET", path, "vhost", (ctx) => listResponse(between(ctx), ctx.url, { defaultSort: [] }));
    r.on("POST", path, "vhost", create);
    r.on("GET", `${path}/:props`, "vhost", (ctx) => {
      const rows = between(ctx, ctx.params.props);
      if (rows.length === 0) throw notFound();
      return objectResponse(rows[0], ctx.url);
    });
    r.on("DELETE", `${path}/:props`, "vhost", (ctx) => {
      if (between(ctx, ctx.params.props).length === 0) throw notFound();
      const { vhost, source, destination, props } = ctx.params;
      call(() =>
        ctx.service.unbind(vhost, source, destinationType(ctx), destination, props, ctx.user.name)
      );
      return noContent();
    });
  }
}

function destinationType(ctx: Ctx): "queue" | "exchange" {
  return ctx.url.pathname.split("/")[6] === "q" ? "queue" : "exchange";
}

/** Bindings from the path's source to its destination; 404 when either does not exist. */
function between(ctx: Ctx, props?: string): Record<string, unknown>[] {
  const vhost = requireVhost(ctx);
  const rows = ctx.service.bindingsBetween(
    vhost,
    ctx.params.source,
    destinationType(ctx),
    ctx.params.destination,
    props,
  );
  if (!rows) throw notFound();
  return rows;
}

async function create(ctx: Ctx): Promise<Response> {
  between(ctx);
  const body = await readJson(ctx.req);
  const routingKey = body.routing_key ?? "";
  if (typeof routingKey !== "string") throw badRequest("routing_key must be a string");
  const args = asBadRequest(() => tableFromJson(body.arguments));
  const { vhost, source, destination } = ctx.params;
  call(() =>
    ctx.service.bind(
      vhost,
      source,
      destinationType(ctx),
      destination,
      routingKey,
      args,
      ctx.user.name,
    )
  );
  // The new binding's properties_key, from its arguments' JSON form as listings show them.
  const row = ctx.service.bindingsBetween(vhost, source, destinationType(ctx), destination)
    ?.find((b) =>
      b.routing_key === routingKey &&
      JSON.stringify(b.arguments) === JSON.stringify(asJsonArgs(body.arguments))
    );
  const props = (row?.properties_key as string | undefined) ??
    propertiesKey(routingKey, asJsonArgs(body.arguments));
  const location = `${quotePlus(destination)}/${quotePlus(props)}`;
  return new Response(null, { status: 201, headers: { location } });
}

function asJsonArgs(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : {};
}
