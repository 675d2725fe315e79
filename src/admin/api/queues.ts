/**
 * /api/queues[/{vhost}[/{name}]]: list, declare (PUT: 201 created, 204 existing, 400
 * inequivalent), delete (?if-unused=true, ?if-empty=true); DELETE …/contents purges; POST …/get
 * takes messages (ackmode ack_requeue_true|ack_requeue_false|reject_requeue_true|
 * reject_requeue_false, encoding auto|base64, truncate); GET …/bindings.
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, boolField, call, json, noContent, readJson, strField } from "../http.ts";
import { augmentRow, LENGTHS } from "../rates.ts";
import { tableFromJson } from "../amqp_json.ts";
import { asBadRequest, bindingsOf, declareIn, flag, VhostObjects } from "./common.ts";

const QUEUES = new VhostObjects("/api/queues", "queue", {
  details: (ctx, vhost) => ctx.service.queueDetails(vhost),
  info: (ctx, vhost, name) => ctx.service.queueInfo(vhost, name),
  augment: (ctx, row) =>
    augmentRow(row, ctx.rates.of("q", row.vhost as string, row.name as string), LENGTHS),
});

export function register(r: Router): void {
  QUEUES.registerGets(r);
  r.on("PUT", "/api/queues/:vhost/:queue", "vhost", declare);
  r.on("DELETE", "/api/queues/:vhost/:queue", "vhost", (ctx) => {
    const vhost = QUEUES.requireVhost(ctx);
    const opts = { ifUnused: flag(ctx, "if-unused"), ifEmpty: flag(ctx, "if-empty") };
    call(() => ctx.service.deleteQueue(vhost, ctx.params.queue, opts, ctx.user.name));
    return noContent();
  });
  r.on("DELETE", "/api/queues/:vhost/:queue/contents", "vhost", (ctx) => {
    const vhost = QUEUES.requireVhost(ctx);
    call(() => ctx.service.purgeQueue(vhost, ctx.params.queue, ctx.user.name));
    return noContent();
  });
  r.on("POST", "/api/queues/:vhost/:queue/get", "vhost", get);
  r.on(
    "GET",
    "/api/queues/:vhost/:queue/bindings",
    "vhost",
    (ctx) => bindingsOf(ctx, (vhost) => ctx.service.queueBindings(vhost, ctx.params.queue)),
  );
}

function declare(ctx: Ctx): Promise<Response> {
  return declareIn(ctx, (vhost, body) => {
    const opts = {
      durable: boolField(body, "durable", false),
      autoDelete: boolField(body, "auto_delete", false),
      arguments: asBadRequest(() => tableFromJson(body.arguments)),
    };
    return ctx.service.declareQueue(vhost, ctx.params.queue, opts, ctx.user.name);
  });
}

const ACKMODES: Record<string, boolean> = {
  ack_requeue_true: true,
  reject_requeue_true: true,
  ack_requeue_false: false,
  reject_requeue_false: false,
};

async function get(ctx: Ctx): Promise<Response> {
  const vhost = QUEUES.requireVhost(ctx);
  const body = await readJson(ctx.req);
  let ackmode = body.ackmode;
  // Before 3.7 the API took {"requeue": bool}.
  if (ackmode === undefined && body.requeue !== undefined) {
    ackmode = boolField(body, "requeue", true) ? "ack_requeue_true" : "ack_requeue_false";
  }
  if (typeof ackmode !== "string" || !(ackmode in ACKMODES)) {
    throw badRequest(
      "ackmode must be ack_requeue_true, ack_requeue_false, reject_requeue_true or reject_requeue_false",
    );
  }
  const encoding = strField(body, "encoding", "auto");
  if (encoding !== "auto" && encoding !== "base64") {
    throw badRequest("encoding must be auto or base64");
  }
  const count = Number(body.count ?? 1);
  if (!Number.isInteger(count) || count < 0) throw badRequest("count must be a positive integer");
  let truncate: number | undefined;
  if (body.truncate !== undefined && body.truncate !== null && body.truncate !== "") {
    truncate = Number(body.truncate);
    if (!Number.isInteger(truncate) || truncate < 0) {
      throw badRequest("truncate must be a positive integer");
    }
  }
  const rows = call(() =>
    ctx.service.getMessages(vhost, ctx.params.queue, {
      count,
      requeue: ACKMODES[ackmode as string],
      encoding,
      truncate,
    }, ctx.user.name)
  );
  return json(rows);
}
