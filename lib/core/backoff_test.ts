import assert from "node:assert/strict";
import { backoff } from "./backoff.ts";
import { delay } from "./delay.ts";

Deno.test("backoff: doubles from initial up to max, with jitter in the upper half", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = Math.min(10_000, 200 * 2 ** attempt);
    for (let i = 0; i < 50; i++) {
      const wait = backoff(attempt);
      assert.ok(wait >= ceiling / 2 && wait <= ceiling, `${attempt}: ${wait}`);
    }
  }
  assert.ok(backoff(3, { initial: 10, max: 50 }) <= 50);
  assert.ok(backoff(1000) <= 10_000, "no overflow on a long outage");
});

Deno.test("delay: waits, or ends early when its signal aborts", async () => {
  const started = performance.now();
  await delay(20);
  assert.ok(performance.now() - started >= 19);
  const controller = new AbortController();
  const waiting = delay(10_000, { signal: controller.signal });
  controller.abort();
  await waiting;
  await delay(10_000, { signal: AbortSignal.abort() });
});
