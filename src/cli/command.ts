/** The shape every CLI subcommand module exports, and the helpers they share. */
import { parseArgs } from "node:util";
import { DATA_DIR_HELP, resolveDataDir, runOp } from "./control.ts";
import type { OpArgs } from "../control/ops.ts";
import { formatRows, isOutputFormat } from "./format.ts";
import type { OutputFormat } from "./format.ts";

export interface Command {
  name: string;
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;
export const EXIT_USAGE = 2;

/** One action of a command group: `broker user add NAME PASSWORD`. */
export interface Action {
  usage: string;
  /** Positional argument names, in order; a trailing `?` marks an optional one. */
  positionals: string[];
  /** `value` names a string option's argument in the help (default: the option's name). */
  options?: Record<string, { type: "string" | "boolean"; help: string; value?: string }>;
  /** Builds the control operation from parsed arguments; undefined result = nothing printed. */
  op(
    p: Record<string, string>,
    o: Record<string, string | boolean | undefined>,
  ): Promise<[string, OpArgs]> | [string, OpArgs];
  /** Columns for table output of list results. */
  columns?: string[];
  /** The message printed on success for changes. */
  done?: (p: Record<string, string>) => string;
}

/** A command made of named actions sharing --data-dir and --format handling. */
/** `  --tags TAGS          help`: a string option shows the name of its argument. */
function optionLine(name: string, o: { type: string; help: string; value?: string }): string {
  const flag = o.type === "string"
    ? `--${name} ${o.value ?? name.toUpperCase().replaceAll("-", "_")}`
    : `--${name}`;
  return flag.length < 20
    ? `  ${flag.padEnd(21)}${o.help}`
    : `  ${flag}\n${" ".repeat(23)}${o.help}`;
}

export function commandGroup(
  name: string,
  summary: string,
  actions: Record<string, Action>,
): Command {
  const help = () =>
    [
      `Usage: broker ${name} <action> [options]`,
      "",
      `${summary[0].toUpperCase()}${summary.slice(1)}.`,
      "",
      "Actions:",
      ...Object.values(actions).map((a) => `  ${a.usage}`),
      "",
      "Options:",
      DATA_DIR_HELP,
      "  --format FORMAT      table or json, for listings (default table)",
      ...Object.values(actions).flatMap((a) =>
        Object.entries(a.options ?? {}).map(([k, v]) => optionLine(k, v))
      ).filter((v, i, all) => all.indexOf(v) === i),
      "  -h, --help           show this help",
      "",
      "With a server running on the data dir, changes go through its control socket and apply at",
      "once; otherwise they are written to the data dir directly. Exit codes: 0 done, 1 refused,",
      "2 usage.",
    ].join("\n");
  return {
    name,
    summary,
    async run(args) {
      const [actionName, ...rest] = args;
      if (actionName === undefined || actionName === "-h" || actionName === "--help") {
        console.log(help());
        return actionName === undefined ? EXIT_USAGE : EXIT_OK;
      }
      const action = actions[actionName];
      try {
        if (!action) throw new UsageError(`unknown action '${actionName}'`);
        const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
          "data-dir": { type: "string" },
          format: { type: "string" },
          help: { type: "boolean", short: "h" },
        };
        for (const [k, v] of Object.entries(action.options ?? {})) options[k] = { type: v.type };
        const { values, positionals } = parseArgs({
          args: rest,
          options,
          allowPositionals: true,
          strict: true,
        });
        if (values.help) {
          console.log(help());
          return EXIT_OK;
        }
        const required = action.positionals.filter((p) => !p.endsWith("?"));
        if (
          positionals.length < required.length || positionals.length > action.positionals.length
        ) {
          throw new UsageError(`expected: broker ${name} ${action.usage}`);
        }
        const named: Record<string, string> = {};
        action.positionals.forEach((p, i) => {
          if (positionals[i] !== undefined) named[p.replace("?", "")] = positionals[i];
        });
        const format = (values.format as string | undefined) ?? "table";
        if (!isOutputFormat(format)) throw new UsageError(`--format must be table or json`);
        const [op, opArgs] = await action.op(
          named,
          values as Record<string, string | boolean | undefined>,
        );
        const dataDir = resolveDataDir(values["data-dir"] as string | undefined);
        return print(await runOp(dataDir, op, opArgs), format as OutputFormat, action, named);
      } catch (err) {
        if (
          err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
        ) {
          console.error(`broker ${name}: ${(err as Error).message}\n\n${help()}`);
          return EXIT_USAGE;
        }
        console.error(`broker ${name}: ${(err as Error).message}`);
        return EXIT_REFUSED;
      }
    },
  };
}

function print(
  { response }: Awaited<ReturnType<typeof runOp>>,
  format: OutputFormat,
  action: Action,
  named: Record<string, string>,
): number {
  if (!response.ok) {
    console.error(`Error: ${response.error}`);
    return EXIT_REFUSED;
  }
  const result = response.result;
  if (Array.isArray(result)) console.log(formatRows(result, format, action.columns));
  else if (result !== null && typeof result === "object") {
    console.log(
      format === "json"
        ? JSON.stringify(result, null, 2)
        : formatRows([result as Record<string, unknown>], "table"),
    );
  } else if (action.done) console.log(action.done(named));
  return EXIT_OK;
}

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/**
 * Parses a command's flags (plus -h/--help). Returns the values, or the exit code when the command
 * is done already: 0 after printing help, 2 after a usage error (printed with the help).
 */
export function parseFlags<T extends FlagSpec>(
  command: string,
  help: string,
  args: string[],
  options: T,
): { values: { [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean } } | number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`broker ${command}: ${(err as Error).message}\n\n${help}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    console.log(help);
    return EXIT_OK;
  }
  return { values } as {
    values: { [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean };
  };
}

/** Reads the first line of standard input (for --password-stdin). */
export async function readStdinLine(): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const c of Deno.stdin.readable) chunks.push(c);
  const text = new TextDecoder().decode(
    chunks.reduce((a, c) => {
      const out = new Uint8Array(a.length + c.length);
      out.set(a);
      out.set(c, a.length);
      return out;
    }, new Uint8Array(0)),
  );
  return text.split(/\r?\n/)[0];
}
