/**
 * Keeping a service's bookkeeping bounded: inbox keys and sent outbox
 * messages older than the retention are deleted, a chunk at a time, in the
 * background. What the business keeps (sales, invoices, stock) is not
 * touched, and neither is a message set aside in the outbox.
 *
 * The retention must outlast any redelivery: a sale delivered again after
 * its key was pruned would be handled again. Seven days, the default, is far
 * longer than a message waits in a queue or an outbox.
 *
 * @module
 */
import type { Store } from "./store.ts";

/** Rows deleted per statement: the store is not held for long. */
const CHUNK = 5000;

/** Options of {@linkcode prune}. */
export interface PruneOptions {
  /** How long inbox keys and sent messages are kept, in milliseconds. */
  retentionMs: number;
  /** The tables to prune: those this service has. */
  tables: readonly ("inbox" | "outbox")[];
  /**
   * The time now, for tests.
   *
   * @default {Date.now()}
   */
  now?: number;
}

/** Deletes what is older than the retention; how many rows it deleted. */
export async function prune(
  store: Store,
  options: PruneOptions,
): Promise<number> {
  const before = new Date((options.now ?? Date.now()) - options.retentionMs)
    .toISOString();
  // The outbox has no index of times: ids follow the order messages were
  // made, so only those before the first one made since the cutoff are
  // looked at, and that first one is found by reading the old ones, which
  // are the ones to delete.
  const firstNew = options.tables.includes("outbox")
    ? Number(
      (await store.get(
        "SELECT id FROM outbox WHERE created_at >= ? ORDER BY id LIMIT 1",
        before,
      ))?.id ?? Number.MAX_SAFE_INTEGER,
    )
    : 0;
  const statements = {
    inbox: [
      `DELETE FROM inbox WHERE key IN (SELECT key FROM inbox WHERE handled_at < ? LIMIT ${CHUNK})`,
      before,
    ],
    outbox: [
      `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE id < ? AND sent_at IS NOT NULL AND sent_at < ? AND set_aside_at IS NULL ORDER BY id LIMIT ${CHUNK})`,
      firstNew,
      before,
    ],
  } as const;
  let deleted = 0;
  for (const table of options.tables) {
    const [sql, ...params] = statements[table];
    for (;;) {
      // Not durable: rows pruned again after a crash are no loss. The
      // inbox's horizon moves with its keys, in the same commit: a message
      // from before it may have been handled, and is not taken as new.
      const count = await store.transaction(async (tx) => {
        const count = await tx.run(sql, ...params);
        if (table === "inbox" && count > 0) {
          await tx.run(
            `INSERT INTO inbox_horizon (id, before) VALUES (1, ?)
            ON CONFLICT (id) DO UPDATE SET before = CASE
              WHEN excluded.before > inbox_horizon.before THEN excluded.before
              ELSE inbox_horizon.before END`,
            before,
          );
        }
        return count;
      }, { durable: false });
      deleted += count;
      if (count < CHUNK) break;
    }
  }
  return deleted;
}

/**
 * Prunes soon, then every `everyMs`, until the returned function is called
 * (it resolves once a round under way is done); a failure (the store away)
 * is left for the next round.
 */
export function pruneEvery(
  store: Store,
  options: PruneOptions & {
    /**
     * Milliseconds between rounds.
     *
     * @default {a tenth of the retention, from 1 s to 10 minutes}
     */
    everyMs?: number;
  },
): () => Promise<void> {
  const everyMs = options.everyMs ??
    Math.max(1000, Math.min(600_000, options.retentionMs / 10));
  let running: Promise<void> | undefined;
  const round = () => {
    running ??= prune(store, options).then(
      () => {},
      () => {}, // The store fails: the service says so where it uses it.
    ).finally(() => running = undefined);
  };
  const first = setTimeout(round, Math.min(everyMs, 10_000));
  const timer = setInterval(round, everyMs);
  Deno.unrefTimer(first);
  Deno.unrefTimer(timer);
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
