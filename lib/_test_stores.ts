/**
 * The stores the store-backed modules are tested against: SQLite in memory,
 * and PostgreSQL in a database of the test's own where one answers (its
 * URL from TEST_DATABASE_URL, or the local server's).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { PostgresStore, SqliteStore, type Store } from "./store.ts";

/** The PostgreSQL server the tests make their databases on. */
export function testDatabaseServer(): string | undefined {
  const allowed = (name: "env" | "net", detail: string) =>
    Deno.permissions.querySync(
      name === "env" ? { name, variable: detail } : { name, host: detail },
    ).state === "granted";
  const url = (allowed("env", "TEST_DATABASE_URL") &&
    Deno.env.get("TEST_DATABASE_URL")) ||
    "postgres://postgres@127.0.0.1:5432/postgres";
  const host = new URL(url);
  return allowed("net", `${host.hostname}:${host.port || 5432}`) &&
      allowed("env", "PGSSLMODE")
    ? url
    : undefined;
}

/**
 * Runs `fn` in a PostgreSQL database of its own, made on the test server
 * and dropped afterwards; `fn` gets its URL. Undefined where none answers.
 */
export async function withDatabase(
  fn: (url: string) => Promise<void>,
): Promise<boolean> {
  const server = testDatabaseServer();
  if (!server) return false;
  // A client for each statement: the server may restart in between.
  const admin = async (sql: string) => {
    const client = new pg.Client({
      connectionString: server,
      password: () => "",
    });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  };
  const name = `shop_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch {
    return false;
  }
  try {
    const url = new URL(server);
    url.pathname = `/${name}`;
    await fn(url.href);
  } finally {
    await admin(`DROP DATABASE ${name} WITH (FORCE)`);
  }
  return true;
}

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
