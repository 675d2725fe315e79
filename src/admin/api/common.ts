/** Small helpers the controllers share. */
import type { Ctx } from "../router.ts";
import { notFound } from "../http.ts";

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

export const EXCHANGE_TYPES = [
  { name: "direct", description: "AMQP direct exchange, as per the AMQP specification" },
  { name: "fanout", description: "AMQP fanout exchange, as per the AMQP specification" },
  { name: "headers", description: "AMQP headers exchange, as per the AMQP specification" },
  { name: "topic", description: "AMQP topic exchange, as per the AMQP specification" },
].map((t) => ({ ...t, enabled: true }));
