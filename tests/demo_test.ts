/**
 * The day in the shop of docs/operations.md, with the files it names: it runs as told,
 * and the opening stock fits the day (fast movers run low, nothing below
 * zero).
 */
import assert from "node:assert/strict";
import { projectPath, runService, startConsumers } from "./support/process.ts";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

Deno.test(
  "demo: a day in the shop, as docs/operations.md tells it",
  processTest,
  async (t) => {
    await withSandbox(async (base) => {
      const sandbox = { ...base, env: { ...base.env, TAX_RATE: "0.13" } };
      const run = async (
        service: "pos" | "inventory" | "billing",
        args: string[],
      ) => {
        const result = await runService(service, sandbox, args);
        assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
        return result.stdout;
      };
      await run("inventory", [
        "stock",
        "load",
        projectPath("contracts/opening_stock.csv"),
      ]);
      const [billing, inventory] = await startConsumers(sandbox);
      try {
        await run("pos", ["--items", "MILK-1L:2,BISCUIT-100G:3,RICE-1KG:1"]);
        await t.step(
          "the receipts and the JSON Lines file go through",
          async () => {
            const receipts = await run("pos", [
              "--file",
              projectPath("contracts/receipts.csv"),
              "--quiet",
            ]);
            assert.match(receipts, /Sent 8 sale\(s\), all confirmed/);
            const lines = await run("pos", [
              "--file",
              projectPath("contracts/sales.jsonl"),
              "--quiet",
            ]);
            assert.match(lines, /Sent 3 sale\(s\), all confirmed/);
          },
        );
        await run("pos", ["--count", "200", "--quiet"]);
        const count = 1 + 8 + 3 + 200;
        await billing.waitFor(/Generating invoice/, count);
        await inventory.waitFor(/Inventory update/, count);
      } finally {
        assert.equal(await billing.stop(), 0);
        assert.equal(await inventory.stop(), 0);
      }

      await t.step(
        "the first invoice shows the tax and the total due",
        async () => {
          const invoice = await run("billing", ["invoices", "--sale", "10000"]);
          assert.match(invoice, /Tax at 13% +Rs [\d,]+\.\d\d/);
          assert.match(invoice, /Total due +Rs [\d,]+\.\d\d/);
          assert.ok(
            billing.lines.some((line) =>
              /^Generating invoice for Sale #10000 - Total: Rs\.\d+\.\d+, tax Rs\.\d+\.\d+, due Rs\.\d+\.\d+$/
                .test(line)
            ),
          );
        },
      );

      await t.step("the opening stock fits the day", async () => {
        const levels: { Sku: string; Quantity: number; Low: boolean }[] = JSON
          .parse(await run("inventory", ["stock", "--json"]));
        assert.equal(levels.length, 20);
        const negative = levels.filter((level) => level.Quantity < 0);
        assert.deepEqual(negative, [], "no SKU below zero after the day");
        assert.ok(
          levels.some((level) => level.Low),
          "the fast movers run low",
        );
        // Inventory said so, once per SKU that crossed.
        const low = levels.filter((level) => level.Low).length;
        assert.equal(
          inventory.lines.filter((line) => /below its threshold/.test(line))
            .length,
          low,
        );
      });

      await t.step("the evening's delivery and count", async () => {
        assert.match(
          await run("inventory", ["stock", "add", "MILK-1L", "24"]),
          /^NEPAL-01 MILK-1L: \d+$/m,
        );
        assert.match(
          await run("inventory", [
            "stock",
            "set",
            "TEA-500G",
            "11",
            "--threshold",
            "4",
          ]),
          /^NEPAL-01 TEA-500G: 11$/m,
        );
      });
    });
  },
);
