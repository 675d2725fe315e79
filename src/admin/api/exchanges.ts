/**
 * /api/exchanges[/{vhost}[/{name}]]: list, declare (PUT: 201 created, 204 when an equivalent one
 * exists, 400 when inequivalent), delete (?if-unused=true); POST …/publish publishes one message
 * and answers {"routed": bool}; GET …/bindings/source and …/bindings/destination. The default
 * exchange is `amq.default` in paths.
 */
import type { Ctx, Router } from "../router.ts";
import {
  badRequest,
  boolField,
  call,
  callAsync,
  json,
  noContent,
  notFound,
  putResult,
  readJson,
  strField,
} from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { augmentRow } from "../rates.ts";
import { JsonValueError, propertiesFromJson, tableFromJson } from "../amqp_json.ts";
import { flag, requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/exchanges", "management", (ctx) => list(ctx, undefined));
  r.on("GET", "/api/exchanges/:vhost", "vhost", (ctx) => list(ctx, requireVhost(ctx)));
  r.on("GET", "/api/exchanges/:vhost/:exchange", "vhost", (ctx) => {
    const row = ctx.service.exchangeInfo(requireVhost(ctx), ctx.params.exchange);
    if (!row) throw notFound();
    return objectResponse(augment(ctx, row), ctx.url);
  });
  r.on("PUT", "/api/exchanges/:vhost/:exchange", "vhost", declare);
  r.on("DELETE", "/api/exchanges/:vhost/:exchange", "vhost", (ctx) => {
    const vhost = requireVhost(ctx);
    if (!ctx.service.exchangeInfo(vhost, ctx.params.exchange)) throw notFound();
    call(() =>
      ctx.service.deleteExchange(vhost, ctx.params.exchange, flag(ctx, "if-unused"), ctx.user.name)
    );
    return noContent();
  });
  r.on("POST", "/api/exchanges/:vhost/:exchange/publish", "vhost", publish);
  r.on(
    "GET",
    "/api/exchanges/:vhost/:exchange/bindings/source",
    "vhost",
    (ctx) => bindings(ctx, "source"),
  );
  r.on(
    "GET",
    "/api/exchanges/:vhost/:exchange/bindings/destination",
    "vhost",
    (ctx) => bindings(ctx, "destination"),
  );
}

function augment(ctx: Ctx, row: Row): Row {
  return augmentRow(row, ctx.rates.of("e", row.vhost as string, row.name as string), []);
}

function list(ctx: Ctx, vhost: string | undefined): Response {
  const rows = ctx.service.exchangeDetails(vhost).filter((e) =>
    ctx.user.seesObjectsIn(e.vhost as string)
  );
  return listResponse(rows, ctx.url, { augment: (r) => augment(ctx, r) });
}

/** A JSON → AMQP conversion error as a 400. */
export function asBadRequest<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof JsonValueError) throw badRequest(err.message);
    throw err;
  }
}

async function declare(ctx: Ctx): Promise<Response> {
  const vhost = requireVhost(ctx);
  const body = await readJson(ctx.req);
  const opts = {
    type: strField(body, "type", "direct"),
    durable: boolField(body, "durable", false),
    autoDelete: boolField(body, "auto_delete", false),
    internal: boolField(body, "internal", false),
    arguments: asBadRequest(() => tableFromJson(body.arguments)),
  };
  const created = call(() =>
    ctx.service.declareExchange(vhost, ctx.params.exchange, opts, ctx.user.name)
  );
  return putResult(created);
}

async function publish(ctx: Ctx): Promise<Response> {
  const vhost = requireVhost(ctx);
  if (!ctx.service.exchangeInfo(vhost, ctx.params.exchange)) throw notFound();
  const body = await readJson(ctx.req);
  const routingKey = strField(body, "routing_key");
  const payload = strField(body, "payload");
  const encoding = strField(body, "payload_encoding");
  let bytes: Uint8Array;
  if (encoding === "string") bytes = new TextEncoder().encode(payload);
  else if (encoding === "base64") {
    try {
      bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    } catch {
      throw badRequest("payload is not valid base64");
    }
  } else throw badRequest(`payload_encoding must be string or base64, not '${encoding}'`);
  const props = asBadRequest(() => propertiesFromJson(body.properties));
  const routed = await callAsync(() =>
    ctx.service.publish(vhost, ctx.params.exchange, routingKey, props, bytes, ctx.user.name)
  );
  return json({ routed });
}

function bindings(ctx: Ctx, side: "source" | "destination"): Response {
  const rows = ctx.service.exchangeBindings(requireVhost(ctx), ctx.params.exchange, side);
  if (!rows) throw notFound();
  return listResponse(rows, ctx.url, { defaultSort: [] });
}
