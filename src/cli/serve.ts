/** `broker serve`: runs the broker until SIGINT/SIGTERM. */
import { log } from "../log.ts";
import { optionsFromConfig, startServer } from "../server/server.ts";
import type { BrokerServer } from "../server/server.ts";
import { CONFIG_HELP, ConfigError, loadConfig } from "../config/load.ts";
import { EXIT_OK, EXIT_REFUSED, parseFlags } from "./command.ts";
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
    const parsed = parseFlags("serve", HELP, args, {
      config: { type: "string" },
      port: { type: "string" },
      bind: { type: "string" },
      "admin-port": { type: "string" },
      "admin-bind": { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-bind": { type: "string" },
      "data-dir": { type: "string" },
      "log-level": { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    let loaded;
    try {
      loaded = loadConfig({
        flags: {
          config: values.config,
          port: values.port,
          bind: values.bind,
          adminPort: values["admin-port"],
          adminBind: values["admin-bind"],
          metricsPort: values["metrics-port"],
          metricsBind: values["metrics-bind"],
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
