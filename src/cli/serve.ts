/** `broker serve`: runs the broker until SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { isLogLevel, log } from "../log.ts";
import { DEFAULT_OPTIONS, startServer } from "../server/server.ts";
import type { Command } from "./command.ts";
import { resolveDataDir } from "./control.ts";

const HELP = `Usage: broker serve [options]

Runs the broker in the foreground.

Options:
  --port PORT          AMQP port (default ${DEFAULT_OPTIONS.port})
  --bind ADDRESS       address to listen on (default ${DEFAULT_OPTIONS.hostname}; use :: for IPv6)
  --admin-port PORT    management HTTP port (default 15672; the admin API is not built yet)
  --data-dir DIR       data directory (default ./data; durable storage is not built yet)
  --log-level LEVEL    debug, info, warn, error or none (default info)
  -h, --help           show this help`;

function parsePort(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${flag}: '${v}' is not a port number (0-65535)`);
  }
  return n;
}

export const serveCommand: Command = {
  name: "serve",
  summary: "run the broker",
  async run(args) {
    let values;
    let port = DEFAULT_OPTIONS.port;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          port: { type: "string" },
          bind: { type: "string" },
          "admin-port": { type: "string" },
          "data-dir": { type: "string" },
          "log-level": { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
      if (values.help) {
        console.log(HELP);
        return 0;
      }
      if (values.port !== undefined) port = parsePort(values.port, "--port");
      if (values["admin-port"] !== undefined) parsePort(values["admin-port"], "--admin-port");
      if (values["log-level"] !== undefined && !isLogLevel(values["log-level"])) {
        throw new Error(
          `--log-level: '${values["log-level"]}' is not one of debug, info, warn, error, none`,
        );
      }
    } catch (err) {
      console.error(`broker serve: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    let server;
    try {
      server = await startServer({
        dataDir: resolveDataDir(values["data-dir"]),
        port,
        hostname: values.bind ?? DEFAULT_OPTIONS.hostname,
        logLevel: (values["log-level"] as typeof DEFAULT_OPTIONS.logLevel) ?? "info",
      });
    } catch (err) {
      log.error("cannot start the broker", { error: (err as Error).message });
      return 1;
    }
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: Deno.Signal) => {
        log.info("shutting down", { signal });
        server!.close().then(resolve);
      };
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        Deno.addSignalListener(sig, () => stop(sig));
      }
    });
    await stopped;
    log.info("stopped");
    return 0;
  },
};
