/**
 * `deno task docs`: regenerates README.md's reference sections from the code, so they cannot drift
 * from it:
 *
 * - `cli`: the top-level usage and every command's own `--help` text (run in-process);
 * - `flags` and `env`: `broker serve`'s flags and the environment variables, from the
 *   configuration help that `serve --help` prints ({@link CONFIG_HELP});
 * - `config`: every rabbitmq.conf key the broker honours ({@link KEYS}: value, default, help) and
 *   the RabbitMQ keys it accepts without using ({@link UNUSED_KEYS}).
 *
 * Each section is written between `<!-- BEGIN GENERATED: NAME -->` and
 * `<!-- END GENERATED: NAME -->` in README.md, formatted with `deno fmt`; the text around the
 * markers is left as it is. tests/release/docs_test.ts fails when README.md differs from what this
 * script would write now.
 *
 *   deno task docs              # rewrite README.md
 *   deno task docs --check      # exit 1 (naming the stale sections) when README.md is out of date
 */
import { runCli } from "../src/cli/main.ts";
import { CONFIG_HELP } from "../src/config/load.ts";
import { KEYS, UNUSED_KEYS } from "../src/config/keys.ts";

const ROOT = new URL("..", import.meta.url).pathname;
export const README = `${ROOT}README.md`;

/** The names of the generated sections, in README order. */
export const SECTIONS = ["cli", "flags", "env", "config"] as const;
export type SectionName = typeof SECTIONS[number];

const begin = (name: string) => `<!-- BEGIN GENERATED: ${name} -->`;
const end = (name: string) => `<!-- END GENERATED: ${name} -->`;

// ---------------------------------------------------------------------------------------------
// Help texts, as the CLI prints them

/** What `broker ARGS` prints on standard output, run in-process; throws unless it exits 0. */
async function cliOutput(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => lines.push(parts.map(String).join(" "));
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    console.log = log;
  }
  if (code !== 0) throw new Error(`broker ${args.join(" ")} exited with ${code}`);
  return lines.join("\n");
}

/** The commands the top-level help lists, with their summaries. */
function commandsIn(help: string): { name: string; summary: string }[] {
  const section = help.split("\nCommands:\n")[1]?.split("\n\n")[0];
  if (!section) throw new Error("the top-level help has no 'Commands:' section");
  return section.split("\n").map((line) => {
    const [, name, summary] = line.match(/^\s+(\S+)\s+(.*)$/) ?? [];
    if (!name) throw new Error(`cannot read the command line '${line}' of the top-level help`);
    return { name, summary };
  });
}

