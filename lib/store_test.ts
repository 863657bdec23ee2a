import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { withStores } from "./_test_stores.ts";
import { SqliteStore } from "./store.ts";

Deno.test("store: a transaction commits all or nothing; statements wait for it", async (t) => {
  await withStores(t, async (store) => {
    await store.exec("CREATE TABLE IF NOT EXISTS t (n INTEGER NOT NULL)");
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.run("INSERT INTO t (n) VALUES (?)", 1);
        throw new Error("no");
      }),
      /no/,
    );
    let committed = false;
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO t (n) VALUES (?)", 2);
      tx.onCommit(() => committed = true);
      assert.equal(committed, false, "not before the commit");
    });
    assert.equal(committed, true);
    assert.deepEqual(
      (await store.all("SELECT n FROM t")).map((row) => Number(row.n)),
      [2],
    );
  });
});

Deno.test("store: a SQLite file locked past its busy timeout fails the transaction, and the next works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shop-store-" });
  try {
    const path = join(dir, "s.db");
    const store = new SqliteStore(new DatabaseSync(path));
    store.db.exec("PRAGMA busy_timeout = 50; CREATE TABLE t (n INTEGER)");
    const other = new DatabaseSync(path);
    other.exec("BEGIN IMMEDIATE");
    await assert.rejects(
      store.transaction((tx) => tx.run("INSERT INTO t (n) VALUES (1)")),
      /database is locked/,
    );
    other.exec("ROLLBACK");
    other.close();
    await store.transaction((tx) => tx.run("INSERT INTO t (n) VALUES (2)"));
    assert.equal(
      Number((await store.get("SELECT count(*) AS n FROM t"))?.n),
      1,
    );
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
