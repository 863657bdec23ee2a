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
  readonly #setAside;
  readonly #listSetAside;
  readonly #replay;
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
      mandatory INTEGER NOT NULL DEFAULT 1,
      set_aside_at TEXT,
      set_aside_reason TEXT
    );
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE sent_at IS NULL`);
    const columns = db.prepare("PRAGMA table_info(outbox)").all();
    if (!columns.some((column) => column.name === "mandatory")) {
      // An outbox made before events: every message in it was a sale.
      db.exec(
        "ALTER TABLE outbox ADD COLUMN mandatory INTEGER NOT NULL DEFAULT 1",
      );
    }
    if (!columns.some((column) => column.name === "set_aside_at")) {
      db.exec(`ALTER TABLE outbox ADD COLUMN set_aside_at TEXT;
        ALTER TABLE outbox ADD COLUMN set_aside_reason TEXT`);
    }
    this.#insert = db.prepare(`INSERT INTO outbox
      (message_id, exchange, routing_key, body, created_at, mandatory)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.#pending = db.prepare(
      `SELECT id, message_id, exchange, routing_key, body, mandatory
      FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL AND id > ?
      ORDER BY id LIMIT ?`,
    );
    this.#count = db.prepare(
      "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL",
    );
    this.#setAside = db.prepare(
      "UPDATE outbox SET set_aside_at = ?, set_aside_reason = ? WHERE id = ?",
    );
    this.#listSetAside = db.prepare(`SELECT id, message_id, exchange,
      routing_key, set_aside_at, set_aside_reason FROM outbox
      WHERE sent_at IS NULL AND set_aside_at IS NOT NULL
      AND (?1 IS NULL OR message_id = ?1) ORDER BY id`);
    this.#replay = db.prepare(`UPDATE outbox
      SET set_aside_at = NULL, set_aside_reason = NULL
      WHERE sent_at IS NULL AND set_aside_at IS NOT NULL
      AND (?1 IS NULL OR message_id = ?1)`);
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
    this.#wake();
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

  /**
   * Sets a message that can never be published aside, with its reason: it
   * is kept, no longer pending, and {@linkcode Outbox.replay} makes it
   * pending again.
   */
  setAside(id: number, reason: string): void {
    this.#setAside.run(new Date().toISOString(), reason.slice(0, 1000), id);
  }

  /** The messages set aside (or the one with `messageId`), oldest first. */
  setAsideEntries(messageId?: string): SetAsideEntry[] {
    return this.#listSetAside.all(messageId ?? null).map((row) => ({
      id: Number(row.id),
      messageId: String(row.message_id),
      exchange: String(row.exchange),
      routingKey: String(row.routing_key),
      setAsideAt: String(row.set_aside_at),
      reason: String(row.set_aside_reason),
    }));
  }

  /** Makes the messages set aside (or the one with `messageId`) pending again; how many. */
  replay(messageId?: string): number {
    const { changes } = this.#replay.run(messageId ?? null);
    if (changes > 0) this.#wake();
    return Number(changes);
  }

  #wake(): void {
    this.#added.resolve();
    this.#added = Promise.withResolvers<void>();
  }
}

/** A message the relay set aside because it can never be published as it is. */
export interface SetAsideEntry {
  id: number;
  messageId: string;
  exchange: string;
  routingKey: string;
  setAsideAt: string;
  reason: string;
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
