import assert from "node:assert/strict";
import { checkBasket, parseItems, priceItems, randomBasket } from "./basket.ts";
import { parseCatalog } from "./catalog.ts";

const catalog = parseCatalog(
  "sku,name,unit_price,currency\nMILK-1L,Milk,110,NPR\nOIL-1L,Oil,295,NPR\nBREAD-WHITE,Bread,85,NPR\n",
  "catalog.csv",
);

Deno.test("basket: problems in the shop's words, not the schema's", () => {
  const cases: [() => unknown, string][] = [
    [
      () => parseItems("MILK-1L:x"),
      'Invalid item "MILK-1L:x": quantity "x" is not a whole number',
    ],
    [
      () => parseItems("MILK-1L:1.5"),
      'Invalid item "MILK-1L:1.5": quantity "1.5" is not a whole number',
    ],
    [() => parseItems("MILK-1L:0"), "item 1: quantity 0 must be at least 1"],
    [
      () => parseItems("MILK-1L:99999999999"),
      "item 1: quantity 99999999999 is too large: at most 2147483647",
    ],
    [() => checkBasket({}), "items is missing"],
    [
      () => checkBasket({ Items: [] }),
      "items is empty: a sale needs at least 1 item",
    ],
    [
      () => checkBasket({ Items: [{ Sku: "A", Quantity: "2" }] }),
      'item 1: quantity "2" is not a whole number',
    ],
    [
      () => checkBasket({ Items: [{ Sku: "", Quantity: 1 }] }),
      "item 1: SKU is empty",
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, (error: Error) => {
      assert.equal(error.message, message);
      return true;
    });
  }
});

Deno.test("basket: an unknown SKU suggests the near ones", () => {
  const price = (sku: string) => () =>
    priceItems(catalog, { Items: [{ Sku: sku, Quantity: 1 }] });
  assert.throws(
    price("MILK-1"),
    /^.*Unknown SKU "MILK-1": did you mean MILK-1L\?$/,
  );
  assert.throws(price("BRED-WHITE"), /did you mean BREAD-WHITE\?$/);
  assert.throws(price("COFFEE-1KG"), /^.*Unknown SKU "COFFEE-1KG"$/);
});

Deno.test("randomBasket: one to five products of the catalog, each once, one to four of each", () => {
  const catalog = parseCatalog(
    "sku,name,unit_price,currency\nA,a,1.00,NPR\nB,b,2.00,NPR\nC,c,3.00,NPR\nD,d,4.00,NPR\nE,e,5.00,NPR\nF,f,6.00,NPR\n",
    "catalog.csv",
  );
  for (let i = 0; i < 200; i++) {
    const { Items } = randomBasket(catalog);
    assert.ok(Items.length >= 1 && Items.length <= 5);
    assert.equal(new Set(Items.map((item) => item.Sku)).size, Items.length);
    for (const item of Items) {
      assert.ok(catalog.products.has(item.Sku));
      assert.ok(item.Quantity >= 1 && item.Quantity <= 4);
    }
  }
});
