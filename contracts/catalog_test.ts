import assert from "node:assert/strict";
import { DEMO_CATALOG, parseCatalog } from "./catalog.ts";
import { ContractError } from "./codec.ts";

Deno.test("catalog: the demo shop's, and clear errors for bad rows", async (t) => {
  await t.step("the demo catalog loads", async () => {
    const catalog = parseCatalog(
      await Deno.readTextFile(DEMO_CATALOG),
      "catalog.csv",
    );
    assert.equal(catalog.currency, "NPR");
    assert.ok(catalog.products.size >= 15);
    assert.equal(
      catalog.products.get("MILK-1L")?.unitPrice.toString(),
      "110.00",
    );
    assert.equal(
      catalog.products.get("NOODLES-75G")?.name,
      "Wai Wai noodles, 75 g",
    );
  });
  await t.step("malformed rows are named by line", () => {
    const bad = `sku,name,unit_price,currency
MILK-1L,Milk,110.00,NPR
EGGS,Eggs,twelve,NPR
SALT,Salt,-1,NPR
MILK-1L,Milk again,1,NPR
TEA,Tea,1.00,rupees
`;
    assert.throws(() => parseCatalog(bad, "bad.csv"), (error: unknown) => {
      assert.ok(error instanceof ContractError);
      assert.match(
        error.message,
        /^Catalog "bad.csv": line 3: unit price "twelve"/,
      );
      assert.match(error.message, /line 4: unit price "-1"/);
      assert.match(error.message, /line 5: SKU "MILK-1L" is listed twice/);
      assert.match(
        error.message,
        /line 6: currency "rupees": must be a 3-letter code/,
      );
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
    assert.throws(
      () =>
        parseCatalog(
          "sku,name,unit_price,currency\nA,a,1,NPR\nB,b,1,USD\n",
          "x.csv",
        ),
      /more than one currency/,
    );
    assert.throws(
      () => parseCatalog("sku,name,unit_price,currency\nA,a,1\n", "y.csv"),
      /y.csv line 2: 3 fields, the header has 4/,
    );
    // Another kind of file is said once, with the header it should have.
    assert.throws(
      () => parseCatalog("receipt,sku,quantity\nr1,A,1\n", "z.csv"),
      /^CsvFormatError: z.csv is not a catalog: its header is "receipt,sku,quantity", a catalog's is "sku,name,unit_price,currency"$/,
    );
  });
});
