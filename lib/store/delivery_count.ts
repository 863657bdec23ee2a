/**
 * How many times a message has been delivered, kept in the service's own
 * database so that the count survives the crash a message may cause. A
 * quorum queue counts for us (`x-delivery-count`); on a classic queue only
 * redeliveries are counted, so a first delivery costs no write.
 *
 * @module
 */
import type { ConsumeMessage } from "amqplib";
import { digestOf } from "./inbox.ts";
import { createTables, type Store } from "./store.ts";

/** Deliveries per message, in the service's store. */
export class DeliveryCount {
  readonly #store: Store;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Creates the table in the store if it is not there. */
  static async open(store: Store): Promise<DeliveryCount> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS delivery_count (
        key TEXT PRIMARY KEY,
        deliveries INTEGER NOT NULL,
        last_at TEXT NOT NULL
      ) WITHOUT ROWID`,
    );
    return new DeliveryCount(store);
  }

  /** Deliveries of `message`, this one included; written down when it is a redelivery. */
  async count(message: ConsumeMessage): Promise<number> {
    const counted = message.properties.headers?.["x-delivery-count"];
    if (typeof counted === "number") return counted + 1;
    if (!message.fields.redelivered) return 1;
    // Keyed by content too: a message id alone may be missing or reused.
    const key = `${message.properties.messageId ?? ""}/${
      digestOf(message.content)
    }`;
    const row = await this.#store.get(
      `INSERT INTO delivery_count (key, deliveries, last_at) VALUES (?, 2, ?)
      ON CONFLICT (key) DO UPDATE
      SET deliveries = delivery_count.deliveries + 1, last_at = excluded.last_at
      RETURNING deliveries`,
      key,
      new Date().toISOString(),
    );
    return Number(row?.deliveries);
  }
}
