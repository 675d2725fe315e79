/**
 * The broker's whole model: virtual hosts, users and permissions. The AMQP server reads it; the
 * control service (CLI, admin API) changes it together with the metadata store. It knows nothing
 * of sockets.
 */
import { VHost } from "./vhost.ts";
import { UserStore } from "../auth/users.ts";
import { Permission, PermissionTable } from "../auth/permissions.ts";
import type { MetadataSnapshot } from "../store/metadata.ts";
import type { EntityPersistence, MessagePersistence } from "./persistence.ts";
import { Policy } from "./policy.ts";
import type { PolicyApplyTo } from "./policy.ts";
import { log } from "../log.ts";
import { parseVhostLimits } from "./vhost_limits.ts";

export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly users = new UserStore();
  readonly permissions = new PermissionTable();
  private persistence: EntityPersistence | undefined;
  private messages: MessagePersistence | undefined;

  /** Creates a vhost, attached to durable storage when the broker has it. */
  addVhost(name: string, description = "", tags: string[] = []): VHost {
    const v = new VHost(name, description, tags);
    v.persistence = this.persistence;
    v.messages = this.messages;
    this.vhosts.set(name, v);
    return v;
  }

  /** From now on durable entities and persistent messages are stored. */
  attachPersistence(entities: EntityPersistence, messages: MessagePersistence | undefined): void {
    this.persistence = entities;
    this.messages = messages;
    for (const v of this.vhosts.values()) {
      v.persistence = entities;
      v.messages = messages;
    }
  }

  /** Builds the model from what the metadata store holds. */
  static fromSnapshot(snapshot: MetadataSnapshot): Broker {
    const b = new Broker();
    for (const v of snapshot.vhosts) b.addVhost(v.name, v.description, v.tags);
    for (const u of snapshot.users) b.users.set({ ...u });
    for (const p of snapshot.permissions) {
      b.permissions.set(p.user, p.vhost, new Permission(p.configure, p.write, p.read));
    }
    for (const p of snapshot.policies) {
      const v = b.vhosts.get(p.vhost);
      try {
        v?.setPolicy(
          new Policy(
            p.vhost,
            p.name,
            p.pattern,
            p.definition,
            p.applyTo as PolicyApplyTo,
            p.priority,
          ),
        );
      } catch (err) {
        log.warn("dropping a stored policy that cannot be read", {
          vhost: p.vhost,
          name: p.name,
          error: (err as Error).message,
        });
      }
    }
    for (const l of snapshot.vhostLimits) {
      const v = b.vhosts.get(l.vhost);
      try {
        if (v) v.limits = parseVhostLimits(l.limits);
      } catch (err) {
        log.warn("dropping stored vhost limits that cannot be read", {
          vhost: l.vhost,
          error: (err as Error).message,
        });
      }
    }
    return b;
  }
}
