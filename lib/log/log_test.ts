import assert from "node:assert/strict";
import { createLog, logFormat, type LogLevel } from "./log.ts";

function captured(format: "text" | "json") {
  const written: [LogLevel, string][] = [];
  const log = createLog("billing", {
    format,
    write: (level, text) => written.push([level, text]),
  });
  return { log, written };
}

Deno.test("log: text lines as the article prints them", () => {
  const { log, written } = captured("text");
  log.info("Generating invoice for Sale #1", { saleId: 1 });
  log.lines("warn", [{ message: "a" }, { message: "b" }]);
  log.lines("info", []);
  assert.deepEqual(written, [
    ["info", "Generating invoice for Sale #1\n"],
    ["warn", "a\nb\n"],
  ]);
});

Deno.test("log: LOG_FORMAT=json writes one object per line", () => {
  const { log, written } = captured("json");
  log.error("Rejected", { saleId: 7, store: "S", traceId: "ab" });
  const entry = JSON.parse(written[0][1]);
  assert.equal(written[0][0], "error");
  assert.ok(!Number.isNaN(Date.parse(entry.time)));
  assert.deepEqual({ ...entry, time: undefined }, {
    time: undefined,
    level: "error",
    service: "billing",
    message: "Rejected",
    saleId: 7,
    store: "S",
    traceId: "ab",
  });
  assert.equal(logFormat(() => undefined), "text");
  assert.throws(
    () => logFormat(() => "xml"),
    /^UsageError: Invalid log format "xml": use text or json$/,
  );
});
