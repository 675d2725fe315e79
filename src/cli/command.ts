/** The shape every CLI subcommand module exports. */
export interface Command {
  name: string;
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Thrown for bad command-line usage; printed with the command's help, exit code 2. */
export class UsageError extends Error {}
