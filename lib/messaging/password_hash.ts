/**
 * RabbitMQ's salted password hashes, as its definitions and management API
 * carry them: base64 of a 4-byte salt followed by the digest of salt and
 * password. A definitions file then holds no password, and a setup that
 * runs again knows whether a user's password is already the one it has.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";

/** The hashing algorithms RabbitMQ names, with Node's name of each digest. */
const DIGESTS: Record<string, string> = {
  rabbit_password_hashing_sha256: "sha256",
  rabbit_password_hashing_sha512: "sha512",
  rabbit_password_hashing_md5: "md5",
};

/** The algorithm RabbitMQ 3.6 and later hash with by default. */
export const DEFAULT_HASHING = "rabbit_password_hashing_sha256";

/**
 * The hash of `password` with `salt` (4 random bytes unless given).
 *
 * @example
 * ```ts
 * import { hashPassword, passwordMatches } from "./password_hash.ts";
 *
 * const hash = hashPassword("s3cret");
 * passwordMatches("s3cret", hash); // true
 * ```
 */
export function hashPassword(
  password: string,
  salt: Uint8Array = randomBytes(4),
  algorithm: string = DEFAULT_HASHING,
): string {
  const digest = DIGESTS[algorithm];
  if (digest === undefined) {
    throw new Error(`Unknown password hashing "${algorithm}"`);
  }
  const hash = createHash(digest).update(salt).update(password, "utf8")
    .digest();
  return Buffer.concat([Buffer.from(salt), hash]).toString("base64");
}

/** Whether `hash` (as RabbitMQ keeps it, with `algorithm`) is that of `password`. */
export function passwordMatches(
  password: string,
  hash: string,
  algorithm: string = DEFAULT_HASHING,
): boolean {
  if (DIGESTS[algorithm] === undefined) return false;
  const bytes = Buffer.from(hash, "base64");
  if (bytes.length < 5) return false;
  return hashPassword(password, bytes.subarray(0, 4), algorithm) === hash;
}
