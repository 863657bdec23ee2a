/**
 * A sale redelivered after the inbox has pruned its key has no second
 * effect anywhere: each consumer refuses it as older than what its inbox
 * remembers, and says so, instead of taking the stock twice, counting the
 * sale twice or failing on its own database.
 */
import assert from "node:assert/strict";
import { openClient, publishRaw } from "./support/amqp.ts";
import { invoices, stock } from "./support/ledger.ts";
import { signIn, startOffice } from "./support/office.ts";
import { processTest } from "./support/options.ts";
import { startConsumers } from "./support/process.ts";
import { withSandbox } from "./support/sandbox.ts";

/** A sale of `quantity` MILK-1L made now, as a till sends it. */
function sale(id: number, quantity: number): string {
  return JSON.stringify({
    SaleId: id,
    StoreId: "NEPAL-01",
    TillId: "till-r",
    Items: [{ Sku: "MILK-1L", Quantity: quantity, UnitPrice: 110 }],
    Timestamp: new Date().toISOString(),
    TotalAmount: 110 * quantity,
  });
}

Deno.test(
  "retention: a sale back after its key was pruned is refused by every consumer",
  processTest,
  async () => {
    await withSandbox(async (base) => {
      const sandbox = { ...base, env: { ...base.env, RETENTION: "2s" } };
      const [billing, inventory] = await startConsumers(sandbox);
      const { office, url, password } = await startOffice(sandbox);
      const client = await openClient(sandbox);
      try {
        const a = sale(10000, 3);
        await publishRaw(client, a);
        await publishRaw(client, sale(10001, 1));
        await billing.waitFor(/Generating invoice/, 2);
        await inventory.waitFor(/Inventory update/, 2);
        // Past the retention, and a round of pruning after it.
        await new Promise((resolve) => setTimeout(resolve, 4000));
        await publishRaw(client, a);
        for (const service of [billing, inventory, office]) {
          await service.waitFor(/before what the inbox remembers/);
        }
        assert.deepEqual(
          (await invoices(sandbox)).map((invoice) => invoice.SaleId),
          [10000, 10001],
        );
        assert.ok(
          !billing.lines.some((line) => /UNIQUE constraint/.test(line)),
          billing.lines.join("\n"),
        );
        const milk = (await stock(sandbox)).find((level) =>
          level.Sku === "MILK-1L"
        );
        assert.equal(milk?.Quantity, -4);
        const { cookie } = await signIn(url, password);
        const response = await fetch(`${url}/api/summary`, {
          headers: { cookie },
        });
        const summary = await response.json();
        assert.equal(summary.Sales, 2);
        assert.equal(summary.Revenue, "440");
      } finally {
        await client.close();
        await office.stop();
        await billing.stop();
        await inventory.stop();
      }
    });
  },
);
