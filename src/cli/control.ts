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

export const DATA_DIR_HELP =
  "  --data-dir DIR       data directory (default: $BROKER_DATA_DIR, else ./data)";

export function resolveDataDir(flag: string | undefined): string {
  return flag ?? Deno.env.get("BROKER_DATA_DIR") ?? DEFAULT_CONFIG.dataDir;
}

export interface OpResult {
  response: ControlResponse;
  live: boolean;
}

/** Runs a control operation live when a server answers on the data dir, else offline. */
export async function runOp(dataDir: string, op: string, args: OpArgs): Promise<OpResult> {
  const live = await callControl(`${dataDir}/${CONTROL_SOCKET_FILE}`, { op, args });
  if (live) return { response: live, live: true };
  const { broker, store } = openBroker(dataDir, DEFAULT_CONFIG);
  try {
    return {
      response: handleRequest(new ControlService(broker, store), { op, args }),
      live: false,
    };
  } finally {
    store.close();
  }
}
