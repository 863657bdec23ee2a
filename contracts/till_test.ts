import assert from "node:assert/strict";
import { Decimal } from "./decimal.ts";
import {
  countOf,
  decodeTillClosed,
  encodeTillClosed,
  formatRanges,
  parseRanges,
  type TillClosed,
  toRanges,
} from "./till.ts";

Deno.test("till: ids as ranges, and back", () => {
  assert.deepEqual(toRanges([10005, 10000, 10001, 10002, 10001]), [
    [10000, 10002],
    [10005, 10005],
  ]);
  assert.equal(
    formatRanges([[10041, 10043], [10050, 10050]]),
    "10041-10043,10050",
  );
  assert.deepEqual(parseRanges(" 10050, 10041-10043 "), [
    [10041, 10043],
    [10050, 10050],
  ]);
  assert.equal(countOf([[1, 3], [7, 7]]), 4);
  for (const bad of ["", "a", "5-3", "0", "1-2-3", "1-99999999"]) {
    assert.throws(() => parseRanges(bad), RangeError, bad);
  }
});

Deno.test("till: a close is checked both ways: ranges ascending and apart, the count theirs", () => {
  const close: TillClosed = {
    StoreId: "NEPAL-01",
    TillId: "till-a",
    BusinessDay: "2026-12-05",
    OpenedAt: "2026-12-05T08:00:00.000Z",
    ClosedAt: "2026-12-05T20:00:00.000Z",
    SaleIds: [[10000, 10002], [10004, 10004]],
    Count: 4,
    TotalAmount: Decimal.parse("1234.50"),
  };
  assert.deepEqual(decodeTillClosed(encodeTillClosed(close)), close);
  assert.throws(() => encodeTillClosed({ ...close, Count: 5 }), /Count/);
  assert.throws(
    () =>
      encodeTillClosed({ ...close, SaleIds: [[10004, 10004], [10000, 10002]] }),
    /ascending/,
  );
  assert.throws(
    () =>
      encodeTillClosed({
        ...close,
        SaleIds: [[10000, 10002], [10003, 10003]],
        Count: 4,
      }),
    /touch/,
  );
  assert.throws(
    () => encodeTillClosed({ ...close, BusinessDay: "today" }),
    /date/,
  );
});
