/** Shared helpers for the config tests: config files in a temp dir, loaded through loadConfig. */
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config/load.ts";
import type { ConfigSources, LoadedConfig } from "../../src/config/load.ts";

/** Writes `files` (name → text) into a fresh temp dir and runs `fn` with its path. */
export async function withDir(
  files: Record<string, string>,
  fn: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "broker-config-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Loads `text` as the config file (via --config); `more` adds flags and env. */
export async function loadText(
  text: string,
  more: Partial<ConfigSources> = {},
): Promise<LoadedConfig & { file: string }> {
  let result: (LoadedConfig & { file: string }) | undefined;
  await withDir({ "rabbitmq.conf": text }, (dir) => {
    const file = `${dir}/rabbitmq.conf`;
    result = {
      ...loadConfig({ flags: { config: file, ...more.flags }, env: more.env ?? {} }),
      file,
    };
  });
  return result!;
}

/** Asserts that loading `text` fails with exactly `message`, where FILE is the file's path. */
export async function loadFails(text: string, message: string): Promise<void> {
  await withDir({ "rabbitmq.conf": text }, (dir) => {
    const file = `${dir}/rabbitmq.conf`;
    assert.throws(() => loadConfig({ flags: { config: file }, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message, message.replaceAll("FILE", file));
      return true;
    });
  });
}

/** Asserts that `sources` fail to load with exactly `message`. */
export function sourcesFail(sources: ConfigSources, message: string | RegExp): void {
  assert.throws(() => loadConfig(sources), (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    if (typeof message === "string") assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}
