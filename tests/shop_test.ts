/**
 * A day of a small shop: catalog and prices, the POS's entry modes, priced
 * invoices with tax, stock with restocks and low-stock events, and the
 * events other services see.
 */
import assert from "node:assert/strict";
import { DEMO_CATALOG, parseCatalog } from "../contracts/catalog.ts";
import { decodeSale } from "../contracts/sale.ts";
import { invoices, sentSales } from "./support/ledger.ts";
import { openClient, publishRaw } from "./support/amqp.ts";
import { Running, runService, startConsumers } from "./support/process.ts";
import { withCatalog, withSandbox } from "./support/sandbox.ts";
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
    await t.step("--count: realistic baskets from the catalog", async () => {
      const pos = await runService("pos", sandbox, [
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
      assert.match(one.stdout, /MILK-1L +2 x +Rs 110\.00 +Rs 220\.00/);
      assert.match(one.stdout, /BISCUIT-100G +3 x +Rs 27\.50 +Rs 82\.50/);
      assert.match(one.stdout, /Subtotal +Rs 401\.00/);
      assert.match(one.stdout, /Tax at 13% +Rs 52\.13/);
      assert.match(one.stdout, /Total due +Rs 453\.13/);
      const flagged = await runService("billing", sandbox, [
        "invoices",
        "--sale",
        "777",
      ]);
      assert.match(
        flagged.stdout,
        /FLAGGED: the lines add up to Rs 2\.50, the sale says Rs 3\.00/,
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
