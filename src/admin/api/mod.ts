/** Registers every /api resource's controller (one file each, as LavinMQ's http/controller). */
import type { Router } from "../router.ts";
import * as overview from "./overview.ts";
import * as whoami from "./whoami.ts";
import * as nodes from "./nodes.ts";
import * as health from "./health.ts";
import * as connections from "./connections.ts";
import * as channels from "./channels.ts";
import * as consumers from "./consumers.ts";
import * as exchanges from "./exchanges.ts";
import * as queues from "./queues.ts";
import * as bindings from "./bindings.ts";
import * as users from "./users.ts";
import * as vhosts from "./vhosts.ts";
import * as permissions from "./permissions.ts";
import * as definitions from "./definitions.ts";
import * as policies from "./policies.ts";
import * as vhostLimits from "./vhost_limits.ts";

export function registerApi(r: Router): void {
  for (
    const m of [
      overview,
      whoami,
      nodes,
      health,
      connections,
      channels,
      consumers,
      exchanges,
      queues,
      bindings,
      users,
      vhosts,
      permissions,
      definitions,
      policies,
      vhostLimits,
    ]
  ) m.register(r);
}
