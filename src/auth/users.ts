/**
 * Users: name, salted password hash (RabbitMQ's scheme) and tags, held in memory; the metadata
 * store keeps them durable, and the control service changes both together.
 */
import { HASHING_ALGORITHM, verifyPassword } from "./password.ts";

export interface User {
  name: string;
  passwordHash: string;
  hashingAlgorithm: string;
  tags: string[];
}

export class UserStore {
  private readonly users = new Map<string, User>();

  set(user: User): void {
    this.users.set(user.name, user);
  }

  delete(name: string): boolean {
    return this.users.delete(name);
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  list(): User[] {
    return [...this.users.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The user when the password is right, otherwise undefined. */
  authenticate(name: string, password: string): User | undefined {
    const u = this.users.get(name);
    if (!u || u.hashingAlgorithm !== HASHING_ALGORITHM || u.passwordHash === "") return undefined;
    return verifyPassword(password, u.passwordHash) ? u : undefined;
  }
}

export function isLoopbackAddress(addr: string): boolean {
  return addr === "::1" || addr.startsWith("127.") || addr.startsWith("::ffff:127.");
}
