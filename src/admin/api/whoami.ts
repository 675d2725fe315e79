/** GET /api/whoami: the authenticated user and its tags. */
import type { Router } from "../router.ts";
import { json } from "../http.ts";

export function register(r: Router): void {
  r.on(
    "GET",
    "/api/whoami",
    "management",
    (ctx) => json({ name: ctx.user.name, tags: ctx.user.tags, is_internal_user: true }),
  );
}
