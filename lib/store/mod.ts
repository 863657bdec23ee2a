/**
 * A service's own store, SQLite or PostgreSQL, and what keeps its work
 * exactly-once: the inbox that takes each message once in the handler's
 * transaction, the outbox its events wait in, the relay that publishes them
 * with confirms, delivery counts, and pruning of the bookkeeping.
 *
 * @example
 * ```ts
 * import { Inbox, openStore, Outbox } from "./mod.ts";
 *
 * const store = await openStore({ name: "example", dataDir: "./data" });
 * const inbox = await Inbox.open(store, "example");
 * const outbox = await Outbox.open(store);
 * await store.close();
 * ```
 *
 * @module
 */
export * from "./store.ts";
export * from "./sqlite_store.ts";
export * from "./postgres_store.ts";
export * from "./database.ts";
export * from "./database_role.ts";
export * from "./wal_sync.ts";
export * from "./prune.ts";
export * from "./inbox.ts";
export * from "./outbox.ts";
export * from "./relay.ts";
export * from "./delivery_count.ts";
export * from "./patient.ts";
