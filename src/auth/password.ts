/**
 * Password hashes as RabbitMQ's default `rabbit_password_hashing_sha256` makes them:
 * base64(salt ‖ SHA-256(salt ‖ UTF-8 password)) with a random 4-byte salt. Hashes exported from
 * RabbitMQ's definitions verify here as-is, and ours import there.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const HASHING_ALGORITHM = "rabbit_password_hashing_sha256";

function digest(salt: Uint8Array, password: string): Uint8Array {
  return createHash("sha256").update(salt).update(password, "utf8").digest();
}

/** A new salted hash of `password`, base64-encoded. */
export function hashPassword(password: string): string {
  const salt = randomBytes(4);
  const hash = digest(salt, password);
  const out = new Uint8Array(salt.length + hash.length);
  out.set(salt, 0);
  out.set(hash, salt.length);
  return btoa(String.fromCharCode(...out));
}

/** Whether `password` matches a base64 hash made by {@link hashPassword} (or RabbitMQ). */
export function verifyPassword(password: string, passwordHash: string): boolean {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(passwordHash), (c) => c.charCodeAt(0));
  } catch {
    return false;
  }
  if (raw.length !== 4 + 32) return false;
  const expected = raw.subarray(4);
  return timingSafeEqual(digest(raw.subarray(0, 4), password), expected);
}

/** Whether a string is a well-formed hash for this algorithm (for definitions import). */
export function isPasswordHash(passwordHash: string): boolean {
  try {
    return atob(passwordHash).length === 36;
  } catch {
    return false;
  }
}
