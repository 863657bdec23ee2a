/**
 * The stores the store-backed modules are tested against: SQLite in memory,
 * and PostgreSQL in a database of the test's own where one answers.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { testDatabaseServer, withDatabase } from "./sandbox.ts";
import { PostgresStore, SqliteStore, type Store } from "../../lib/store/mod.ts";

export { testDatabaseServer, withDatabase };

/** Runs `fn` on a fresh SQLite store, then on a fresh PostgreSQL one where one answers. */
export async function withStores(
  t: Deno.TestContext,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  await t.step("sqlite", async () => {
    const store = new SqliteStore(new DatabaseSync(":memory:"));
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  });
  await t.step({
    name: "postgres",
    ignore: testDatabaseServer() === undefined,
    fn: async () => {
      await withDatabase(async (url) => {
        const store = await PostgresStore.open(url, "unit");
        try {
          await fn(store);
        } finally {
          await store.close();
        }
      });
    },
  });
}
