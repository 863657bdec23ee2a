import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { parseCatalog } from "../contracts/catalog.ts";
import { DEMO_CATALOG } from "../contracts/names.ts";
import { decodeSale } from "../contracts/sale.ts";
import { SqliteStore } from "../lib/store/mod.ts";
import { Till } from "./pos.ts";

const catalog = parseCatalog(
  await Deno.readTextFile(DEMO_CATALOG),
  "catalog.csv",
);

Deno.test("pos: a till rings up priced sales with ids from 10000, each in its outbox", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const till = await Till.open(store, {
    store: "NEPAL-01",
    catalog,
    till: "till-a",
  });
  const sales = await till.ring([
    { Items: [{ Sku: "MILK-1L", Quantity: 2 }] },
    { Items: [{ Sku: "EGGS-12", Quantity: 1 }], StoreId: "POKHARA-02" },
  ]);
  assert.deepEqual(sales.map((sale) => sale.SaleId), [10000, 10001]);
  assert.deepEqual(sales.map((sale) => sale.StoreId), [
    "NEPAL-01",
    "POKHARA-02",
  ]);
  const milk = catalog.products.get("MILK-1L")!;
  assert.equal(
    sales[0].TotalAmount.toString(),
    milk.unitPrice.times(2).toString(),
  );
  const pending = await till.outbox.pending(10);
  assert.deepEqual(pending.map((entry) => entry.messageId), [
    "NEPAL-01:10000@till-a",
    "POKHARA-02:10001@till-a",
  ]);
  assert.deepEqual(decodeSale(pending[0].body), sales[0]);
  await store.close();
});

Deno.test("pos: a basket with an unknown SKU rolls its whole ring back, ids included", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const till = await Till.open(store, { store: "NEPAL-01", catalog });
  await assert.rejects(
    till.ring([
      { Items: [{ Sku: "MILK-1L", Quantity: 1 }] },
      { Items: [{ Sku: "NO-SUCH-SKU", Quantity: 1 }] },
    ]),
    /NO-SUCH-SKU/,
  );
  assert.equal(await till.outbox.countPending(), 0);
  const [sale] = await till.ring([{
    Items: [{ Sku: "MILK-1L", Quantity: 1 }],
  }]);
  assert.equal(sale.SaleId, 10000);
  await store.close();
});

Deno.test("pos: a till keeps the id it made at its first start", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const first = await Till.open(store, { store: "NEPAL-01", catalog });
  const again = await Till.open(store, { store: "NEPAL-01", catalog });
  assert.match(first.id, /^till-[0-9a-f]{8}$/);
  assert.equal(again.id, first.id);
  await store.close();
});
