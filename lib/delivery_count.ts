/**
 * How many times a message has been delivered, kept in the service's own
 * database so that the count survives the crash a message may cause. A
 * quorum queue counts for us (`x-delivery-count`); on a classic queue only
 * redeliveries are counted, so a first delivery costs no write.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { ConsumeMessage } from "amqplib";
import { digestOf } from "./inbox.ts";

/** Deliveries per message, in the service's database. */
export class DeliveryCount {
  readonly #bump;

  /** Creates the table in `db` if it is not there. */
  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS delivery_count (
      key TEXT PRIMARY KEY,
      deliveries INTEGER NOT NULL,
      last_at TEXT NOT NULL
    ) WITHOUT ROWID`);
    this.#bump = db.prepare(
      `INSERT INTO delivery_count (key, deliveries, last_at)
      VALUES (?, 2, ?) ON CONFLICT (key) DO UPDATE
      SET deliveries = deliveries + 1, last_at = excluded.last_at
      RETURNING deliveries`,
    );
  }

  /** Deliveries of `message`, this one included; written down when it is a redelivery. */
  count(message: ConsumeMessage): number {
    const counted = message.properties.headers?.["x-delivery-count"];
    if (typeof counted === "number") return counted + 1;
    if (!message.fields.redelivered) return 1;
    // Keyed by content too: a message id alone may be missing or reused.
    const key = `${message.properties.messageId ?? ""}/${
      digestOf(message.content)
    }`;
    return Number(this.#bump.get(key, new Date().toISOString())?.deliveries);
  }
}
