import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import { parseCatalog } from "../../contracts/catalog.ts";
import { DEMO_CATALOG } from "../../contracts/names.ts";
import { Decimal } from "../../contracts/decimal.ts";
import { decodeSale } from "../../contracts/sale.ts";
import { decodeTillClosed } from "../../contracts/till.ts";
import { SqliteStore } from "../../lib/store/mod.ts";
import { Till } from "./till.ts";

const catalog = parseCatalog(
  await Deno.readTextFile(DEMO_CATALOG),
  "catalog.csv",
);
const milk = { Items: [{ Sku: "MILK-1L", Quantity: 1 }] };

async function openTill() {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const till = await Till.open(store, {
    store: "NEPAL-01",
    catalog,
    till: "till-a",
  });
  const messages = async (key: string) =>
    (await store.all(
      "SELECT body FROM outbox WHERE routing_key = ? ORDER BY id",
      key,
    )).map((row) => row.body as Uint8Array);
  return { store, till, messages };
}

Deno.test("till: each sale names the one before it that day; a rolled-back ring leaves no link", async () => {
  const { till } = await openTill();
  const [first, second] = await till.ring([milk, milk]);
  assert.equal(first.PreviousSaleId, undefined);
  assert.equal(second.PreviousSaleId, 10000);
  await assert.rejects(till.ring([milk, {
    Items: [{ Sku: "NO-SUCH-SKU", Quantity: 1 }],
  }]));
  const [third] = await till.ring([milk]);
  // The ring rolled back, its ids with it (on SQLite; a PostgreSQL
  // sequence skips them): the chain goes on from 10001.
  assert.equal(third.SaleId, 10002);
  assert.equal(third.PreviousSaleId, 10001);
  await till.close();
  const [next] = await till.ring([milk]);
  assert.equal(next.PreviousSaleId, undefined, "a new day starts the chain");
});

Deno.test("till: a close states the day's ids as ranges, their count and exact sum; nothing sold since sends it again", async () => {
  const { till, messages } = await openTill();
  const sold = await till.ring([milk, milk]);
  await assert.rejects(till.ring([{ Items: [{ Sku: "NOPE", Quantity: 1 }] }]));
  sold.push(...await till.ring([milk]));
  const { close, again } = await till.close();
  assert.equal(again, false);
  assert.deepEqual(close.SaleIds, [[10000, 10002]]);
  assert.equal(close.Count, 3);
  assert.equal(
    close.TotalAmount.toString(),
    sold.reduce((sum, sale) => sum.add(sale.TotalAmount), Decimal.of(0n))
      .toString(),
  );
  const resent = await till.close();
  assert.equal(resent.again, true);
  assert.deepEqual(resent.close, close);
  const bodies = await messages("till.closed");
  assert.equal(bodies.length, 2);
  assert.deepEqual(decodeTillClosed(bodies[1]), decodeTillClosed(bodies[0]));
  // A new day on the same date is told apart.
  await till.ring([milk]);
  const second = await till.close();
  assert.equal(second.close.BusinessDay, `${close.BusinessDay}-2`);
  assert.deepEqual(second.close.SaleIds, [[10003, 10003]]);
});

Deno.test("till: resend adds the stored messages again, the same; unknown ids are said", async () => {
  const { till, messages } = await openTill();
  await till.ring([milk, milk, milk]);
  const result = await till.resend([[10001, 10002], [10009, 10009]]);
  assert.deepEqual(result, {
    sent: [10001, 10002],
    unknown: [10009],
    gone: [],
  });
  const bodies = await messages("sale.created");
  assert.equal(bodies.length, 5);
  assert.deepEqual(decodeSale(bodies[3]), decodeSale(bodies[1]));
  assert.deepEqual(Buffer.from(bodies[4]), Buffer.from(bodies[2]));
});
