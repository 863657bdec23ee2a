import assert from "node:assert/strict";
import { join } from "node:path";
import { isStoreFailure } from "./database.ts";
import { StoreSyncError, WalSync } from "./wal_sync.ts";

Deno.test("walSync: syncs asked together all resolve, and a missing log is a store failure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shop-wal-" });
  try {
    const path = join(dir, "s.db-wal");
    await Deno.writeTextFile(path, "frames");
    const wal = new WalSync(path);
    await Promise.all(Array.from({ length: 20 }, () => wal.sync()));
    await wal.close();

    const missing = new WalSync(join(dir, "none.db-wal"));
    const error = await missing.sync().then(() => undefined, (e) => e);
    assert.ok(error instanceof StoreSyncError);
    assert.match(error.message, /^Cannot sync ".*none\.db-wal": /);
    assert.ok(isStoreFailure(error));
    await missing.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
