/** `broker permissions …`: set, clear, list (configure, write, read regexes per user and vhost). */
import { commandGroup } from "./command.ts";

const VHOST = { type: "string" as const, help: "virtual host (default /)" };
const vhostOf = (o: Record<string, string | boolean | undefined>) =>
  typeof o.vhost === "string" ? o.vhost : "/";

export const permissionsCommand = commandGroup("permissions", "manage user permissions", {
  set: {
    usage: "set USER CONF WRITE READ [--vhost /]",
    positionals: ["user", "configure", "write", "read"],
    options: { vhost: VHOST },
    op: (p, o) => ["permissions.set", { ...p, vhost: vhostOf(o) }],
    done: (p) => `permissions of user '${p.user}' set`,
  },
  clear: {
    usage: "clear USER [--vhost /]",
    positionals: ["user"],
    options: { vhost: VHOST },
    op: (p, o) => ["permissions.clear", { user: p.user, vhost: vhostOf(o) }],
    done: (p) => `permissions of user '${p.user}' cleared`,
  },
  list: {
    usage: "list [--vhost /]",
    positionals: [],
    options: { vhost: VHOST },
    op: (
      _p,
      o,
    ) => ["permissions.list", { vhost: typeof o.vhost === "string" ? o.vhost : undefined }],
    columns: ["user", "vhost", "configure", "write", "read"],
  },
});
