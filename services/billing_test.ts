import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { decodeInvoice } from "../contracts/invoice.ts";
import { Decimal } from "../contracts/decimal.ts";
import { decodeSale } from "../contracts/sale.ts";
import { createLog } from "../lib/log/mod.ts";
import { Outbox, SqliteStore } from "../lib/store/mod.ts";
import { ConsumerHarness } from "../tests/support/harness.ts";
import { billingQueue, makeInvoice, makeInvoiceTables } from "./billing.ts";

/** A sale as a till sends it. */
function sale(id: number, store = "NEPAL-01", till = "till-a"): string {
  return JSON.stringify({
    SaleId: id,
    StoreId: store,
    TillId: till,
    Items: [
      { Sku: "MILK-1L", Quantity: 2, UnitPrice: 110.0 },
      { Sku: "EGGS-12", Quantity: 1, UnitPrice: 360.5 },
    ],
    Timestamp: "2026-12-05T10:00:00.000Z",
    TotalAmount: 580.5,
  });
}

/** Billing's handler on a store in memory; its lines kept. */
async function billing(taxRate?: Decimal) {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  await makeInvoiceTables(store);
  const outbox = await Outbox.open(store);
  const lines: string[] = [];
  const log = createLog("billing", {
    format: "text",
    write: (_level, text) => lines.push(...text.trimEnd().split("\n")),
  });
  const harness = await ConsumerHarness.start(
    billingQueue({ outbox, log, taxRate }),
    { store },
  );
  return { harness, outbox, lines };
}

Deno.test("billing: one invoice per sale, numbered per store without gaps, each announced", async () => {
  const { harness, outbox, lines } = await billing();
  await harness.deliver([
    sale(10000),
    sale(10000, "POKHARA-02"),
    sale(10001),
  ]);
  // A redelivery of the first: no second invoice.
  await harness.deliver([sale(10000)]);
  const rows = await harness.store.all(
    "SELECT number, store_id, sale_id FROM invoice ORDER BY number",
  );
  assert.deepEqual(
    rows.map((row) => [row.number, row.store_id, Number(row.sale_id)]),
    [
      ["NEPAL-01-000001", "NEPAL-01", 10000],
      ["NEPAL-01-000002", "NEPAL-01", 10001],
      ["POKHARA-02-000001", "POKHARA-02", 10000],
    ],
  );
  const pending = await outbox.pending(10);
  assert.deepEqual(
    pending.map((entry) => [entry.routingKey, entry.messageId]).sort(),
    [
      ["invoice.created", "invoice:NEPAL-01-000001"],
      ["invoice.created", "invoice:NEPAL-01-000002"],
      ["invoice.created", "invoice:POKHARA-02-000001"],
    ],
  );
  const invoice = decodeInvoice(pending[0].body);
  assert.equal(invoice.TotalAmount.toString(), "580.5");
  assert.equal(
    lines.filter((line) => line.includes("Generating invoice")).length,
    3,
  );
  assert.deepEqual(harness.setAside, []);
  await harness.close();
});

Deno.test("billing: a sale that is not one is set aside, the rest invoiced", async () => {
  const { harness } = await billing();
  await harness.deliver([sale(10000), '{"SaleId":"ten"}', sale(10001)]);
  assert.equal(harness.setAside.length, 1);
  assert.match(harness.setAside[0].reason, /SaleId/);
  const { count } = (await harness.store.get(
    "SELECT count(*) AS count FROM invoice",
  ))!;
  assert.equal(Number(count), 2);
  await harness.close();
});

Deno.test("billing: the tax is on the sale's total, and lines that do not add up are flagged", () => {
  const priced = decodeSale(new TextEncoder().encode(sale(10000)));
  const taxed = makeInvoice(priced, {
    number: "NEPAL-01-000001",
    taxRate: Decimal.parse("0.13"),
  });
  assert.equal(taxed.Tax?.toString(), "75.47");
  assert.equal(taxed.Total.toString(), "655.97");
  assert.equal(taxed.Mismatch, false);
  const off = makeInvoice({ ...priced, TotalAmount: Decimal.parse("500") }, {
    number: "NEPAL-01-000002",
  });
  assert.equal(off.Mismatch, true);
  assert.equal(off.Tax, undefined);
  assert.equal(off.Subtotal?.toString(), "580.5");
});
