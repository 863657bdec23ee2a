import assert from "node:assert/strict";
import { delay } from "./delay.ts";

Deno.test("delay", async (t) => {
  await t.step("resolves after the time given", async () => {
    const started = performance.now();
    await delay(20);
    assert.ok(performance.now() - started >= 19);
  });

  await t.step("ends at once when the signal aborts", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const waiting = delay(10_000, { signal: controller.signal });
    controller.abort();
    await waiting;
    assert.ok(performance.now() - started < 1000);
  });

  await t.step("ends when `until` settles, its timer cleared", async () => {
    // The test's sanitizer fails it if a timer is left behind.
    const { promise, resolve } = Promise.withResolvers<void>();
    const waiting = delay(10_000, { until: promise });
    resolve();
    await waiting;
    const failed = Promise.reject(new Error("Gone"));
    await delay(10_000, { until: failed });
  });

  await t.step("an aborted signal ends it before it starts", async () => {
    await delay(10_000, { signal: AbortSignal.abort() });
  });
});
