/**
 * The broker's whole model: virtual hosts and users. The server, the admin API and the CLI all go
 * through this object; it knows nothing of sockets.
 */
import { VHost } from "./vhost.ts";
import { UserStore } from "../auth/users.ts";

export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly users = new UserStore();

  constructor() {
    this.addVhost("/");
    this.users.add("guest", "guest", ["administrator"]);
  }

  addVhost(name: string): VHost {
    let v = this.vhosts.get(name);
    if (!v) this.vhosts.set(name, v = new VHost(name));
    return v;
  }
}
