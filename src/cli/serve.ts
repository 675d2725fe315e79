/** `broker serve`: runs the broker until SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { log } from "../log.ts";
import { optionsFromConfig, startServer } from "../server/server.ts";
import type { BrokerServer } from "../server/server.ts";
import { CONFIG_HELP, ConfigError, loadConfig } from "../config/load.ts";
import { EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from "./command.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: broker serve [options]

Runs the broker in the foreground until SIGINT or SIGTERM (then closes clients with 320
CONNECTION_FORCED, flushes the store and exits 0).

${CONFIG_HELP}
  -h, --help           show this help`;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the broker",
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          config: { type: "string" },
          port: { type: "string" },
          bind: { type: "string" },
          "admin-port": { type: "string" },
          "admin-bind": { type: "string" },
          "data-dir": { type: "string" },
          "log-level": { type: "string" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      console.error(`broker serve: ${(err as Error).message}\n\n${HELP}`);
      return EXIT_USAGE;
    }
    if (values.help) {
      console.log(HELP);
      return EXIT_OK;
    }
    let loaded;
    try {
      loaded = loadConfig({
        flags: {
          config: values.config,
          port: values.port,
          bind: values.bind,
          adminPort: values["admin-port"],
          adminBind: values["admin-bind"],
          dataDir: values["data-dir"],
          logLevel: values["log-level"],
        },
        env: Deno.env.toObject(),
      });
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`broker serve: ${err.message}`);
        return EXIT_REFUSED;
      }
      throw err;
    }
    let server: BrokerServer;
    try {
      server = await startServer(optionsFromConfig(loaded.config));
    } catch (err) {
      log.error("cannot start the broker", { error: (err as Error).message });
      return EXIT_REFUSED;
    }
    if (loaded.configFile) log.info("configuration read", { file: loaded.configFile });
    for (const w of loaded.warnings) log.warn(`config: ${w}`);
    await new Promise<void>((resolve) => {
      const stop = (signal: Deno.Signal) => {
        log.info("shutting down", { signal });
        server.close().then(resolve);
      };
      for (const sig of ["SIGINT", "SIGTERM"] as const) {
        Deno.addSignalListener(sig, () => stop(sig));
      }
    });
    log.info("stopped");
    return EXIT_OK;
  },
};
