/**
 * The transactional outbox: a message is committed to the service's own
 * database, in the transaction that makes it, before anything is sent; a
 * relay then publishes what is pending, in order, and marks a message sent
 * only once the broker has confirmed it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { DatabaseSync } from "node:sqlite";
import {
  type Outgoing,
  type Publisher,
  sleep,
  UnroutableError,
} from "./broker.ts";

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

/** Options of {@linkcode Relay}. */
export interface RelayOptions {
  /** The outbox to empty. */
  outbox: Outbox;
  /** Publishes with confirms. */
  publisher: Publisher;
  /** Messages in flight at once, awaiting their confirms. Defaults to 256. */
  window?: number;
  /** Told of the messages the broker confirmed, in order. */
  onSent?(entries: OutboxEntry[]): void;
}

/**
 * Publishes the outbox's pending messages, oldest first, with many in flight
 * at once; a message is marked sent only after the broker's confirm.
 */
export class Relay {
  readonly #options: RelayOptions;
  #running: Promise<void> | undefined;
  #again = false;

  /** Creates a relay; nothing is sent before {@linkcode Relay.flush}. */
  constructor(options: RelayOptions) {
    this.#options = options;
  }

  /**
   * Publishes until nothing is pending. Calls made while a flush runs join
   * it, and it looks once more for what they added.
   *
   * @throws {Error} the first failure (unroutable, refused, channel closed);
   * what failed stays pending.
   */
  flush(): Promise<void> {
    this.#again = true;
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Publishes what is pending now, and again at every add or every
   * `idleMs`, until `signal` aborts. An unroutable message is reported and
   * tried again after 5 s; any other failure ends the run (the connection
   * is gone).
   */
  async run(options: {
    signal: AbortSignal;
    onUnroutable?(error: UnroutableError): void;
    idleMs?: number;
  }): Promise<void> {
    const { signal, onUnroutable, idleMs = 1000 } = options;
    while (!signal.aborted) {
      const added = this.#options.outbox.nextAdd();
      let wait = idleMs;
      try {
        await this.flush();
      } catch (error) {
        if (!(error instanceof UnroutableError)) throw error;
        onUnroutable?.(error);
        wait = 5000;
      }
      // Woken by an add, the idle timer is cancelled rather than left behind.
      const idle = new AbortController();
      const stop = () => idle.abort();
      signal.addEventListener("abort", stop, { once: true });
      await Promise.race([added, sleep(wait, idle.signal)]);
      idle.abort();
      signal.removeEventListener("abort", stop);
    }
  }

  async #run(): Promise<void> {
    while (this.#again) {
      this.#again = false;
      await this.#sendPending();
    }
  }

  /**
   * A sliding window: up to `window` publishes await their confirms while
   * more are sent; confirmed messages are marked sent in batches.
   */
  async #sendPending(): Promise<void> {
    const { outbox, publisher, window = 256, onSent } = this.#options;
    const inFlight = new Set<Promise<void>>();
    let confirmed: OutboxEntry[] = [];
    let failure: unknown;
    const markConfirmed = () => {
      if (confirmed.length === 0) return;
      const entries = confirmed;
      confirmed = [];
      outbox.markSent(entries.map((entry) => entry.id));
      onSent?.(entries);
    };
    let lastId = 0;
    while (failure === undefined) {
      // Refill when half the window is free: one query per many messages.
      if (inFlight.size > window / 2) {
        await Promise.race(inFlight);
        continue;
      }
      const batch = outbox.pending(window - inFlight.size, lastId);
      if (batch.length === 0) break;
      lastId = batch[batch.length - 1].id;
      for (const entry of batch) {
        const sent: Promise<void> = publisher.publish(entry).then(
          () => {
            confirmed.push(entry);
            if (confirmed.length >= window / 2) markConfirmed();
          },
          (error) => {
            failure ??= error;
          },
        ).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
    }
    await Promise.all(inFlight);
    markConfirmed();
    if (failure !== undefined) throw failure;
  }
}
