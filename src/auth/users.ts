/**
 * Users and their credentials (in memory for now; the user model with hashing, tags and
 * permissions grows here).
 */
export interface User {
  name: string;
  password: string;
  tags: string[];
}

export class UserStore {
  private readonly users = new Map<string, User>();

  add(name: string, password: string, tags: string[] = []): void {
    this.users.set(name, { name, password, tags });
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  /** The user when the password is right, otherwise undefined. */
  authenticate(name: string, password: string): User | undefined {
    const u = this.users.get(name);
    return u && u.password === password ? u : undefined;
  }
}

/** Users that may log in only from a loopback address (RabbitMQ's loopback_users default). */
export const LOOPBACK_USERS = new Set(["guest"]);

export function isLoopbackAddress(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127.");
}
