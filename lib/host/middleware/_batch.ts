/**
 * Deliveries and a store for the middleware's tests.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { type Delivery, SqliteStore } from "../../store/mod.ts";

/** A delivery of `value` with a digest of its own. */
export function deliveryOf<T>(value: T, digest = `d-${value}`): Delivery<T> {
  return { value, digest };
}

/** A fresh SQLite store in memory. */
export function memoryStore(): SqliteStore {
  return new SqliteStore(new DatabaseSync(":memory:"));
}
