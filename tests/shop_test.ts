/**
 * A day of a small shop: catalog and prices, the POS's entry modes, priced
 * invoices with tax, stock with restocks and low-stock events, and the
 * events other services see.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { DEMO_CATALOG, parseCatalog } from "../contracts/catalog.ts";
import { decodeInvoice } from "../contracts/invoice.ts";
import { decodeSale } from "../contracts/sale.ts";
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
import { type Sandbox, withCatalog, withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

/** Prices chosen to trip binary floating point. */
const AWKWARD = `sku,name,unit_price,currency
TENTH,"A tenth",0.1,NPR
FIFTH,"A fifth",0.2,NPR
THIRD,"Nearly a third",0.333,NPR
DEAR,"Dear thing",19.99,NPR
`;

Deno.test(
  "pos: exact money on awkward prices, end to end",
  processTest,
  async () => {
    await withSandbox(async (base) => {
      const sandbox = await withCatalog(base, AWKWARD);
      const [billing, inventory] = await startConsumers(sandbox);
      for (const items of ["TENTH:1,FIFTH:1", "THIRD:3", "DEAR:2147483647"]) {
        const pos = await runService("pos", sandbox, ["--items", items]);
        assert.equal(pos.code, 0, pos.stderr);
      }
      await billing.waitFor(/Generating invoice/, 3);
      await billing.stop();
      await inventory.stop();
      const totals = sentSales(sandbox).map((entry) =>
        decodeSale(new TextEncoder().encode(JSON.stringify(entry.sale)))
          .TotalAmount.toString()
      );
      // Raw sale bodies, as they went out: exact digits, not 0.30000000000000004.
      assert.deepEqual(totals, ["0.3", "0.999", "42928198103.53"]);
      const stored = await invoices(sandbox);
      assert.deepEqual(stored.map((invoice) => invoice.Total), [
        0.3,
        0.999,
        42928198103.53,
      ]);
      assert.ok(
        stored.every((invoice) =>
          !("Mismatch" in invoice) || invoice.Mismatch === false
        ),
      );
    });
  },
);

Deno.test("pos: entry modes and their errors", processTest, async (t) => {
  await withSandbox(async (sandbox) => {
    const [billing, inventory] = await startConsumers(sandbox);
    await t.step("--items: one priced sale", async () => {
      const pos = await runService("pos", sandbox, [
        "--items",
        "MILK-1L:2,BISCUIT-100G:3",
      ]);
      assert.equal(pos.code, 0, pos.stderr);
      const [{ sale }] = sentSales(sandbox);
      assert.deepEqual(sale.Items, [
        { Sku: "MILK-1L", Quantity: 2, UnitPrice: 110 },
        { Sku: "BISCUIT-100G", Quantity: 3, UnitPrice: 27.5 },
      ]);
      assert.equal(sale.TotalAmount, 302.5);
    });
    await t.step(
      "an unknown SKU is one line, and nothing is sold",
      async () => {
        const before = sentSales(sandbox).length;
        const pos = await runService("pos", sandbox, [
          "--items",
          "MILK-1L:1,CAVIAR:1",
        ]);
        assert.equal(pos.code, 1);
        assert.equal(pos.stderr, 'pos: Unknown SKU "CAVIAR"\n');
        assert.equal(sentSales(sandbox).length, before);
        const bad = await runService("pos", sandbox, ["--items", "MILK-1L:x"]);
        assert.equal(bad.code, 2);
        assert.match(
          bad.stderr,
          /^pos: Invalid item "MILK-1L:x": quantity "x" is not a whole number$/m,
        );
      },
    );
    await t.step(
      "--file CSV: bad rows reported by line, only good receipts sent",
      async () => {
        const path = `${sandbox.dataDir}/day.csv`;
        await Deno.writeTextFile(
          path,
          `receipt,sku,quantity
r1,MILK-1L,1
r1,EGGS-12,2
r2,CAVIAR,1
r2,MILK-1L,1
r3,RICE-5KG,0
r4,TEA-500G,1
`,
        );
        const before = sentSales(sandbox).length;
        const pos = await runService("pos", sandbox, [
          "--file",
          path,
          "--quiet",
        ]);
        assert.equal(pos.code, 1);
        assert.match(pos.stderr, /day\.csv line 4: Unknown SKU "CAVIAR"/);
        assert.match(
          pos.stderr,
          /day\.csv line 6: item 1: quantity 0 must be at least 1$/m,
        );
        assert.match(pos.stderr, /receipt "r2" \(lines 4, 5\) is not sent/);
        assert.match(
          pos.stderr,
          /pos: 2 bad row\(s\) in ".*day\.csv" were not sent/,
        );
        assert.match(pos.stdout, /Sent 2 sale\(s\), all confirmed/);
        const sent = sentSales(sandbox).slice(before).map((entry) =>
          entry.sale
        );
        assert.deepEqual(
          sent.map((sale) =>
            sale.Items.map((item: { Sku: string }) => item.Sku)
          ),
          [
            ["MILK-1L", "EGGS-12"],
            ["TEA-500G"],
          ],
        );
      },
    );
    await t.step("--file JSON Lines", async () => {
      const path = `${sandbox.dataDir}/day.jsonl`;
      await Deno.writeTextFile(
        path,
        [
          '{"Items":[{"Sku":"SALT-1KG","Quantity":2}]}',
          '{"Items":[]}',
          "not json",
          '{"StoreId":"NEPAL-02","Items":[{"Sku":"OIL-1L","Quantity":1}]}',
        ].join("\n"),
      );
      const pos = await runService("pos", sandbox, ["--file", path, "--quiet"]);
      assert.equal(pos.code, 1);
      assert.match(
        pos.stderr,
        /day\.jsonl line 2: items is empty: a sale needs at least 1 item$/m,
      );
      assert.match(
        pos.stderr,
        /day\.jsonl line 3: not JSON: use one object a line/,
      );
      assert.match(pos.stdout, /Sent 2 sale\(s\)/);
      const last = sentSales(sandbox).at(-1)?.sale;
      assert.equal(last.StoreId, "NEPAL-02");
    });
    await t.step("--simulate: realistic baskets from the catalog", async () => {
      const pos = await runService("pos", sandbox, [
        "--simulate",
        "--count",
        "50",
        "--quiet",
      ]);
      assert.equal(pos.code, 0, pos.stderr);
      const catalog = parseCatalog(await Deno.readTextFile(DEMO_CATALOG), "c");
      for (const { sale } of sentSales(sandbox).slice(-50)) {
        assert.ok(sale.Items.length >= 1 && sale.Items.length <= 5);
        for (const item of sale.Items) {
          assert.equal(
            item.UnitPrice,
            Number(catalog.products.get(item.Sku)?.unitPrice),
          );
        }
      }
    });
    await billing.stop();
    await inventory.stop();
  });
});

