import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeStockChanged, decodeStockLow } from "../contracts/stock.ts";
import { createLog } from "../lib/log/mod.ts";
import { prune, SqliteStore } from "../lib/store/mod.ts";
import { ConsumerHarness } from "../tests/support/harness.ts";
import { inventoryQueues, Stock } from "./inventory.ts";

/** A sale of `items` (SKU and quantity), as a till sends it. */
function sale(id: number, items: [string, number][], store = "NEPAL-01") {
  return JSON.stringify({
    SaleId: id,
    StoreId: store,
    TillId: "till-a",
    Items: items.map(([Sku, Quantity]) => ({ Sku, Quantity })),
    Timestamp: "2026-12-05T10:00:00.000Z",
    TotalAmount: 1,
  });
}

/** An adjustment sent from the back office. */
function adjust(id: string, mode: "set" | "add", quantity: number) {
  return JSON.stringify({
    AdjustmentId: id,
    StoreId: "NEPAL-01",
    Sku: "MILK-1L",
    Mode: mode,
    Quantity: quantity,
    Threshold: mode === "set" ? 10 : undefined,
    RequestedBy: "office",
    RequestedAt: "2026-12-05T10:00:00.000Z",
  });
}

/** Inventory's two handlers on one store in memory; its lines kept. */
async function inventory() {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const stock = await Stock.open(store);
  const lines: string[] = [];
  const log = createLog("inventory", {
    format: "text",
    write: (_level, text) => lines.push(...text.trimEnd().split("\n")),
  });
  const [sales, adjustments] = inventoryQueues({ stock, log });
  const onSales = await ConsumerHarness.start(sales, { store });
  const onAdjustments = await ConsumerHarness.start(adjustments, { store });
  const level = async (sku: string) =>
    Number(
      (await store.get(
        "SELECT quantity FROM stock_level WHERE store_id = 'NEPAL-01' AND sku = ?",
        sku,
      ))?.quantity,
    );
  const close = async () => {
    await onSales.close().catch(() => {});
    await onAdjustments.close().catch(() => {});
  };
  return { stock, onSales, onAdjustments, lines, level, close };
}

Deno.test("inventory: a count, then sales taken off once each, and a delivery", async () => {
  const { stock, onSales, onAdjustments, lines, level, close } =
    await inventory();
  await onAdjustments.deliver([adjust("a-1", "set", 20)], {
    routingKey: "inventory.stock.adjust",
  });
  assert.equal(await level("MILK-1L"), 20);
  await onSales.deliver([
    sale(10000, [["MILK-1L", 3], ["EGGS-12", 1]]),
    sale(10001, [["MILK-1L", 2]]),
  ]);
  // The first again, redelivered: taken off once.
  await onSales.deliver([sale(10000, [["MILK-1L", 3], ["EGGS-12", 1]])]);
  assert.equal(await level("MILK-1L"), 15);
  assert.equal(await level("EGGS-12"), -1);
  await onAdjustments.deliver([adjust("a-2", "add", 12)], {
    routingKey: "inventory.stock.adjust",
  });
  assert.equal(await level("MILK-1L"), 27);
  assert.ok(lines.includes("Inventory update for Sale #10000, Items: 2"));
  assert.ok(
    lines.some((line) => /EGGS-12 in NEPAL-01 is -1: below zero/.test(line)),
  );
  // One announcement per batch and per adjustment, each with the levels after it.
  const changed = (await stock.outbox.pending(20))
    .filter((entry) => entry.routingKey === "inventory.stock.changed")
    .map((entry) => decodeStockChanged(entry.body));
  assert.deepEqual(changed.map((event) => event.Cause), [
    "count",
    "sale",
    "delivery",
  ]);
  assert.deepEqual(
    changed[1].Levels.map((l) => [l.Sku, l.Quantity]).sort(),
    [["EGGS-12", -1], ["MILK-1L", 15]],
  );
  await close();
});

Deno.test("inventory: falling below the threshold is announced once", async () => {
  const { stock, onSales, onAdjustments, close } = await inventory();
  await onAdjustments.deliver([adjust("a-1", "set", 12)], {
    routingKey: "inventory.stock.adjust",
  });
  await onSales.deliver([sale(10000, [["MILK-1L", 1]])]);
  await onSales.deliver([sale(10001, [["MILK-1L", 2]])]);
  await onSales.deliver([sale(10002, [["MILK-1L", 1]])]);
  const low = (await stock.outbox.pending(20))
    .filter((entry) => entry.routingKey === "inventory.stock.low")
    .map((entry) => decodeStockLow(entry.body));
  assert.equal(low.length, 1);
  assert.equal(low[0].Quantity, 9);
  assert.equal(low[0].Threshold, 10);
  await close();
});

Deno.test("inventory: a SKU a sale lists many times is said once, at its level after the sale", async () => {
  const { onSales, lines, level, close } = await inventory();
  await onSales.deliver([
    sale(10000, [["BIG", 2147483647], ["BIG", 2147483647], ["BIG", 5]]),
  ]);
  assert.equal(await level("BIG"), -(2 * 2147483647 + 5));
  const said = lines.filter((line) => line.startsWith("Stock of BIG"));
  assert.deepEqual(said, [
    `Stock of BIG in NEPAL-01 is ${-(2 * 2147483647 +
      5)}: below zero after Sale #10000; goods were sold that the count does not have`,
  ]);
  await close();
});

Deno.test("inventory: a sale back after its key was pruned is refused, not taken off twice", async () => {
  const { onSales, level, close } = await inventory();
  const a = sale(10000, [["MILK-1L", 3]]).replace(
    "2026-12-05T10:00:00.000Z",
    new Date().toISOString(),
  );
  await onSales.deliver([a]);
  assert.equal(await level("MILK-1L"), -3);
  // The inbox forgets it: pruned as if its retention had passed.
  await prune(onSales.store, {
    retentionMs: 1000,
    tables: ["inbox"],
    now: Date.now() + 60_000,
  });
  assert.equal(
    Number((await onSales.store.get("SELECT count(*) AS n FROM inbox"))?.n),
    0,
  );
  await onSales.deliver([a]);
  assert.equal(await level("MILK-1L"), -3, "taken off once");
  assert.equal(onSales.setAside.length, 1);
  assert.match(
    onSales.setAside[0].reason,
    /before what the inbox remembers .*it may have been handled already, so it is not applied/,
  );
  await close();
});
