import assert from "node:assert/strict";
import { formatMoney, formatTime, parseMoney, parseTimeZone } from "./money.ts";
import { UsageError } from "./errors.ts";

Deno.test("money: every digit kept, grouped as the locale groups", () => {
  assert.equal(formatMoney("352619.00"), "Rs 352,619.00");
  assert.equal(formatMoney("0.5"), "Rs 0.5");
  assert.equal(formatMoney("-1234567"), "-Rs 1,234,567");
  assert.equal(
    formatMoney("12345678901234567890.123", { symbol: "Rs", locale: "en-US" }),
    "Rs 12,345,678,901,234,567,890.123",
  );
  assert.equal(
    formatMoney("352619.00", parseMoney("€ de-DE")),
    "€ 352.619,00",
  );
  assert.equal(
    formatMoney("352619.00", parseMoney("Rs en-IN")),
    "Rs 3,52,619.00",
  );
  assert.throws(() => parseMoney("rupees"), UsageError);
});

Deno.test("time: in the shop's zone, named", () => {
  assert.equal(
    formatTime("2026-12-05T14:02:27.851Z"),
    "2026-12-05 14:02:27 UTC",
  );
  assert.equal(
    formatTime("2026-12-05T14:02:27.851Z", { timeZone: "Asia/Kathmandu" }),
    "2026-12-05 19:47:27 GMT+5:45",
  );
  assert.equal(formatTime("not a time"), "not a time");
  assert.equal(parseTimeZone("Asia/Kathmandu"), "Asia/Kathmandu");
  assert.throws(() => parseTimeZone("Mars/Olympus"), UsageError);
});
