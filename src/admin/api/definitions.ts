/**
 * /api/definitions and /api/definitions/{vhost} (administrators): GET exports RabbitMQ's
 * definitions JSON (`?download=NAME` as an attachment); POST imports one (a JSON body, or a
 * multipart form with the file, as RabbitMQ's UI uploads it): 204, or 400 with the reason.
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, call, json, MAX_BODY, noContent, readJson } from "../http.ts";
import { requireVhost } from "./common.ts";

export function register(r: Router): void {
  r.on("GET", "/api/definitions", "administrator", (ctx) => exportDefs(ctx, undefined));
  r.on("POST", "/api/definitions", "administrator", (ctx) => importDefs(ctx, undefined));
  r.on(
    "GET",
    "/api/definitions/:vhost",
    "administrator",
    (ctx) => exportDefs(ctx, requireVhost(ctx)),
  );
  r.on(
    "POST",
    "/api/definitions/:vhost",
    "administrator",
    (ctx) => importDefs(ctx, requireVhost(ctx)),
  );
}

function exportDefs(ctx: Ctx, vhost: string | undefined): Response {
  const defs = ctx.service.exportDefinitions(vhost);
  const download = ctx.url.searchParams.get("download");
  const headers: Record<string, string> = download
    ? { "content-disposition": `attachment; filename="${download.replace(/["\\\r\n]/g, "_")}"` }
    : {};
  return json(defs, 200, headers);
}

async function importDefs(ctx: Ctx, vhost: string | undefined): Promise<Response> {
  let doc: unknown;
  const type = ctx.req.headers.get("content-type") ?? "";
  // RabbitMQ's UI uploads a form; anything else is read as JSON whatever its content type
  // (curl -d sends JSON as application/x-www-form-urlencoded).
  if (type.startsWith("multipart/form-data")) {
    const form = await ctx.req.formData();
    const file = form.get("file");
    const text = typeof file === "string" ? file : await file?.text();
    if (!text) throw badRequest("the form has no 'file' field");
    if (text.length > MAX_BODY) throw badRequest("Exceeded HTTP request body size limit");
    try {
      doc = JSON.parse(text);
    } catch {
      throw badRequest("not_json");
    }
  } else doc = await readJson(ctx.req);
  call(() => ctx.service.importDefinitions(doc, vhost));
  return noContent();
}
