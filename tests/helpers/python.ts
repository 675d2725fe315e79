/**
 * Runs Debian's /usr/bin/python3 (with python3-pika / python3-kombu) for interop tests.
 * Tests call {@link pythonSkipReason} and skip with its message when the client is missing.
 */
export const PYTHON = "/usr/bin/python3";

const cache = new Map<string, string | null>();

/** Why a test needing `module` cannot run here, or null when it can. */
export function pythonSkipReason(module = "pika"): string | null {
  if (cache.has(module)) return cache.get(module)!;
  let reason: string | null = null;
  try {
    const out = new Deno.Command(PYTHON, { args: ["-c", `import ${module}`], stderr: "null" })
      .outputSync();
    if (!out.success) reason = `${PYTHON} has no '${module}' (apt-get install python3-${module})`;
  } catch {
    reason = `${PYTHON} not found (apt-get install python3 python3-${module})`;
  }
  cache.set(module, reason);
  return reason;
}

export interface PythonResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Python script file with arguments; kills it after `timeoutMs`. */
export async function runPython(
  script: string,
  args: string[] = [],
  timeoutMs = 30_000,
): Promise<PythonResult> {
  const child = new Deno.Command(PYTHON, {
    args: [script, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1" },
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Starts a long-running Python script (a consumer), for tests that talk to it while it runs. */
export function spawnPython(script: string, args: string[] = []): Deno.ChildProcess {
  return new Deno.Command(PYTHON, {
    args: [script, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1" },
  }).spawn();
}
