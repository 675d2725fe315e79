/** `broker list queues|exchanges|bindings|connections|channels|consumers`. */
import { commandGroup } from "./command.ts";
import type { Action } from "./command.ts";

const VHOST = { type: "string" as const, help: "virtual host (default /; all for connections…)" };

function listing(what: string, columns: string[], allVhosts: boolean): Action {
  return {
    usage: `${what} [--vhost /]`,
    positionals: [],
    options: { vhost: VHOST },
    op: (_p, o) => [
      `list.${what}`,
      { vhost: typeof o.vhost === "string" ? o.vhost : allVhosts ? undefined : "/" },
    ],
    columns,
  };
}

export const listCommand = commandGroup(
  "list",
  "list queues, exchanges, bindings, connections, channels, consumers",
  {
    queues: listing("queues", [
      "name",
      "messages",
      "consumers",
      "durable",
      "auto_delete",
      "exclusive",
    ], false),
    exchanges: listing("exchanges", ["name", "type", "durable", "auto_delete", "internal"], false),
    bindings: listing("bindings", [
      "source",
      "destination",
      "destination_type",
      "routing_key",
      "arguments",
    ], false),
    connections: listing(
      "connections",
      ["name", "user", "vhost", "channels", "client_product"],
      true,
    ),
    channels: listing("channels", [
      "connection",
      "number",
      "user",
      "consumer_count",
      "messages_unacknowledged",
      "prefetch_count",
    ], true),
    consumers: listing("consumers", [
      "queue",
      "channel",
      "consumer_tag",
      "ack_required",
      "exclusive",
      "prefetch_count",
    ], true),
  },
);
