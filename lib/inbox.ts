/**
 * The inbox that makes a redelivered message a no-op: its key is recorded in
 * the same transaction as its effect.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";

/**
 * The keys of the messages a consumer has handled. Call {@linkcode Inbox.claim}
 * inside the transaction of the effect: the effect and its record commit
 * together, so a message delivered twice has its effect once.
 */
export class Inbox {
  readonly #claim;

  /** Creates the inbox table in `db` if it is not there. */
  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS inbox (
      key TEXT PRIMARY KEY,
      handled_at TEXT NOT NULL
    ) WITHOUT ROWID`);
    this.#claim = db.prepare(
      "INSERT OR IGNORE INTO inbox (key, handled_at) VALUES (?, ?)",
    );
  }

  /** Records `key`; false when it was recorded before (a duplicate). */
  claim(key: string): boolean {
    return this.#claim.run(key, new Date().toISOString()).changes === 1;
  }
}
