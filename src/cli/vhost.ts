/** `broker vhost …`: add, delete, list, and limits (RabbitMQ's set/clear/list_vhost_limits). */
import { commandGroup, UsageError } from "./command.ts";
import type { OpArgs } from "../control/ops.ts";

type Options = Record<string, string | boolean | undefined>;

const LIMIT_OPTIONS = ["max-connections", "max-queues"] as const;

/** A limit given on the command line: an integer; negative or `none` removes the limit (null). */
function parseLimit(flag: string, v: string): number | null {
  if (v === "none") return null;
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${flag} must be an integer or none (use --${flag}=-1 for a negative)`);
  }
  const n = Number(v);
  return n < 0 ? null : n;
}

/** Show (no change flags), set some limits, or clear them all. */
function limitsOp(p: Record<string, string>, o: Options): [string, OpArgs] {
  const changes: Record<string, number | null> = {};
  for (const flag of LIMIT_OPTIONS) {
    const v = o[flag];
    if (typeof v === "string") changes[flag] = parseLimit(flag, v);
  }
  const setting = Object.keys(changes).length > 0;
  if ((setting || o.clear) && p.name === undefined) {
    throw new UsageError("changing limits needs the vhost NAME");
  }
  if (setting && o.clear) {
    throw new UsageError("--clear cannot be combined with --max-connections or --max-queues");
  }
  if (o.clear) return ["vhost.limits.clear", { vhost: p.name }];
  if (setting) return ["vhost.limits.update", { vhost: p.name, changes }];
  return ["vhost.limits.list", { vhost: p.name }];
}

export const vhostCommand = commandGroup("vhost", "manage virtual hosts", {
  add: {
    usage: "add NAME [--description TEXT]",
    positionals: ["name"],
    options: {
      description: { type: "string", value: "TEXT", help: "a description for the vhost" },
    },
    op: (p, o) => ["vhost.add", { name: p.name, description: o.description ?? "" }],
    done: (p) => `vhost '${p.name}' added`,
  },
  delete: {
    usage: "delete NAME",
    positionals: ["name"],
    op: (p) => ["vhost.delete", { name: p.name }],
    done: (p) => `vhost '${p.name}' deleted`,
  },
  list: {
    usage: "list",
    positionals: [],
    op: () => ["vhost.list", {}],
    columns: ["name", "description"],
  },
  limits: {
    usage: "limits [NAME] [--max-connections N] [--max-queues N] [--clear]",
    positionals: ["name?"],
    options: {
      "max-connections": {
        type: "string",
        value: "N",
        help: "most client connections on NAME (0: none; -1 or none: no limit)",
      },
      "max-queues": {
        type: "string",
        value: "N",
        help: "most queues in NAME, exclusive ones too (0: none; -1 or none: no limit)",
      },
      clear: { type: "boolean", help: "remove every limit of NAME" },
    },
    op: limitsOp,
    columns: ["vhost", "limits"],
  },
});
