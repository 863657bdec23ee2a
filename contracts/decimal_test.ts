import assert from "node:assert/strict";
import { Decimal } from "./decimal.ts";

Deno.test("decimal: money is exact", async (t) => {
  const d = Decimal.parse;
  await t.step("0.1 + 0.2 is 0.3", () => {
    assert.equal(d("0.1").add(d("0.2")).toString(), "0.3");
    assert.ok(d("0.1").add(d("0.2")).equals(d("0.3")));
  });
  await t.step("3 x 0.333 is 0.999", () => {
    assert.equal(d("0.333").times(3).toString(), "0.999");
  });
  await t.step("scale is kept as written", () => {
    assert.equal(d("10.0").toString(), "10.0");
    assert.equal(d("10.50").add(d("0.5")).toString(), "11.00");
    assert.equal(JSON.stringify({ a: d("10.50") }), '{"a":10.50}');
  });
  await t.step("large quantities stay exact", () => {
    assert.equal(
      d("19.99").times(2147483647).toString(),
      "42928198103.53",
    );
  });
  await t.step("exponents and signs", () => {
    assert.equal(d("1e2").toString(), "100");
    assert.equal(d("1.5E-3").toString(), "0.0015");
    assert.equal(d("-0.75").toString(), "-0.75");
    assert.ok(d("-0.75").isNegative());
    assert.equal(d("2.0").compare(d("2")), 0);
    assert.equal(d("1.99").compare(d("2")), -1);
  });
  await t.step("what .NET decimal cannot hold is refused", () => {
    assert.throws(() => d("79228162514264337593543950336"), RangeError);
    assert.throws(() => d("0.00000000000000000000000000001"), RangeError);
    assert.throws(() => d("1,5"), SyntaxError);
    assert.throws(() => d("01"), SyntaxError);
  });
});

Deno.test("decimal: tax arithmetic rounds like a till", () => {
  const d = Decimal.parse;
  assert.equal(d("401.00").multiply(d("0.13")).toString(), "52.1300");
  assert.equal(d("401.00").multiply(d("0.13")).round(2).toString(), "52.13");
  assert.equal(d("0.125").round(2).toString(), "0.13");
  assert.equal(d("-0.125").round(2).toString(), "-0.13");
  assert.equal(d("0.124").round(2).toString(), "0.12");
  assert.equal(d("10").round(2).toString(), "10.00");
});
