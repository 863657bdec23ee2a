import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { SqliteStore } from "../../lib/store/mod.ts";
import { ConsumerHarness } from "../../tests/support/harness.ts";
import { OfficeModel } from "./model.ts";
import { type Applied, officeQueue } from "./queue.ts";

const DAY = "2026-12-05";

function sale(id: number, total: number) {
  return JSON.stringify({
    SaleId: id,
    StoreId: "NEPAL-01",
    TillId: "till-a",
    Items: [{ Sku: "MILK-1L", Quantity: 1, UnitPrice: total }],
    Timestamp: `${DAY}T10:00:00.000Z`,
    TotalAmount: total,
  });
}

function invoice(number: string, saleId: number, total: number) {
  return JSON.stringify({
    InvoiceNumber: number,
    StoreId: "NEPAL-01",
    TillId: "till-a",
    SaleId: saleId,
    Lines: [{
      Sku: "MILK-1L",
      Quantity: 1,
      UnitPrice: total,
      LineTotal: total,
    }],
    Total: total,
    TotalAmount: total,
    Mismatch: false,
    CreatedAt: `${DAY}T10:00:01.000Z`,
  });
}

Deno.test("office: each event applied once to the day's totals, each shown once on disk", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const model = await OfficeModel.open(store);
  const shown: Applied[] = [];
  const harness = await ConsumerHarness.start(
    officeQueue(model, (applied) => shown.push(...applied)),
    { store },
  );
  await harness.deliver([sale(10000, 110), sale(10001, 330)], {
    routingKey: "sale.created",
  });
  await harness.deliver([invoice("NEPAL-01-000001", 10000, 110)], {
    routingKey: "invoice.created",
  });
  // Redelivered: no second count.
  await harness.deliver([sale(10000, 110)], { routingKey: "sale.created" });
  const summary = await model.summary(DAY);
  assert.equal(summary.Sales, 2);
  assert.equal(summary.Invoices, 1);
  assert.equal(Number(summary.Revenue), 440);
  assert.equal(shown.length, 3);
  assert.deepEqual(harness.setAside, []);
  await harness.close();
});

Deno.test("office: an event it does not take is set aside, naming what it takes", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const harness = await ConsumerHarness.start(
    officeQueue(await OfficeModel.open(store)),
    { store },
  );
  await harness.deliver(["{}"], { routingKey: "something.else" });
  assert.equal(harness.setAside.length, 1);
  assert.match(harness.setAside[0].reason, /Unknown event "something.else"/);
  await harness.close();
});
