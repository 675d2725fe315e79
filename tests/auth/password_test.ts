/**
 * Password hashes as RabbitMQ's rabbit_password_hashing_sha256 makes them:
 * base64(salt ‖ SHA-256(salt ‖ UTF-8 password)) with a 4-byte salt.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  HASHING_ALGORITHM,
  hashPassword,
  isPasswordHash,
  verifyPassword,
} from "../../src/auth/password.ts";

const bytesOf = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

Deno.test("hashPassword: base64 of a 4-byte salt and the SHA-256 of salt and password", () => {
  const hash = hashPassword("s3cret");
  const raw = bytesOf(hash);
  assert.equal(raw.length, 36);
  const salt = raw.subarray(0, 4);
  const expected = createHash("sha256").update(salt).update("s3cret", "utf8").digest();
  assert.deepEqual(raw.subarray(4), new Uint8Array(expected));
  assert.equal(HASHING_ALGORITHM, "rabbit_password_hashing_sha256");
});

Deno.test("hashPassword: a fresh salt each time, and each hash verifies", () => {
  const hashes = new Set(Array.from({ length: 20 }, () => hashPassword("same")));
  assert.equal(hashes.size, 20);
  for (const h of hashes) assert.equal(verifyPassword("same", h), true);
});

Deno.test("verifyPassword: right password only", () => {
  const hash = hashPassword("correct horse");
  assert.equal(verifyPassword("correct horse", hash), true);
  assert.equal(verifyPassword("correct horse ", hash), false);
  assert.equal(verifyPassword("Correct horse", hash), false);
  assert.equal(verifyPassword("", hash), false);
});

Deno.test("verifyPassword: UTF-8 and empty passwords", () => {
  for (const pw of ["pässwörd", "日本語のパスワード", "emoji 🐇", ""]) {
    const hash = hashPassword(pw);
    assert.equal(verifyPassword(pw, hash), true, pw);
    assert.equal(verifyPassword(pw + "x", hash), false, pw);
  }
  // The UTF-8 bytes are hashed, not UTF-16 code units or Latin-1.
  const salt = new Uint8Array([1, 2, 3, 4]);
  const digest = createHash("sha256").update(salt).update(new TextEncoder().encode("ü")).digest();
  const hash = base64(new Uint8Array([...salt, ...digest]));
  assert.equal(verifyPassword("ü", hash), true);
});

Deno.test("verifyPassword: a hash made by RabbitMQ 3.10 verifies", () => {
  // `rabbitmqctl add_user hashcheck s3cret`, then `rabbitmqctl export_definitions`.
  const hash = "5VZM6DW5Hid3nwJJDcQj/jQSGrG/9QkEpnbWQKm6bTh0ifuw";
  assert.equal(isPasswordHash(hash), true);
  assert.equal(verifyPassword("s3cret", hash), true);
  assert.equal(verifyPassword("s3cret2", hash), false);
  assert.equal(verifyPassword("S3cret", hash), false);
});

Deno.test("verifyPassword: malformed hashes never verify", () => {
  const good = hashPassword("pw");
  for (
    const bad of [
      "",
      "not base64 at all!",
      good.slice(0, -4), // 33 bytes
      base64(new Uint8Array(35)),
      base64(new Uint8Array(37)),
      base64(new Uint8Array(36)), // well-formed, wrong digest
    ]
  ) {
    assert.equal(verifyPassword("pw", bad), false, JSON.stringify(bad));
  }
});

Deno.test("isPasswordHash: 36 bytes of base64", () => {
  assert.equal(isPasswordHash(hashPassword("x")), true);
  assert.equal(isPasswordHash(base64(new Uint8Array(36))), true);
  assert.equal(isPasswordHash(""), false);
  assert.equal(isPasswordHash(base64(new Uint8Array(32))), false);
  assert.equal(isPasswordHash("%%%"), false);
});
