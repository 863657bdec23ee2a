/**
 * The transactional outbox: a message is committed to the service's own
 * database, in the transaction that makes it, before anything is sent; the
 * relay (`relay.ts`) then publishes what is pending, in order, and marks a
 * message sent only once the broker has confirmed it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import type { Outgoing } from "./publisher.ts";

/** A message waiting in the outbox. */
export interface OutboxEntry extends Outgoing {
  /** Its place in the outbox: messages are published in this order. */
  id: number;
}

/** Messages to publish, kept in the service's database. */
export class Outbox {
  readonly #insert;
  readonly #pending;
  readonly #count;
  readonly #markSent;
  #added = Promise.withResolvers<void>();

  /** Creates the outbox table in `db` if it is not there. */
  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      message_id TEXT NOT NULL UNIQUE,
      exchange TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      body BLOB NOT NULL,
      created_at TEXT NOT NULL,
      sent_at TEXT,
      mandatory INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE sent_at IS NULL`);
    const columns = db.prepare("PRAGMA table_info(outbox)").all();
    if (!columns.some((column) => column.name === "mandatory")) {
      // An outbox made before events: every message in it was a sale.
      db.exec(
        "ALTER TABLE outbox ADD COLUMN mandatory INTEGER NOT NULL DEFAULT 1",
      );
    }
    this.#insert = db.prepare(`INSERT INTO outbox
      (message_id, exchange, routing_key, body, created_at, mandatory)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.#pending = db.prepare(
      `SELECT id, message_id, exchange, routing_key, body, mandatory
      FROM outbox WHERE sent_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
    );
    this.#count = db.prepare(
      "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL",
    );
    // One statement for a whole batch of confirms.
    this.#markSent = db.prepare(
      "UPDATE outbox SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
    );
  }

  /**
   * Adds a message. Call it inside the transaction that makes the message,
   * so that the two commit together.
   */
  add(message: Omit<Outgoing, "headers" | "contentType">): void {
    this.#insert.run(
      message.messageId,
      message.exchange,
      message.routingKey,
      message.body,
      new Date().toISOString(),
      message.mandatory === false ? 0 : 1,
    );
    // Whoever waits runs after this synchronous transaction has ended.
    this.#added.resolve();
    this.#added = Promise.withResolvers<void>();
  }

  /** Resolves at the next {@linkcode Outbox.add}. */
  nextAdd(): Promise<void> {
    return this.#added.promise;
  }

  /** Up to `limit` pending messages after `afterId`, oldest first. */
  pending(limit: number, afterId = 0): OutboxEntry[] {
    return this.#pending.all(afterId, limit).map((row) => ({
      id: Number(row.id),
      messageId: String(row.message_id),
      exchange: String(row.exchange),
      routingKey: String(row.routing_key),
      body: Buffer.from(row.body as Uint8Array),
      mandatory: row.mandatory !== 0,
    }));
  }

  /** How many messages wait to be confirmed. */
  countPending(): number {
    return Number(this.#count.get()?.n ?? 0);
  }

  /** Marks confirmed messages sent, in one transaction. */
  markSent(ids: number[]): void {
    this.#markSent.run(new Date().toISOString(), JSON.stringify(ids));
  }
}

/**
 * Every message in the outbox of the database file at `path`, oldest first,
 * read without writing: for tools, tests and the benchmark. None when there
 * is no file yet.
 */
export function readOutbox(
  path: string,
): { messageId: string; body: Uint8Array; sent: boolean }[] {
  try {
    Deno.statSync(path);
  } catch {
    return [];
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(
      "SELECT message_id, body, sent_at FROM outbox ORDER BY id",
    ).all().map((row) => ({
      messageId: String(row.message_id),
      body: row.body as Uint8Array,
      sent: row.sent_at !== null,
    }));
  } finally {
    db.close();
  }
}
