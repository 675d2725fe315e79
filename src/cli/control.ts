/**
 * How CLI commands reach the broker: through the control socket of a server running on the data
 * dir, or, when none runs, by opening the data dir's store directly. Either way the change is
 * durable; the answer says which way was used.
 */
import { openBroker } from "../control/bootstrap.ts";
import type { OpArgs } from "../control/ops.ts";
import { ControlService } from "../control/service.ts";
import { callControl, CONTROL_SOCKET_FILE, handleRequest } from "../control/socket.ts";
import type { ControlResponse } from "../control/socket.ts";
import { DEFAULT_CONFIG } from "../config/types.ts";
import type { BrokerConfig } from "../config/types.ts";
import { loadConfig } from "../config/load.ts";

export const DATA_DIR_HELP =
  "  --data-dir DIR       data directory (default: $BROKER_DATA_DIR, else ./data)";

export function resolveDataDir(flag: string | undefined): string {
  return flag ?? (Deno.env.get("BROKER_DATA_DIR") || DEFAULT_CONFIG.dataDir); // empty = unset
}

/**
 * Defaults to seed a new data dir with when the CLI is first to open it: the config file named by
 * BROKER_CONFIG_FILE / RABBITMQ_CONFIG_FILE, as `serve` would read it.
 */
function seedConfig(): BrokerConfig {
  try {
    return loadConfig({ flags: {}, env: Deno.env.toObject() }).config;
  } catch {
    return DEFAULT_CONFIG;
  }
}

export interface OpResult {
  response: ControlResponse;
  live: boolean;
}

/** Runs a control operation live when a server answers on the data dir, else offline. */
export async function runOp(dataDir: string, op: string, args: OpArgs): Promise<OpResult> {
  const live = await callControl(`${dataDir}/${CONTROL_SOCKET_FILE}`, { op, args });
  if (live) return { response: live, live: true };
  const { broker, store } = openBroker(dataDir, seedConfig());
  try {
    return {
      response: handleRequest(new ControlService(broker, store), { op, args }),
      live: false,
    };
  } finally {
    store.close();
  }
}
