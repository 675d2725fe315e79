/** `broker vhost …`: add, delete, list. */
import { commandGroup } from "./command.ts";

export const vhostCommand = commandGroup("vhost", "manage virtual hosts", {
  add: {
    usage: "add NAME [--description TEXT]",
    positionals: ["name"],
    options: { description: { type: "string", help: "a description for the vhost" } },
    op: (p, o) => ["vhost.add", { name: p.name, description: o.description ?? "" }],
    done: (p) => `vhost '${p.name}' added`,
  },
  delete: {
    usage: "delete NAME",
    positionals: ["name"],
    op: (p) => ["vhost.delete", { name: p.name }],
    done: (p) => `vhost '${p.name}' deleted`,
  },
  list: {
    usage: "list",
    positionals: [],
    op: () => ["vhost.list", {}],
    columns: ["name", "description"],
  },
});
