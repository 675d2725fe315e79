/** `broker status`: whether a server runs on the data dir, and its vital figures. */
import { DATA_DIR_HELP, resolveDataDir } from "./control.ts";
import { callControl, CONTROL_SOCKET_FILE } from "../control/socket.ts";
import { formatRows } from "./format.ts";
import { EXIT_OK, EXIT_REFUSED, parseFlags } from "./command.ts";
import type { Command } from "./command.ts";

const HELP = `Usage: broker status [--data-dir DIR] [--format table|json]

Asks the server running on the data dir for its status. Exit code 0 when it runs, 1 when no
server answers on that data dir.

Options:
${DATA_DIR_HELP}
  --format FORMAT      table or json (default table)
  -h, --help           show this help`;

export const statusCommand: Command = {
  name: "status",
  summary: "show whether the broker runs, and its figures",
  async run(args) {
    const parsed = parseFlags("status", HELP, args, {
      "data-dir": { type: "string" },
      format: { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    const dataDir = resolveDataDir(values["data-dir"]);
    const res = await callControl(`${dataDir}/${CONTROL_SOCKET_FILE}`, { op: "status", args: {} });
    if (!res) {
      console.error(`broker is not running on data dir ${dataDir}`);
      return EXIT_REFUSED;
    }
    if (!res.ok) {
      console.error(`Error: ${res.error}`);
      return EXIT_REFUSED;
    }
    const status = res.result as Record<string, unknown>;
    if (values.format === "json") console.log(JSON.stringify(status, null, 2));
    else {
      console.log(
        formatRows(Object.entries(status).map(([key, value]) => ({ key, value })), "table"),
      );
    }
    return EXIT_OK;
  },
};
