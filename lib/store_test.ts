import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { withStores } from "./_test_stores.ts";
import { openStore, SqliteStore } from "./store.ts";
import { isStoreFailure } from "./database.ts";

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

Deno.test("store: a file in WAL mode commits without a sync inside COMMIT and syncs its log after it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shop-store-" });
  try {
    const store = await openStore({ name: "s", dataDir: dir });
    assert.ok(store instanceof SqliteStore);
    // NORMAL: SQLite writes the frames; the store syncs the log itself.
    assert.equal(
      Number(store.db.prepare("PRAGMA synchronous").get()?.synchronous),
      1,
    );
    await store.exec("CREATE TABLE t (n INTEGER NOT NULL)");
    let committed = 0;
    await Promise.all([1, 2, 3].map((n) =>
      store.transaction(async (tx) => {
        await tx.run("INSERT INTO t (n) VALUES (?)", n);
        tx.onCommit(() => committed++);
      })
    ));
    assert.equal(committed, 3);
    await store.synced();
    await store.close();
    // A log that cannot be synced fails the transaction as the store's
    // failure, not the message's; what SQLite committed stays.
    const lost = await openStore({ name: "s", dataDir: dir });
    await Deno.remove(join(dir, "s", "s.db-wal"));
    const failed = await lost.transaction((tx) =>
      tx.run("INSERT INTO t (n) VALUES (4)")
    ).then(() => undefined, (error) => error);
    assert.ok(isStoreFailure(failed), String(failed));
    assert.match(String(failed), /Cannot sync ".*s\.db-wal"/);
    assert.equal(Number((await lost.get("SELECT count(*) AS n FROM t"))?.n), 4);
    await lost.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
