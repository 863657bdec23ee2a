import assert from "node:assert/strict";
import { DOTNET_MESSAGE } from "./_fixtures.ts";
import { Decimal } from "./decimal.ts";
import { parseExact, parseExactSlowly } from "./exact_json.ts";

/** The value with its Decimals marked, to compare them by their digits. */
function shown(value: unknown): string {
  return JSON.stringify(
    value,
    (_, item) => item instanceof Decimal ? `Decimal(${item})` : item,
  );
}

const CORPUS = [
  DOTNET_MESSAGE,
  '{"SaleId":10000,"StoreId":"NEPAL-01","Items":[{"Sku":"MILK-1L","Quantity":2,"UnitPrice":110.00}],"Timestamp":"2026-11-27T10:00:00.000Z","TotalAmount":220.00}',
  '{"a":0.1,"b":[1,2.50,-3e2,1E-7,9007199254740993,-0],"c":{"d":{"e":[[0.30]]}}}',
  '{"s":"a \\"quoted\\" 1.5 and \\\\","n":1.50}',
  '{"s":"\\\\","t":"x\\":","n": 2.0 }',
  '{"a":"x","b":6.5,"a":5.25}',
  '{"a":1.5,"a":2.5}',
  '{"b":1.5,"0":2.25}',
  '{"10":[0.5],"x":0.75}',
  '{"\\u0061":1.25,"a":3.5}',
  '[1.0, 2, [3.00, {"k": 4.000}]]',
  "7.50",
  '"only text 1.5"',
  '{"big":123456789012345678901234567.89,"small":1e-28}',
  '{"Timestamp":"10:46:12.1234567","x":[],"y":{},"z":null,"w":true}',
  ' { "spaced" : 1.10 , "arr" : [ 2.20 , 3 ] } ',
];

Deno.test("exact JSON: the same values as the reviver, decimals and all", () => {
  for (const text of CORPUS) {
    assert.equal(shown(parseExact(text)), shown(parseExactSlowly(text)), text);
  }
  // And the numbers a float would round are Decimals of their digits.
  const sale = parseExact(CORPUS[1]) as {
    TotalAmount: Decimal;
    Items: { UnitPrice: Decimal; Quantity: number }[];
  };
  assert.equal(String(sale.TotalAmount), "220.00");
  assert.equal(String(sale.Items[0].UnitPrice), "110.00");
  assert.equal(sale.Items[0].Quantity, 2);
});

Deno.test("exact JSON: what is not JSON, or not a decimal, fails as before", () => {
  assert.throws(() => parseExact("{"), SyntaxError);
  assert.throws(() => parseExact('{"a":1e400}'), /^ExactNumberError: a: /);
});
