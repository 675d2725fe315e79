/**
 * `broker definitions export FILE|-` and `broker definitions import FILE|-`: RabbitMQ's definitions
 * JSON (users, vhosts, permissions, queues, exchanges, bindings) out of and into the broker, the
 * same document as GET/POST /api/definitions. Like the other commands it goes through the control
 * socket of a server running on the data dir, else works on the data dir directly.
 */
import { parseArgs } from "node:util";
import { DATA_DIR_HELP, resolveDataDir, runOp } from "./control.ts";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE, UsageError } from "./command.ts";
import type { Command } from "./command.ts";
import type { OpArgs } from "../control/ops.ts";

const HELP = `Usage: broker definitions <action> [options]

Export or import definitions (RabbitMQ's JSON format: users with password hashes, vhosts,
permissions, policies, vhost limits, durable queues and exchanges, bindings). Files exported
from RabbitMQ 3.x import here, and ours import into RabbitMQ. Other runtime parameters and
global parameters are accepted and ignored. A document with anything this broker cannot take
(a quorum or stream queue, an unknown exchange type) is refused whole, before anything changes.

Actions:
  export FILE|-        write the definitions to FILE (- for standard output)
  import FILE|-        read definitions from FILE (- for standard input) and apply them

Options:
${DATA_DIR_HELP}
  --vhost VHOST        only this vhost's queues, exchanges and bindings (no users, vhosts,
                       permissions), as /api/definitions/VHOST
  -h, --help           show this help

With a server running on the data dir, the definitions are read from and applied to it live;
otherwise the data dir is used directly. Exit codes: 0 done, 1 refused, 2 usage.`;

async function op(dataDir: string, name: string, args: OpArgs): Promise<unknown> {
  const { response } = await runOp(dataDir, name, args);
  if (!response.ok) throw new Error(response.error);
  return response.result;
}

async function exportDefinitions(dataDir: string, file: string, vhost?: string): Promise<string> {
  const doc = await op(dataDir, "definitions.export", { vhost }) as Record<string, unknown>;
  const text = JSON.stringify(doc, null, 2) + "\n";
  if (file === "-") await Deno.stdout.write(new TextEncoder().encode(text));
  else await Deno.writeTextFile(file, text);
  const n = (k: string) => Array.isArray(doc[k]) ? (doc[k] as unknown[]).length : 0;
  return `exported ${vhost === undefined ? `${n("users")} users, ${n("vhosts")} vhosts, ` : ""}${
    n("queues")
  } queues, ${n("exchanges")} exchanges, ${n("bindings")} bindings`;
}

async function readInput(file: string): Promise<string> {
  if (file !== "-") return await Deno.readTextFile(file);
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}

async function importDefinitions(dataDir: string, file: string, vhost?: string): Promise<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readInput(file));
  } catch (err) {
    if (err instanceof SyntaxError) throw new Error(`${file}: not JSON: ${err.message}`);
    throw err;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new Error(`${file}: definitions must be a JSON object`);
  }
  // One request: the service validates the whole document before it changes anything.
  const totals = await op(dataDir, "definitions.import", { definitions: doc, vhost }) as Record<
    string,
    unknown
  >;
  const ignored = (totals.ignored ?? {}) as Record<string, number>;
  const parts = [
    "users",
    "vhosts",
    "permissions",
    "policies",
    "vhost_limits",
    "exchanges",
    "queues",
    "bindings",
  ]
    .filter((k) => totals[k]).map((k) => `${totals[k]} ${k}`);
  let text = `imported ${parts.length > 0 ? parts.join(", ") : "nothing"}`;
  if (totals.existing_kept) text += ` (${totals.existing_kept} existing kept as they were)`;
  const skipped = Object.entries(ignored).map(([k, n]) => `${n} ${k}`);
  if (skipped.length > 0) text += `; not supported, ignored: ${skipped.join(", ")}`;
  return text;
}

export const definitionsCommand: Command = {
  name: "definitions",
  summary: "export or import definitions (RabbitMQ's JSON format)",
  async run(args) {
    try {
      const { values, positionals } = parseArgs({
        args,
        options: {
          "data-dir": { type: "string" },
          vhost: { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        allowPositionals: true,
        strict: true,
      });
      if (values.help) {
        console.log(HELP);
        return EXIT_OK;
      }
      const [action, file, ...extra] = positionals;
      if (action === undefined) {
        console.log(HELP);
        return EXIT_USAGE;
      }
      if (action !== "export" && action !== "import") {
        throw new UsageError(`unknown action '${action}'`);
      }
      if (file === undefined || extra.length > 0) {
        throw new UsageError(`expected: broker definitions ${action} FILE|-`);
      }
      const dataDir = resolveDataDir(values["data-dir"]);
      const vhost = values.vhost;
      const done = action === "export"
        ? await exportDefinitions(dataDir, file, vhost)
        : await importDefinitions(dataDir, file, vhost);
      // With the document on standard output, the summary goes to standard error.
      if (action === "export" && file === "-") console.error(done);
      else console.log(done);
      return EXIT_OK;
    } catch (err) {
      if (
        err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
      ) {
        console.error(`broker definitions: ${(err as Error).message}\n\n${HELP}`);
        return EXIT_USAGE;
      }
      console.error(`broker definitions: ${(err as Error).message}`);
      return EXIT_REFUSED;
    }
  },
};
