/**
 * The permissions the broker runs with: the one list `deno task compile` bakes into the binaries
 * and tests/release/release_test.ts starts the broker with (instead of -A) to prove it suffices.
 *
 * - `--allow-net`: AMQP and management listeners on whatever address and port the configuration
 *   names (known only at run time, so unscoped).
 * - `--allow-read`, `--allow-write`: the data dir (metadata.db through node:sqlite, the message
 *   log, the control socket, which Unix sockets need both for), the config file and TLS files.
 *   These paths come from flags, the environment and the config file at run time, while a
 *   compiled binary's permissions are fixed when it is built, so they cannot be scoped to a
 *   directory here without breaking `--data-dir /var/lib/broker` or a config file elsewhere.
 * - `--allow-env`: unscoped because the configuration is read with `Deno.env.toObject()`.
 * - `--allow-sys=hostname,systemMemoryInfo,statfs`: the node name, total memory and the data
 *   dir's free disk space in the management API (`/api/nodes`); nothing else of the OS.
 * - `--no-prompt`: a missing permission is an error, never a question on a server's terminal.
 *
 * Not granted: run (no subprocesses), ffi, import (the module graph is static), other sys APIs.
 * The management API's file descriptor figures (`fd_used`, `fd_total`) are left out under these
 * permissions: Deno lets only `--allow-all` read /proc/self, and that is too much to give for them.
 *
 * @example
 * ```ts
 * new Deno.Command(Deno.execPath(), { args: ["run", ...BROKER_PERMISSIONS, "main.ts", "serve"] });
 * ```
 */
export const BROKER_PERMISSIONS: readonly string[] = [
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys=hostname,systemMemoryInfo,statfs",
];

/**
 * V8 flags the broker runs with (the serve task, the compiled binaries): `--expose-gc` lets the
 * broker collect garbage while idle after a burst (src/server/idle_gc.ts), instead of V8's memory
 * reducer compacting the heap later in the middle of traffic.
 */
export const BROKER_V8_FLAGS: readonly string[] = ["--v8-flags=--expose-gc"];
