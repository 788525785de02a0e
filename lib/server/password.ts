/**
 * Password hashes for accounts: {@linkcode hashPassword} makes one with scrypt
 * (`node:crypto`, in Deno, Bun and Node alike) and {@linkcode verifyPassword} checks a password
 * against one in constant time. A hash is text: `scrypt$N$r$p$salt$key`, salt and key in
 * base64, so it can be kept in a configuration file and given to `User({ passwordHash })`.
 *
 * @module
 */

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/**
 * scrypt's parameters for {@linkcode hashPassword}.
 *
 * @example A cheaper hash, for a machine with little memory
 * ```ts
 * import { type HashPasswordOptions, hashPassword } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const options: HashPasswordOptions = { cost: 4096, blockSize: 8 }; // about 4 MiB per check
 * assert.match(await hashPassword("secret", options), /^scrypt\$4096\$8\$1\$/);
 * ```
 */
export interface HashPasswordOptions {
  /** CPU/memory cost N, a power of two from 2 to 2^20 (default 2^14 = 16384). */
  cost?: number;
  /** Block size r, 1 to 32 (default 8). Memory use is about 128 × N × r bytes. */
  blockSize?: number;
  /** Parallelization p, 1 to 16 (default 1). */
  parallelization?: number;
}

/**
 * A parsed `scrypt$N$r$p$salt$key` hash: what {@linkcode parsePasswordHash} returns.
 *
 * @example
 * ```ts
 * import { hashPassword, parsePasswordHash, type PasswordHash } from "./password.ts";
 * import assert from "node:assert/strict";
 *
 * const parsed: PasswordHash = parsePasswordHash(await hashPassword("secret", { cost: 1024 }));
 * assert.equal(parsed.cost, 1024);
 * assert.equal(parsed.salt.length, 16);
 * assert.equal(parsed.key.length, 32);
 * ```
 */
export interface PasswordHash {
  /** CPU/memory cost N. */
  cost: number;
  /** Block size r. */
  blockSize: number;
  /** Parallelization p. */
  parallelization: number;
  /** The random salt. */
  salt: Uint8Array;
  /** The derived key. */
  key: Uint8Array;
}

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Hashes a password with scrypt and a random 16-byte salt.
 *
 * @example
 * ```ts
 * import { Client } from "@streamftp/streamftp/client";
 * import { hashPassword, Server, User } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * // Hash once (`serve --hash-password` prints one), keep the hash in the configuration.
 * const passwordHash = await hashPassword("secret");
 * assert.match(passwordHash, /^scrypt\$16384\$8\$1\$/);
 * await using server = new Server({ users: [new User({ login: "alice", passwordHash })] });
 * await server.start("127.0.0.1", 0);
 * await using client = await Client.connect("127.0.0.1", server.address.port);
 * await client.login("alice", "secret");
 * ```
 *
 * @param password The password.
 * @param options scrypt's cost parameters.
 * @returns The hash, `scrypt$N$r$p$salt$key` (salt and key in base64).
 * @throws {RangeError} When a parameter is out of range.
 */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  const params = checkedParameters(
    options.cost ?? 16384,
    options.blockSize ?? 8,
    options.parallelization ?? 1,
  );
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, { ...params, salt, key: new Uint8Array(KEY_BYTES) });
  return [
    "scrypt",
    params.cost,
    params.blockSize,
    params.parallelization,
    base64(salt),
    base64(key),
  ].join("$");
}

/**
 * Checks a password against a hash from {@linkcode hashPassword}. The derived keys are compared
 * in constant time.
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "@streamftp/streamftp/server";
 * import assert from "node:assert/strict";
 *
 * const hash = await hashPassword("secret", { cost: 1024 });
 * assert.equal(await verifyPassword("secret", hash), true);
 * assert.equal(await verifyPassword("Secret", hash), false);
 * ```
 *
 * @param password The password to check.
 * @param hash The stored hash.
 * @returns `true` when the password is the one hashed.
 * @throws {TypeError} When `hash` is not an scrypt hash of this format.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  const key = await derive(password, parsed);
  return timingSafeEqual(key, parsed.key);
}

/**
 * Checks that text is a password hash {@linkcode verifyPassword} understands.
 *
 * @example
 * ```ts
 * import { parsePasswordHash } from "./password.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parsePasswordHash("md5$0123"), TypeError);
 * ```
 *
 * @param hash The text.
 * @returns The hash's parameters, salt and key.
 * @throws {TypeError} When it is not.
 */
export function parsePasswordHash(hash: string): PasswordHash {
  const parts = hash.split("$");
  const [scheme, n, r, p, salt, key] = parts;
  const numbers = [n, r, p].map((v) => (/^\d{1,8}$/.test(v ?? "") ? Number(v) : NaN));
  if (
    parts.length !== 6 || scheme !== "scrypt" || numbers.some(Number.isNaN) ||
    !BASE64.test(salt) || !BASE64.test(key)
  ) {
    throw new TypeError(`Password hash "${hash.slice(0, 16)}..." is not scrypt$N$r$p$salt$key`);
  }
  let params;
  try {
    params = checkedParameters(numbers[0], numbers[1], numbers[2]);
  } catch (error) {
    throw new TypeError(`Password hash has bad parameters: ${(error as Error).message}`);
  }
  let decoded;
  try {
    decoded = { salt: fromBase64(salt), key: fromBase64(key) };
  } catch {
    throw new TypeError("Password hash has bad base64 in its salt or key");
  }
  if (decoded.key.length < 16) throw new TypeError("Password hash has a key shorter than 16 bytes");
  return { ...params, ...decoded };
}

/**
 * Compares two clear-text secrets in time that does not depend on where they differ (their
 * SHA-256 digests are compared with `timingSafeEqual`).
 *
 * @example
 * ```ts
 * import { secretsEqual } from "./password.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(secretsEqual("secret", "secret"), true);
 * assert.equal(secretsEqual("secret", "secreT"), false);
 * assert.equal(secretsEqual("secret", "secret, longer"), false); // lengths need not match
 * ```
 *
 * @param a One secret.
 * @param b The other.
 * @returns `true` when they are equal.
 */
export function secretsEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(a), digest(b));
}

function checkedParameters(cost: number, blockSize: number, parallelization: number) {
  if (!Number.isInteger(cost) || cost < 2 || cost > 2 ** 20 || (cost & (cost - 1)) !== 0) {
    throw new RangeError(`scrypt cost ${cost} is not a power of two from 2 to 2^20`);
  }
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 32) {
    throw new RangeError(`scrypt block size ${blockSize} is not 1 to 32`);
  }
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > 16) {
    throw new RangeError(`scrypt parallelization ${parallelization} is not 1 to 16`);
  }
  return { cost, blockSize, parallelization };
}

function derive(password: string, hash: PasswordHash): Promise<Uint8Array> {
  const { cost, blockSize, parallelization } = hash;
  const options = {
    cost,
    blockSize,
    parallelization,
    maxmem: 256 * cost * blockSize + 128 * blockSize * parallelization + (1 << 20),
  };
  return new Promise((resolve, reject) =>
    scrypt(password, hash.salt, hash.key.length, options, (error, key) => {
      if (error) reject(error);
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    })
  );
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
