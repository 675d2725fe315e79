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
  readJson,
  strField,
} from "../http.ts";
import { augmentRow } from "../rates.ts";
import { propertiesFromJson, tableFromJson } from "../amqp_json.ts";
import { asBadRequest, bindingsOf, declareIn, flag, VhostObjects } from "./common.ts";

const EXCHANGES = new VhostObjects("/api/exchanges", "exchange", {
  details: (ctx, vhost) => ctx.service.exchangeDetails(vhost),
  info: (ctx, vhost, name) => ctx.service.exchangeInfo(vhost, name),
  augment: (ctx, row) =>
    augmentRow(row, ctx.rates.of("e", row.vhost as string, row.name as string), []),
});

export function register(r: Router): void {
  EXCHANGES.registerGets(r);
  r.on("PUT", "/api/exchanges/:vhost/:exchange", "vhost", declare);
  r.on("DELETE", "/api/exchanges/:vhost/:exchange", "vhost", (ctx) => {
    const vhost = EXCHANGES.requireVhost(ctx);
    call(() =>
      ctx.service.deleteExchange(vhost, ctx.params.exchange, flag(ctx, "if-unused"), ctx.user.name)
    );
    return noContent();
  });
  r.on("POST", "/api/exchanges/:vhost/:exchange/publish", "vhost", publish);
  for (const side of ["source", "destination"] as const) {
    const path = `/api/exchanges/:vhost/:exchange/bindings/${side}`;
    r.on("GET", path, "vhost", (ctx) => bindings(ctx, side));
  }
}

function declare(ctx: Ctx): Promise<Response> {
  return declareIn(ctx, (vhost, body) => {
    const opts = {
      type: strField(body, "type", "direct"),
      durable: boolField(body, "durable", false),
      autoDelete: boolField(body, "auto_delete", false),
      internal: boolField(body, "internal", false),
      arguments: asBadRequest(() => tableFromJson(body.arguments)),
    };
    return ctx.service.declareExchange(vhost, ctx.params.exchange, opts, ctx.user.name);
  });
}

async function publish(ctx: Ctx): Promise<Response> {
  const vhost = EXCHANGES.requireVhost(ctx);
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
  return bindingsOf(ctx, (vhost) => ctx.service.exchangeBindings(vhost, ctx.params.exchange, side));
}