Deno.test(
  "billing: per-store gapless numbers, tax, a flagged mismatch, one invoice rendered",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const billing = new Running("billing", {
        ...sandbox,
        env: { ...sandbox.env, TAX_RATE: "0.13" },
      });
      const inventory = new Running("inventory", sandbox);
      await billing.waitFor(/running on/);
      for (const store of ["KTM-01", "PKR-01", "KTM-01", "KTM-01", "PKR-01"]) {
        const pos = await runService("pos", sandbox, [
          "--items",
          "MILK-1L:2,BISCUIT-100G:3,RICE-1KG:1",
          "--store",
          store,
        ]);
        assert.equal(pos.code, 0, pos.stderr);
      }
      // Lines that do not add up: 2 x 1.25 is 2.50, the sale says 3.00.
      const client = await openClient(sandbox);
      await publishRaw(
        client,
        '{"SaleId":777,"StoreId":"KTM-01","Items":[{"Sku":"X","Quantity":2,"UnitPrice":1.25}],"Timestamp":"2026-11-27T10:46:12Z","TotalAmount":3.00}',
      );
      await client.close();
      await billing.waitFor(/Generating invoice/, 6);
      await billing.waitFor(
        /Invoice KTM-01-000004 is flagged: its lines add up to Rs\.2\.50, the sale says Rs\.3\.00/,
      );
      await billing.stop();
      await inventory.stop();

      const stored = await invoices(sandbox) as unknown as Record<
        string,
        unknown
      >[];
      assert.deepEqual(
        stored.map((invoice) => invoice.InvoiceNumber),
        [
          "KTM-01-000001",
          "KTM-01-000002",
          "KTM-01-000003",
          "KTM-01-000004",
          "PKR-01-000001",
          "PKR-01-000002",
        ],
      );
      const first = stored[0];
      assert.equal(first.Subtotal, 401);
      assert.equal(first.TaxRate, 0.13);
      assert.equal(first.Tax, 52.13);
      assert.equal(first.Total, 453.13);
      assert.equal(first.Mismatch, false);
      assert.equal(stored[3].Mismatch, true);

      const one = await runService("billing", sandbox, [
        "invoices",
        "--sale",
        "10000",
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /^Invoice KTM-01-000001\n/);
      assert.match(one.stdout, /MILK-1L +2 x +Rs\.110\.00 +Rs\.220\.00/);
      assert.match(one.stdout, /BISCUIT-100G +3 x +Rs\.27\.50 +Rs\.82\.50/);
      assert.match(one.stdout, /Tax at 0\.13 +Rs\.52\.13/);
      assert.match(one.stdout, /Total due +Rs\.453\.13/);
      const flagged = await runService("billing", sandbox, [
        "invoices",
        "--sale",
        "777",
      ]);
      assert.match(
        flagged.stdout,
        /FLAGGED: the lines add up to Rs\.2\.50, the sale says Rs\.3\.00/,
      );
      const none = await runService("billing", sandbox, [
        "invoices",
        "--sale",
        "4242",
      ]);
      assert.equal(none.code, 1);
      assert.equal(none.stderr, "billing: No invoice for sale #4242\n");
    });
  },
);

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
      ]);
      assert.equal(load.code, 0, load.stderr);
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
      assert.match(printed.stdout, /MILK-1L +9 +LOW \(below 10\)/);
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
        "--simulate",
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
