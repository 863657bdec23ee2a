import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Decimal } from "../../contracts/decimal.ts";
import {
  decodeTillDiscrepancy,
  decodeTillReconciled,
  type TillClosed,
  toRanges,
} from "../../contracts/till.ts";
import { createLog } from "../log/mod.ts";
import { Monitor } from "../observability/mod.ts";
import { Outbox, SqliteStore } from "../store/mod.ts";
import { Reconciler } from "./reconciler.ts";
import { type LedgerSale, recordSales } from "./ledger.ts";

async function setup(graceMs = 1000) {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const outbox = await Outbox.open(store);
  const reconciler = await Reconciler.open(store, {
    service: "billing",
    outbox,
    monitor: new Monitor("billing", { log: silent }),
    graceMs,
    gapAgeMs: 1000,
  });
  const sent = async () =>
    (await store.all("SELECT routing_key, body FROM outbox ORDER BY id")).map((
      row,
    ) => ({ key: String(row.routing_key), body: row.body as Uint8Array }));
  return { store, reconciler, sent };
}

const silent = createLog("billing", { format: "text", write: () => {} });

function sale(id: number, amount = "10.50", previousId?: number): LedgerSale {
  return {
    tillId: "t1",
    saleId: id,
    storeId: "NEPAL-01",
    amount: Decimal.parse(amount),
    previousId,
  };
}

function close(ids: number[], total: string): TillClosed {
  return {
    StoreId: "NEPAL-01",
    TillId: "t1",
    BusinessDay: "2026-12-05",
    OpenedAt: "2026-12-05T08:00:00.000Z",
    ClosedAt: "2026-12-05T20:00:00.000Z",
    SaleIds: toRanges(ids),
    Count: ids.length,
    TotalAmount: Decimal.parse(total),
  };
}

Deno.test("reconciler: every sale there when the close comes: reconciled at once, once", async () => {
  const { store, reconciler, sent } = await setup();
  await store.transaction((tx) =>
    recordSales(tx, [sale(10000), sale(10001), sale(10003)])
  );
  await store.transaction((tx) =>
    reconciler.take(tx, close([10000, 10001, 10003], "31.50"))
  );
  // Taken again (a close sent twice): nothing more.
  await store.transaction((tx) =>
    reconciler.take(tx, close([10000, 10001, 10003], "31.50"))
  );
  await reconciler.check();
  const out = await sent();
  assert.deepEqual(out.map((message) => message.key), ["till.reconciled"]);
  const reconciled = decodeTillReconciled(out[0].body);
  assert.equal(reconciled.Count, 3);
  assert.equal(reconciled.TotalAmount.toString(), "31.50");
  assert.equal((await reconciler.closes())[0].state, "reconciled");
});

Deno.test("reconciler: sales missing past the grace are a discrepancy naming them; a late sale turns it into a reconciliation", async () => {
  const { store, reconciler, sent } = await setup(1000);
  await store.transaction((tx) => recordSales(tx, [sale(10000), sale(10002)]));
  await store.transaction((tx) =>
    reconciler.take(tx, close([10000, 10001, 10002, 10003], "42.00"))
  );
  await reconciler.check(Date.now() + 500);
  assert.deepEqual(await sent(), [], "within the grace: nothing said");
  await reconciler.check(Date.now() + 1500);
  const [discrepancy] = await sent();
  assert.equal(discrepancy.key, "till.discrepancy");
  const said = decodeTillDiscrepancy(discrepancy.body);
  assert.deepEqual(said.MissingSaleIds, [[10001, 10001], [10003, 10003]]);
  assert.equal(said.SeenCount, 2);
  assert.equal(said.SeenAmount.toString(), "21.00");
  await reconciler.check(Date.now() + 3000);
  assert.equal((await sent()).length, 1, "said once");

  await store.transaction((tx) => recordSales(tx, [sale(10001)]));
  await reconciler.check(Date.now() + 4000);
  assert.deepEqual((await reconciler.closes())[0].missing, [[10003, 10003]]);
  await store.transaction((tx) => recordSales(tx, [sale(10003)]));
  await reconciler.check(Date.now() + 5000);
  const out = await sent();
  assert.deepEqual(out.map((message) => message.key), [
    "till.discrepancy",
    "till.reconciled",
  ]);
});

Deno.test("reconciler: every sale there but another sum is a discrepancy with no id missing", async () => {
  const { store, reconciler, sent } = await setup(0);
  await store.transaction((tx) => recordSales(tx, [sale(10000, "5.00")]));
  await store.transaction((tx) => reconciler.take(tx, close([10000], "6.00")));
  await reconciler.check(Date.now() + 10);
  const [message] = await sent();
  const said = decodeTillDiscrepancy(message.body);
  assert.deepEqual(said.MissingSaleIds, []);
  assert.equal(said.SeenAmount.toString(), "5.00");
});

Deno.test("reconciler: a sale whose predecessor never came is a gap once it is old", async () => {
  const { store, reconciler } = await setup();
  await store.transaction((tx) =>
    recordSales(tx, [
      sale(10000),
      sale(10001, "1", 10000),
      sale(10004, "1", 10003),
    ], new Date(Date.now() - 5000).toISOString())
  );
  assert.deepEqual(await reconciler.sweep(Date.now() - 10_000), []);
  const gaps = await reconciler.sweep();
  assert.deepEqual(gaps.map((gap) => gap.saleId), [10003]);
  await store.transaction((tx) => recordSales(tx, [sale(10003, "1", 10002)]));
  assert.deepEqual((await reconciler.sweep()).map((gap) => gap.saleId), []);
});

Deno.test("reconciler: ledger rows older than the retention go, a chunk at a time", async () => {
  const { store, reconciler } = await setup();
  const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
  await store.transaction((tx) =>
    recordSales(
      tx,
      Array.from({ length: 6000 }, (_, i) => sale(10000 + i)),
      old,
    )
  );
  await store.transaction((tx) => recordSales(tx, [sale(20000)]));
  await reconciler.prune();
  const left = await store.all("SELECT sale_id FROM till_ledger");
  assert.deepEqual(left.map((row) => Number(row.sale_id)), [20000]);
});
