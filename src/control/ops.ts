/**
 * The control operations the CLI can ask for, by name, each a call into {@link ControlService}.
 * The same table serves the control socket (server running) and offline use (server stopped).
 */
import type { ControlService } from "./service.ts";

export type OpArgs = Record<string, unknown>;

const str = (args: OpArgs, key: string): string => {
  const v = args[key];
  if (typeof v !== "string") throw new TypeError(`argument '${key}' must be a string`);
  return v;
};
const optStr = (args: OpArgs, key: string): string | undefined =>
  args[key] === undefined ? undefined : str(args, key);
const num = (args: OpArgs, key: string): number => {
  const v = args[key];
  if (typeof v !== "number") throw new TypeError(`argument '${key}' must be a number`);
  return v;
};
const obj = (args: OpArgs, key: string): Record<string, unknown> => {
  const v = args[key];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new TypeError(`argument '${key}' must be an object`);
  }
  return v as Record<string, unknown>;
};
const strList = (args: OpArgs, key: string): string[] => {
  const v = args[key] ?? [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new TypeError(`argument '${key}' must be a list of strings`);
  }
  return v as string[];
};

export const OPS: Record<string, (s: ControlService, a: OpArgs) => unknown> = {
  "user.add": (s, a) =>
    s.addUser({
      name: str(a, "name"),
      password: optStr(a, "password"),
      passwordHash: optStr(a, "passwordHash"),
      tags: strList(a, "tags"),
    }),
  "user.delete": (s, a) => s.deleteUser(str(a, "name")),
  "user.passwd": (s, a) => s.changePassword(str(a, "name"), str(a, "password")),
  "user.tags": (s, a) => s.setTags(str(a, "name"), strList(a, "tags")),
  "user.list": (s) => s.listUsers(),
  "vhost.add": (s, a) => s.addVhost(str(a, "name"), optStr(a, "description")),
  "vhost.delete": (s, a) => s.deleteVhost(str(a, "name")),
  "vhost.list": (s) => s.listVhosts(),
  "vhost.limits.list": (s, a) => s.listVhostLimits(optStr(a, "vhost")),
  "vhost.limits.update": (s, a) => {
    s.updateVhostLimits(str(a, "vhost"), obj(a, "changes"));
    return s.listVhostLimits(str(a, "vhost"));
  },
  "vhost.limits.clear": (s, a) => {
    s.clearVhostLimits(str(a, "vhost"));
    return s.listVhostLimits(str(a, "vhost"));
  },
  "permissions.set": (s, a) =>
    s.setPermissions(
      str(a, "user"),
      str(a, "vhost"),
      str(a, "configure"),
      str(a, "write"),
      str(a, "read"),
    ),
  "permissions.clear": (s, a) => s.clearPermissions(str(a, "user"), str(a, "vhost")),
  "permissions.list": (s, a) => s.listPermissions(optStr(a, "vhost")),
  "policy.set": (s, a) =>
    s.setPolicy({
      vhost: str(a, "vhost"),
      name: str(a, "name"),
      pattern: str(a, "pattern"),
      definition: a.definition,
      applyTo: optStr(a, "applyTo"),
      priority: a.priority === undefined ? undefined : num(a, "priority"),
    }),
  "policy.clear": (s, a) => s.clearPolicy(str(a, "vhost"), str(a, "name")),
  "policy.list": (s, a) => s.listPolicies(optStr(a, "vhost")),
  "list.queues": (s, a) => s.listQueues(str(a, "vhost")),
  "list.exchanges": (s, a) => s.listExchanges(str(a, "vhost")),
  "list.bindings": (s, a) => s.listBindings(str(a, "vhost")),
  "list.connections": (s, a) => s.listConnections(optStr(a, "vhost")),
  "list.channels": (s, a) => s.listChannels(optStr(a, "vhost")),
  "list.consumers": (s, a) => s.listConsumers(optStr(a, "vhost")),
  "status": (s) => s.status(),
  "definitions.export": (s, a) => s.exportDefinitions(optStr(a, "vhost")),
  "definitions.import": (s, a) => s.importDefinitions(a.definitions, optStr(a, "vhost")),
};
