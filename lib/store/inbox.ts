/**
 * The inbox that makes a redelivered message a no-op: its key is recorded in
 * the same transaction as its effect, with a digest of its content, so that
 * a different message that carries the same key is told apart from a
 * redelivery.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { RejectedError } from "../core/mod.ts";
import { addColumn, createTables, type Sql, type Store } from "./store.ts";

/** A digest of a message body: the first 16 bytes of its SHA-256, in hex. */
export function digestOf(body: Uint8Array): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 32);
}

/** A decoded message and the digest of its body, for {@linkcode Inbox.admit}. */
export interface Delivery<T> {
  /** The message, decoded. */
  value: T;
  /** The digest of its body. */
  digest: string;
  /** The W3C trace context it came with, when it came with one. */
  traceparent?: string;
}

/**
 * Decodes a body and takes its digest, and the trace context of the
 * message's headers.
 */
export function delivery<T>(
  body: Uint8Array,
  decode: (body: Uint8Array) => T,
  message?: { properties: { headers?: Record<string, unknown> } },
): Delivery<T> {
  const traceparent = message?.properties.headers?.traceparent;
  return {
    value: decode(body),
    digest: digestOf(body),
    ...(typeof traceparent === "string" ? { traceparent } : {}),
  };
}

/** What {@linkcode Inbox.claim} found. */
export type Claim =
  | { kind: "new" }
  | { kind: "duplicate" }
  | {
    kind: "conflict";
    /** The digest of the message handled before under the same key. */
    digest: string;
    /** When that one was handled. */
    handledAt: string;
  };

/** Where pruning leaves the time before which keys are gone. */
export const HORIZON_TABLE = `CREATE TABLE IF NOT EXISTS inbox_horizon (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  before TEXT NOT NULL
)`;

/**
 * The keys of the messages a consumer has handled. Claim a key inside the
 * transaction of the effect: the effect and its record commit together, so
 * a message delivered twice has its effect once.
 */
export class Inbox {
  private constructor() {}

  /** Creates the inbox table in the store if it is not there. */
  static async open(store: Store): Promise<Inbox> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS inbox (
        key TEXT PRIMARY KEY,
        handled_at TEXT NOT NULL,
        digest TEXT
      ) WITHOUT ROWID`,
    );
    // An inbox made before digests: its keys count as redeliveries.
    await addColumn(store, "inbox", "digest TEXT");
    // For the last handled (status) and for pruning by age.
    await store.exec(
      "CREATE INDEX IF NOT EXISTS inbox_handled_at ON inbox (handled_at)",
    );
    await store.exec(HORIZON_TABLE);
    return new Inbox();
  }

  /**
   * The time before which the inbox no longer remembers what it handled:
   * the latest cutoff its pruning used; undefined when nothing was pruned.
   */
  async horizon(tx: Sql): Promise<string | undefined> {
    const row = await tx.get("SELECT before FROM inbox_horizon WHERE id = 1");
    return row === undefined ? undefined : String(row.before);
  }

  /**
   * Records `key` with the digest of its message, in `tx`: `new` the first
   * time; `duplicate` for the same content again (a redelivery);
   * `conflict` for different content under a key handled before.
   */
  async claim(tx: Sql, key: string, digest?: string): Promise<Claim> {
    const now = new Date().toISOString();
    const changes = await tx.run(
      "INSERT INTO inbox (key, handled_at, digest) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
      key,
      now,
      digest ?? null,
    );
    if (changes === 1) return { kind: "new" };
    const row = await tx.get(
      "SELECT handled_at, digest FROM inbox WHERE key = ?",
      key,
    );
    const before = row?.digest;
    if (digest === undefined || before === null || before === digest) {
      return { kind: "duplicate" };
    }
    return {
      kind: "conflict",
      digest: String(before),
      handledAt: String(row?.handled_at),
    };
  }

  /**
   * Claims `key` for a message about to be handled, in `tx`: true to handle
   * it, false for a redelivery, which is skipped.
   *
   * @throws {RejectedError} naming both messages when different content
   * comes under a key handled before: neither is a redelivery of the other.
   */
  async admit(tx: Sql, key: string, digest: string): Promise<boolean> {
    const claim = await this.claim(tx, key, digest);
    if (claim.kind === "conflict") {
      throw new RejectedError(
        `Conflict: "${key}" was handled at ${claim.handledAt} with content ${claim.digest}; this message has the same key and content ${digest}`,
      );
    }
    return claim.kind === "new";
  }
}
