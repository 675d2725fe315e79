/**
 * /api/users (administrators): list; /api/users/{name} GET, PUT ({password} or {password_hash,
 * hashing_algorithm}, tags as "a,b" or a list; 201 created, 204 updated), DELETE;
 * /api/users/{name}/permissions; /api/users/without-permissions; POST /api/users/bulk-delete.
 */
import type { Ctx, Router } from "../router.ts";
import { badRequest, call, json, noContent, notFound, putResult, readJson } from "../http.ts";
import { listResponse, objectResponse } from "../pagination.ts";
import { DefinitionsError, parseTags } from "../definitions.ts";

export function register(r: Router): void {
  r.on(
    "GET",
    "/api/users",
    "administrator",
    (ctx) => listResponse(ctx.service.userDetails(), ctx.url),
  );
  r.on("GET", "/api/users/without-permissions", "administrator", (ctx) => {
    const withPerms = new Set(ctx.service.listPermissions().map((p) => p.user));
    const rows = ctx.service.userDetails().filter((u) => !withPerms.has(u.name));
    return listResponse(rows, ctx.url);
  });
  r.on("POST", "/api/users/bulk-delete", "administrator", async (ctx) => {
    const body = await readJson(ctx.req);
    const users = body.users;
    if (!Array.isArray(users) || users.some((u) => typeof u !== "string")) {
      throw badRequest("users must be a list of user names");
    }
    for (const u of users as string[]) {
      if (ctx.service.userInfo(u)) call(() => ctx.service.deleteUser(u));
    }
    return noContent();
  });
  r.on("GET", "/api/users/:user", "administrator", (ctx) => objectResponse(user(ctx), ctx.url));
  r.on("PUT", "/api/users/:user", "administrator", put);
  r.on("DELETE", "/api/users/:user", "administrator", (ctx) => {
    user(ctx);
    call(() => ctx.service.deleteUser(ctx.params.user));
    return noContent();
  });
  r.on("GET", "/api/users/:user/permissions", "administrator", (ctx) => {
    user(ctx);
    return listResponse(ctx.service.userPermissions(ctx.params.user), ctx.url);
  });
  r.on("GET", "/api/users/:user/topic-permissions", "administrator", (ctx) => {
    user(ctx);
    return json([]);
  });
}

function user(ctx: Ctx): Record<string, unknown> {
  const row = ctx.service.userInfo(ctx.params.user);
  if (!row) throw notFound();
  return row;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${key} must be a string`);
  return v;
}

async function put(ctx: Ctx): Promise<Response> {
  const body = await readJson(ctx.req);
  const password = optionalString(body, "password");
  const passwordHash = optionalString(body, "password_hash");
  const hashingAlgorithm = optionalString(body, "hashing_algorithm");
  let tags: string[] | undefined;
  try {
    tags = body.tags === undefined ? undefined : parseTags(body.tags);
  } catch (err) {
    if (err instanceof DefinitionsError) throw badRequest(err.message);
    throw err;
  }
  if (password !== undefined && passwordHash !== undefined) {
    throw badRequest("password and password_hash are mutually exclusive");
  }
  const created = call(() =>
    ctx.service.upsertUser({
      name: ctx.params.user,
      password,
      passwordHash,
      hashingAlgorithm: passwordHash === undefined ? undefined : hashingAlgorithm,
      tags,
    })
  );
  return putResult(created);
}
