import assert from "node:assert/strict";
import { deliveryOf, memoryStore } from "./_batch.ts";
import { inTransaction } from "./transaction.ts";

Deno.test("inTransaction: the handler's writes commit together or not at all", async () => {
  const store = memoryStore();
  await store.exec("CREATE TABLE effect (n INTEGER)");
  const handler = inTransaction<number>(store)(async ({ tx, deliveries }) => {
    for (const { value } of deliveries) {
      await tx.run("INSERT INTO effect (n) VALUES (?)", value);
      if (value < 0) throw new Error("negative");
    }
  });
  await handler({ deliveries: [1, 2].map((n) => deliveryOf(n)) });
  await assert.rejects(
    handler({ deliveries: [3, -1].map((n) => deliveryOf(n)) }),
    /negative/,
  );
  const rows = await store.all("SELECT n FROM effect ORDER BY n");
  assert.deepEqual(rows.map((row) => Number(row.n)), [1, 2]);
  await store.close();
});

Deno.test("inTransaction: what the handler says waits for the commit", async () => {
  const store = memoryStore();
  const said: string[] = [];
  const handler = inTransaction<number>(store)(({ tx }) => {
    tx.onCommit(() => said.push("committed"));
    said.push("handled");
    return Promise.resolve();
  });
  await handler({ deliveries: [deliveryOf(1)] });
  await store.synced();
  assert.deepEqual(said, ["handled", "committed"]);
  await store.close();
});