/** A fenced code block; the fence is longer than any backtick run inside. */
function codeBlock(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

/**
 * The usage and every command's help. `serve --help` ends with the whole configuration reference,
 * which the `flags`, `env` and `config` sections render as tables; here it is left out.
 */
async function cliSection(): Promise<string> {
  const top = await cliOutput(["--help"]);
  // From "Usage:" on: the first line names the version, which would date the README.
  const usage = top.slice(top.indexOf("Usage:"));
  const out = [codeBlock(usage)];
  for (const { name, summary } of commandsIn(top)) {
    let help = await cliOutput([name, "--help"]);
    if (help.includes(CONFIG_HELP)) {
      help = help.replace(
        CONFIG_HELP,
        'Options:\n  (flags, environment variables, config file keys: see "Configuration")',
      );
    }
    out.push(`#### \`broker ${name}\`: ${summary}`, codeBlock(help));
  }
  return out.join("\n\n");
}

// ---------------------------------------------------------------------------------------------
// Flags and environment variables, from the configuration help

export interface HelpEntry {
  /** What the entry is about: `--port PORT`, `RABBITMQ_NODE_PORT`... */
  name: string;
  description: string;
}

/**
 * The entries of one two-column list of {@link CONFIG_HELP}, the one under the heading line that
 * starts with `heading` and ends at the next blank line. A name too long for its column has its
 * description on the lines below; continuation lines are indented to the description column.
 */
export function helpEntries(help: string, heading: string): HelpEntry[] {
  const lines = help.split("\n");
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no '${heading}' list in the configuration help`);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    body.push(line);
  }
  const continuation = body.filter((l) => /^ {4,}\S/.test(l));
  // The description column: where continuation lines start, else where the widest name ends.
  const column = continuation.length > 0
    ? continuation[0].search(/\S/)
    : Math.max(...body.map((l) => (l.match(/^\s+\S+(?: \S+)*\s\s+/) ?? [""])[0].length));
  const entries: HelpEntry[] = [];
  for (const line of body) {
    if (/^ {4,}\S/.test(line)) {
      const last = entries.at(-1);
      if (!last) throw new Error(`'${heading}' list starts with a continuation line: ${line}`);
      last.description = `${last.description} ${line.trim()}`.trim();
    } else if (line.length > column && line[column - 1] === " ") {
      entries.push({ name: line.slice(0, column).trim(), description: line.slice(column).trim() });
    } else entries.push({ name: line.trim(), description: "" });
  }
  if (entries.length === 0) throw new Error(`the '${heading}' list is empty`);
  return entries;
}

/** Inline code in a table cell, e.g. `PORT \| IP:PORT`: pipes escaped, on one line. */
const code = (text: string) => `\`${text.replaceAll("|", "\\|").replaceAll("\n", " ")}\``;

/** Help text as a table cell: what markdown would take for markup escaped, on one line. */
const cell = (text: string) => text.replace(/[\\`*<|]/g, (c) => `\\${c}`).replaceAll("\n", " ");

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
}

function flagsSection(): string {
  return table(
    ["Flag", "Meaning"],
    helpEntries(CONFIG_HELP, "Flags:").map((e) => [code(e.name), cell(e.description)]),
  );
}

function envSection(): string {
  return table(
    ["Variable", "Meaning"],
    helpEntries(CONFIG_HELP, "Environment").map((e) => [
      e.name.split(/,\s*/).map(code).join(", "),
      cell(e.description),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Config file keys

/** A key pattern as written in a file: `listeners.tcp.$name` is `listeners.tcp.NAME`. */
const keyPattern = (key: string) => key.replace("$name", "NAME").replace("*", "NAME");

function configSection(): string {
  const keys = table(
    ["Key", "Value", "Default", "Meaning"],
    KEYS.map((k) => [
      code(keyPattern(k.key)),
      code(k.value),
      k.default === "-" ? "" : code(k.default),
      cell(k.help),
    ]),
  );
  const unused = "Other RabbitMQ keys are accepted with a warning that broker does not use them: " +
    `${UNUSED_KEYS.map((k) => `\`${k}\``).join(", ")} (\`*\` stands for the keys below it that ` +
    "the table does not list). Any other key is ignored with a warning.";
  return `${keys}\n\n${unused}`;
}

// ---------------------------------------------------------------------------------------------
// README

/** Formats markdown as `deno fmt` does with the repository's settings. */
async function formatMarkdown(text: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--ext=md", "-"],
    cwd: ROOT, // deno.json's fmt settings (lineWidth)
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Every generated section's content, formatted, without its markers. */
export async function renderSections(): Promise<Record<SectionName, string>> {
  const raw: Record<SectionName, string> = {
    cli: await cliSection(),
    flags: flagsSection(),
    env: envSection(),
    config: configSection(),
  };
  const out = {} as Record<SectionName, string>;
  for (const name of SECTIONS) out[name] = (await formatMarkdown(raw[name])).trimEnd();
  return out;
}

/** Where a section's content lies in `text` (between its markers' lines). */
function sectionBounds(text: string, name: string): { from: number; to: number } {
  const b = text.indexOf(begin(name));
  const e = text.indexOf(end(name));
  if (b < 0 || e < 0) {
    throw new Error(`README.md has no '${begin(name)}' ... '${end(name)}' markers`);
  }
  if (e < b || text.indexOf(begin(name), b + 1) >= 0 || text.indexOf(end(name), e + 1) >= 0) {
    throw new Error(`README.md's markers of section '${name}' are out of order or repeated`);
  }
  return { from: b + begin(name).length, to: e };
}

/** The content between a section's markers (blank lines around it trimmed). */
export function sectionOf(text: string, name: string): string {
  const { from, to } = sectionBounds(text, name);
  return text.slice(from, to).trim();
}

/**
 * `text` with each named section's content replaced; everything outside the markers stays as
 * it was. Throws when a section's markers are missing, repeated or out of order.
 */
export function replaceSections(text: string, sections: Record<string, string>): string {
  let out = text;
  for (const [name, content] of Object.entries(sections)) {
    const { from, to } = sectionBounds(out, name);
    out = `${out.slice(0, from)}\n\n${content}\n\n${out.slice(to)}`;
  }
  return out;
}

/** The sections whose content in `readme` differs from `sections`. */
export function staleSections(
  readme: string,
  sections: Record<SectionName, string>,
): SectionName[] {
  return SECTIONS.filter((name) => sectionOf(readme, name) !== sections[name]);
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const readme = await Deno.readTextFile(README);
  const sections = await renderSections();
  const stale = staleSections(readme, sections);
  if (check) {
    if (stale.length === 0) return 0;
    console.error(`README.md is out of date (${stale.join(", ")}): run \`deno task docs\``);
    return 1;
  }
  if (stale.length === 0) {
    console.log("README.md is up to date");
    return 0;
  }
  await Deno.writeTextFile(README, replaceSections(readme, sections));
  console.log(`README.md: regenerated ${stale.join(", ")}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
