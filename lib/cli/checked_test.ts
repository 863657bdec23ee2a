import assert from "node:assert/strict";
import { code } from "../../contracts/sale.ts";
import { UsageError } from "../core/mod.ts";
import { checkedOption } from "./checked.ts";

Deno.test("checkedOption: a valid value as the schema reads it", () => {
  assert.equal(checkedOption(code, "store", "NEPAL-01"), "NEPAL-01");
});

Deno.test("checkedOption: an invalid one names the option and the value, escaped", () => {
  assert.throws(
    () => checkedOption(code, "store", "NEPAL\u001b-01"),
    (error) =>
      error instanceof UsageError &&
      error.message.startsWith('Invalid store "NEPAL\\u001b-01": '),
  );
  assert.throws(() => checkedOption(code, "SKU", undefined), /Invalid SKU ""/);
});
