/** `broker policy …`: set, clear, list (RabbitMQ's set_policy, clear_policy, list_policies). */
import { commandGroup, UsageError } from "./command.ts";

const VHOST = { type: "string" as const, help: "virtual host (default /)" };
const vhostOf = (o: Record<string, string | boolean | undefined>) =>
  typeof o.vhost === "string" ? o.vhost : "/";

/** The definition argument: a JSON object such as '{"max-length":10}'. */
function parseDefinition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`DEFINITION_JSON is not valid JSON: ${(err as Error).message}`);
  }
}

function parsePriority(v: string | boolean | undefined): number | undefined {
  if (typeof v !== "string") return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--priority must be an integer`);
  return Number(v);
}

export const policyCommand = commandGroup("policy", "manage policies", {
  set: {
    usage:
      "set NAME PATTERN DEFINITION_JSON [--apply-to queues|exchanges|all] [--priority N] [--vhost /]",
    positionals: ["name", "pattern", "definition"],
    options: {
      "apply-to": { type: "string", value: "KIND", help: "queues, exchanges or all (default all)" },
      priority: { type: "string", value: "N", help: "the policy's priority (default 0)" },
      vhost: VHOST,
    },
    op: (p, o) => [
      "policy.set",
      {
        vhost: vhostOf(o),
        name: p.name,
        pattern: p.pattern,
        definition: parseDefinition(p.definition),
        applyTo: typeof o["apply-to"] === "string" ? o["apply-to"] : undefined,
        priority: parsePriority(o.priority),
      },
    ],
    done: (p) => `policy '${p.name}' set`,
  },
  clear: {
    usage: "clear NAME [--vhost /]",
    positionals: ["name"],
    options: { vhost: VHOST },
    op: (p, o) => ["policy.clear", { vhost: vhostOf(o), name: p.name }],
    done: (p) => `policy '${p.name}' cleared`,
  },
  list: {
    usage: "list [--vhost /]",
    positionals: [],
    options: { vhost: VHOST },
    op: (_p, o) => ["policy.list", { vhost: vhostOf(o) }],
    columns: ["vhost", "name", "pattern", "apply-to", "definition", "priority"],
  },
});
