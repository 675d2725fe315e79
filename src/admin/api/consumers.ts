/** /api/consumers and /api/consumers/{vhost}: consumers in the vhosts the user may use. */
import type { Ctx, Router } from "../router.ts";
import { listResponse } from "../pagination.ts";
import type { Row } from "../pagination.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/consumers", "management", (ctx) => list(ctx, undefined));
  r.on("GET", "/api/consumers/:vhost", "vhost", (ctx) => list(ctx, requireVhost(ctx)));
}

function list(ctx: Ctx, vhost: string | undefined): Response {
  const rows = ctx.service.consumerDetails(vhost).filter((c) =>
    ctx.user.seesObjectsIn((c.queue as Row).vhost as string)
  );
  return listResponse(rows, ctx.url, { defaultSort: ["queue.vhost", "queue.name"] });
}
