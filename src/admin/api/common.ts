/** Small helpers the controllers share. */
import type { Ctx, Router } from "../router.ts";
import { badRequest, call, notFound, putResult, readJson } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { JsonValueError } from "../amqp_json.ts";

/** The path's vhost, or 404 when it does not exist. */
export function requireVhost(ctx: Ctx): string {
  const vhost = ctx.params.vhost;
  if (!ctx.service.vhostExists(vhost)) throw notFound();
  return vhost;
}

/** A query flag such as `if-unused=true`. */
export function flag(ctx: Ctx, name: string): boolean {
  return ctx.url.searchParams.get(name) === "true";
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

/**
 * The bindings of an exchange or queue in the path's vhost (unsorted unless the query asks), or
 * 404 when the vhost or `lookup` finds no such exchange or queue.
 */
export function bindingsOf(ctx: Ctx, lookup: (vhost: string) => Row[] | undefined): Response {
  const rows = lookup(requireVhost(ctx));
  if (!rows) throw notFound();
  return listResponse(rows, ctx.url, { defaultSort: [] });
}

/**
 * PUT of an object in the path's vhost: `declare` reads the JSON body and declares it, true when
 * it created the object (201), false when an equivalent one existed (204).
 */
export async function declareIn(
  ctx: Ctx,
  declare: (vhost: string, body: Record<string, unknown>) => boolean,
): Promise<Response> {
  const vhost = requireVhost(ctx);
  const body = await readJson(ctx.req);
  return putResult(call(() => declare(vhost, body)));
}

/** How the API reads one kind of object that lives in a vhost (exchanges, queues). */
export interface ObjectKind {
  /** Rows of every object in `vhost`, or in every vhost when undefined. */
  details(ctx: Ctx, vhost: string | undefined): Row[];
  /** One object's row, undefined when there is none of that name. */
  info(ctx: Ctx, vhost: string, name: string): Row | undefined;
  /** The row with its rates added. */
  augment(ctx: Ctx, row: Row): Row;
}

/**
 * The objects of one kind under `base` (`/api/queues`); `param` names one of them in paths
 * (`/api/queues/:vhost/:queue`).
 */
export class VhostObjects {
  constructor(
    readonly base: string,
    readonly param: string,
    private readonly kind: ObjectKind,
  ) {}

  /**
   * GET `base` (every vhost the user sees), `base/:vhost` and `base/:vhost/:param` (one object,
   * 404 when it or its vhost does not exist).
   */
  registerGets(r: Router): void {
    r.on("GET", this.base, "management", (ctx) => this.list(ctx, undefined));
    r.on("GET", `${this.base}/:vhost`, "vhost", (ctx) => this.list(ctx, requireVhost(ctx)));
    r.on("GET", `${this.base}/:vhost/:${this.param}`, "vhost", (ctx) => {
      const row = this.kind.info(ctx, requireVhost(ctx), ctx.params[this.param]);
      if (!row) throw notFound();
      return objectResponse(this.kind.augment(ctx, row), ctx.url);
    });
  }

  /** The path's vhost, or 404 when it or the path's object in it does not exist. */
  requireVhost(ctx: Ctx): string {
    const vhost = requireVhost(ctx);
    if (!this.kind.info(ctx, vhost, ctx.params[this.param])) throw notFound();
    return vhost;
  }

  private list(ctx: Ctx, vhost: string | undefined): Response {
    const rows = this.kind.details(ctx, vhost).filter((row) =>
      ctx.user.seesObjectsIn(row.vhost as string)
    );
    return listResponse(rows, ctx.url, { augment: (row) => this.kind.augment(ctx, row) });
  }
}

export const EXCHANGE_TYPES = [
  { name: "direct", description: "AMQP direct exchange, as per the AMQP specification" },
  { name: "fanout", description: "AMQP fanout exchange, as per the AMQP specification" },
  { name: "headers", description: "AMQP headers exchange, as per the AMQP specification" },
  { name: "topic", description: "AMQP topic exchange, as per the AMQP specification" },
].map((t) => ({ ...t, enabled: true }));
