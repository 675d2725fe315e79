/** The command-line entry: picks the subcommand and hands over to its module. */
import { VERSION, versionLine } from "../version.ts";
import { serveCommand } from "./serve.ts";
import { userCommand } from "./user.ts";
import { vhostCommand } from "./vhost.ts";
import { permissionsCommand } from "./permissions.ts";
import { listCommand } from "./list.ts";
import { statusCommand } from "./status.ts";
import { definitionsCommand } from "./definitions.ts";
import { policyCommand } from "./policy.ts";
import type { Command } from "./command.ts";

const COMMANDS: Command[] = [
  serveCommand,
  userCommand,
  vhostCommand,
  permissionsCommand,
  policyCommand,
  listCommand,
  statusCommand,
  definitionsCommand,
];

function usage(): string {
  const lines = [
    `broker ${VERSION}: a RabbitMQ-compatible AMQP 0-9-1 message broker`,
    "",
    "Usage: broker <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(12)}${c.summary}`),
    "",
    "Options:",
    "  -h, --help     show help (also: broker <command> --help)",
    "  -V, --version  print the version",
  ];
  return lines.join("\n");
}

/** Runs the CLI; returns the process exit code. */
export async function runCli(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === "-V" || name === "--version" || name === "version") {
    console.log(versionLine());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`broker: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return await cmd.run(rest);
}
