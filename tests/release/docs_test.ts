/**
 * README.md's reference sections (CLI, serve flags, environment, config keys) are generated from
 * the code by `deno task docs` (scripts/gen_docs.ts). These tests fail when README.md differs from
 * what the generator would write now, e.g. after a config key or a command was added without
 * regenerating; and they check that what the generator reads from the help texts is right.
 */
import assert from "node:assert/strict";
import {
  helpEntries,
  README,
  renderSections,
  replaceSections,
  sectionOf,
  SECTIONS,
  staleSections,
} from "../../scripts/gen_docs.ts";
import { CONFIG_HELP } from "../../src/config/load.ts";
import { KEYS } from "../../src/config/keys.ts";
import { runCli } from "../../src/cli/main.ts";

Deno.test("docs: README.md's generated sections are up to date", async () => {
  const readme = await Deno.readTextFile(README);
  const stale = staleSections(readme, await renderSections());
  assert.deepEqual(
    stale,
    [],
    `README.md is out of date in its generated section(s) ${stale.join(", ")}: ` +
      "run `deno task docs` (and commit README.md)",
  );
});

Deno.test("docs: every honoured config key is in README.md's config section", async () => {
  const config = sectionOf(await Deno.readTextFile(README), "config");
  for (const k of KEYS) {
    const key = k.key.replace("$name", "NAME").replace("*", "NAME");
    assert.ok(config.includes(`| \`${key}\``), `${key} is missing: run \`deno task docs\``);
  }
});

Deno.test("docs: replacing sections leaves the text around the markers as it was", () => {
  const text = [
    "# Title",
    "",
    "hand-written <!-- a comment -->",
    "<!-- BEGIN GENERATED: a -->",
    "old a",
    "<!-- END GENERATED: a -->",
    "between",
    "<!-- BEGIN GENERATED: b -->",
    "<!-- END GENERATED: b -->",
    "tail",
    "",
  ].join("\n");
  const out = replaceSections(text, { a: "new a\n\n| x |", b: "new b" });
  assert.equal(
    out,
    [
      "# Title",
      "",
      "hand-written <!-- a comment -->",
      "<!-- BEGIN GENERATED: a -->",
      "",
      "new a",
      "",
      "| x |",
      "",
      "<!-- END GENERATED: a -->",
      "between",
      "<!-- BEGIN GENERATED: b -->",
      "",
      "new b",
      "",
      "<!-- END GENERATED: b -->",
      "tail",
      "",
    ].join("\n"),
  );
  assert.equal(sectionOf(out, "a"), "new a\n\n| x |");
  // Idempotent: a second run changes nothing.
  assert.equal(replaceSections(out, { a: "new a\n\n| x |", b: "new b" }), out);

  assert.throws(() => replaceSections(text, { c: "x" }), /no '<!-- BEGIN GENERATED: c -->'/);
  const reversed = "<!-- END GENERATED: a -->\n<!-- BEGIN GENERATED: a -->\n";
  assert.throws(() => replaceSections(reversed, { a: "x" }), /out of order or repeated/);
  const twice = text + "<!-- BEGIN GENERATED: a -->\n";
  assert.throws(() => sectionOf(twice, "a"), /out of order or repeated/);
});

Deno.test("docs: README.md has each generated section once", async () => {
  const readme = await Deno.readTextFile(README);
  for (const name of SECTIONS) assert.doesNotThrow(() => sectionOf(readme, name), name);
});

/** Runs the CLI in-process with its output discarded; returns the exit code. */
async function exitCode(args: string[]): Promise<number> {
  const { log, error } = console;
  console.log = console.error = () => {};
  try {
    return await runCli(args);
  } finally {
    Object.assign(console, { log, error });
  }
}

Deno.test("docs: the serve flags read from the help are the flags serve accepts", async () => {
  const flags = helpEntries(CONFIG_HELP, "Flags:");
  assert.ok(flags.length >= 7, `flags: ${flags.map((f) => f.name)}`);
  for (const { name, description } of flags) {
    const [flag, value] = name.split(" ");
    assert.match(flag, /^--[a-z-]+$/, `a flag name: ${name}`);
    assert.ok(value && description !== "", `${name} has a value and a description`);
    // Parsed with a value and --help: exit 0 (help) rather than 2 (unknown flag).
    assert.equal(await exitCode(["serve", flag, "x", "--help"]), 0, `broker serve ${flag}`);
  }
  assert.equal(await exitCode(["serve", "--no-such-flag", "x", "--help"]), 2);
});

Deno.test("docs: the environment variables read from the help are named and described", () => {
  const env = helpEntries(CONFIG_HELP, "Environment");
  const names = env.flatMap((e) => e.name.split(/,\s*/));
  for (const name of names) assert.match(name, /^[A-Z][A-Z0-9_]+$/, `a variable name: ${name}`);
  for (const e of env) assert.notEqual(e.description, "", `${e.name} has a description`);
  for (const v of ["BROKER_DATA_DIR", "BROKER_CONFIG_FILE", "RABBITMQ_NODE_PORT"]) {
    assert.ok(names.includes(v), `${v} in ${names}`);
  }
});
