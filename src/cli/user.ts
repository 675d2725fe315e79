/** `broker user …`: add, delete, passwd, tags, list. */
import { commandGroup, readStdinLine, UsageError } from "./command.ts";

const tagList = (v: string | boolean | undefined) =>
  typeof v === "string" && v !== "" ? v.split(",").map((t) => t.trim()).filter((t) => t) : [];

async function password(given: string | undefined, stdin: boolean | string | undefined) {
  if (stdin) {
    if (given !== undefined) {
      throw new UsageError("give the password or --password-stdin, not both");
    }
    return await readStdinLine();
  }
  if (given === undefined) throw new UsageError("a password is required (or --password-stdin)");
  return given;
}

const PASSWORD_STDIN = { type: "boolean" as const, help: "read the password from standard input" };

export const userCommand = commandGroup("user", "manage users", {
  add: {
    usage: "add NAME [PASSWORD] [--tags a,b] [--password-stdin]",
    positionals: ["name", "password?"],
    options: {
      tags: { type: "string", help: "comma-separated tags (administrator, management, …)" },
      "password-stdin": PASSWORD_STDIN,
    },
    op: async (p, o) => [
      "user.add",
      {
        name: p.name,
        password: await password(p.password, o["password-stdin"]),
        tags: tagList(o.tags),
      },
    ],
    done: (p) => `user '${p.name}' added`,
  },
  delete: {
    usage: "delete NAME",
    positionals: ["name"],
    op: (p) => ["user.delete", { name: p.name }],
    done: (p) => `user '${p.name}' deleted`,
  },
  passwd: {
    usage: "passwd NAME [NEWPASS] [--password-stdin]",
    positionals: ["name", "password?"],
    options: { "password-stdin": PASSWORD_STDIN },
    op: async (p, o) => [
      "user.passwd",
      { name: p.name, password: await password(p.password, o["password-stdin"]) },
    ],
    done: (p) => `password of user '${p.name}' changed`,
  },
  tags: {
    usage: "tags NAME [a,b]",
    positionals: ["name", "tags?"],
    op: (p) => ["user.tags", { name: p.name, tags: tagList(p.tags) }],
    done: (p) => `tags of user '${p.name}' set`,
  },
  list: {
    usage: "list",
    positionals: [],
    op: () => ["user.list", {}],
    columns: ["name", "tags"],
  },
});
