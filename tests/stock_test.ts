/**
 * Inventory's stock (opening stock, counts, deliveries, low-stock events), the
 * events on the exchange, and a day of the demo shop from the shipped files:
 * end to end against the real broker.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { decodeInvoice } from "../contracts/invoice.ts";
import { decodeStockLow } from "../contracts/stock.ts";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { invoices, sentSales, stock } from "./support/ledger.ts";
import { openClient, publishRaw } from "./support/amqp.ts";
import {
  projectPath,
  Running,
  runService,
  startConsumers,
} from "./support/process.ts";
import { type Sandbox, withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

Deno.test(
  "inventory: opening stock, counts, deliveries, one low-stock event per crossing",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const opening = `${sandbox.dataDir}/opening.csv`;
      await Deno.writeTextFile(
        opening,
        "store,sku,quantity,threshold\nNEPAL-01,MILK-1L,12,10\nNEPAL-01,EGGS-12,3,\n",
      );
      const load = await runService("inventory", sandbox, [
        "stock",
        "load",
        opening,
        "--if-empty",
      ]);
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /^Loaded the opening stock: \d+ SKU\(s\)/);
      // As deno task start does at each start: loaded once, then kept.
      const again = await runService("inventory", sandbox, [
        "stock",
        "load",
        opening,
        "--if-empty",
      ]);
      assert.match(again.stdout, /the opening stock is not loaded again/);
      const badFile = `${sandbox.dataDir}/bad.csv`;
      await Deno.writeTextFile(
        badFile,
        "store,sku,quantity\nNEPAL-01,TEA,lots\n",
      );
      const bad = await runService("inventory", sandbox, [
        "stock",
        "load",
        badFile,
      ]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /^inventory: Stock file ".*bad\.csv": line 2: Invalid quantity "lots"/,
      );

      const watch = new Running("watch", sandbox, [
        "inventory.stock.low",
        "--json",
      ]);
      await watch.waitFor(/Watching "inventory\.stock\.low"/);
      const [billing, inventory] = await startConsumers(sandbox);
      const sell = async (items: string) => {
        const pos = await runService("pos", sandbox, [
          "--items",
          items,
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
      };
      await sell("MILK-1L:2"); // 10: not below 10
      await sell("MILK-1L:1"); // 9: crosses, one event
      await sell("MILK-1L:1"); // 8: still below, no event
      await inventory.waitFor(/Inventory update/, 3);
      const add = await runService("inventory", sandbox, [
        "stock",
        "add",
        "MILK-1L",
        "5",
      ]);
      assert.equal(add.stdout, "NEPAL-01 MILK-1L: 13\n");
      await sell("MILK-1L:4"); // 9 again: a new crossing
      await sell("EGGS-12:5"); // -2: no threshold, but negative
      await inventory.waitFor(/Inventory update/, 5);
      await watch.waitFor(/"Sku":"MILK-1L"/, 2);
      const set = await runService("inventory", sandbox, [
        "stock",
        "set",
        "TEA-500G",
        "2",
        "--threshold",
        "4",
        "--store",
        "NEPAL-01",
        "--new",
      ]);
      assert.equal(set.code, 0, set.stderr);
      // A count below the threshold is a crossing too; the service sends it.
      await watch.waitFor(/"Sku":"TEA-500G"/);
      await billing.stop();
      await inventory.stop();
      await watch.stop();

      const events = watch.lines.filter((line) => line.startsWith("{")).map((
        line,
      ) => decodeStockLow(new TextEncoder().encode(line)));
      assert.deepEqual(
        events.map((event) => [event.Sku, event.Quantity, event.Threshold]),
        [["MILK-1L", 9, 10], ["MILK-1L", 9, 10], ["TEA-500G", 2, 4]],
      );
      const levels = await stock(sandbox);
      const bySku = Object.fromEntries(
        levels.map((level) => [level.Sku, level.Quantity]),
      );
      assert.deepEqual(bySku, { "EGGS-12": -2, "MILK-1L": 9, "TEA-500G": 2 });
      const printed = await runService("inventory", sandbox, ["stock"]);
      assert.match(printed.stdout, /EGGS-12 +-2 +NEGATIVE/);
      assert.match(printed.stdout, /^Store +SKU +Quantity +Low below$/m);
      assert.match(printed.stdout, /MILK-1L +9 +10 +LOW/);
    });
  },
);

Deno.test(
  "events: invoice.created and every event under #",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const invoicesWatch = new Running("watch", sandbox, [
        "invoice.*",
        "--json",
      ]);
      const everything = new Running("watch", sandbox, ["#"]);
      await invoicesWatch.waitFor(/Watching/);
      await everything.waitFor(/Watching/);
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      await publishRaw(client, DOTNET_MESSAGE);
      await client.close();
      await invoicesWatch.waitFor(/^\{"InvoiceNumber"/);
      await everything.waitFor(/^invoice\.created +\{/);
      await everything.waitFor(/^sale\.created +\{"SaleId":10001/);
      const invoice = decodeInvoice(
        new TextEncoder().encode(
          invoicesWatch.lines.find((line) => line.startsWith("{")),
        ),
      );
      // The .NET POS sends no prices: the invoice says so, and is not flagged.
      assert.equal(invoice.SaleId, 10001);
      assert.equal(invoice.Subtotal, undefined);
      assert.equal(invoice.Mismatch, false);
      assert.equal(invoice.Total.toString(), "10.0");
      await billing.stop();
      await inventory.stop();
      await invoicesWatch.stop();
      await everything.stop();
    });
  },
);

Deno.test(
  "a day of the demo shop from the shipped files",
  processTest,
  async () => {
    await withSandbox(async (sandbox: Sandbox) => {
      const opening = fileURLToPath(
        new URL("../contracts/opening_stock.csv", import.meta.url),
      );
      const load = await runService("inventory", sandbox, [
        "stock",
        "load",
        opening,
      ]);
      assert.equal(load.code, 0, load.stderr);
      const [billing, inventory] = await startConsumers(sandbox);
      const pos = await runService("pos", sandbox, [
        "--count",
        "100",
        "--quiet",
      ]);
      assert.equal(pos.code, 0, pos.stderr);
      await inventory.waitFor(/Inventory update/, 100);
      await billing.waitFor(/Generating invoice/, 100);
      await billing.stop();
      await inventory.stop();
      // Stock is the opening count less the exact sum sold.
      const sold = new Map<string, number>();
      for (const { sale } of sentSales(sandbox)) {
        for (const item of sale.Items) {
          sold.set(item.Sku, (sold.get(item.Sku) ?? 0) + item.Quantity);
        }
      }
      const openingCounts = new Map(
        (await Deno.readTextFile(projectPath("contracts", "opening_stock.csv")))
          .split("\n")
          .filter((line) => line.startsWith("NEPAL-01,"))
          .map((line) => [line.split(",")[1], Number(line.split(",")[2])]),
      );
      for (const level of await stock(sandbox)) {
        assert.equal(
          level.Quantity,
          (openingCounts.get(level.Sku) ?? 0) - (sold.get(level.Sku) ?? 0),
          level.Sku,
        );
      }
      assert.equal((await invoices(sandbox)).length, 100);
    });
  },
);
