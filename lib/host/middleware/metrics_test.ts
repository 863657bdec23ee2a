import assert from "node:assert/strict";
import { Monitor } from "../../observability/mod.ts";
import { deliveryOf } from "./_batch.ts";
import { measured } from "./metrics.ts";

Deno.test("measured: counts each batch's deliveries and times it, per queue", async () => {
  const monitor = new Monitor("unit");
  const counts: number[] = [];
  const handler = measured<number>(
    monitor,
    "unit_queue",
    (count) => counts.push(count),
  )(() => Promise.resolve());
  await handler({ deliveries: [1, 2, 3].map((n) => deliveryOf(n)) });
  await handler({ deliveries: [deliveryOf(4)] });
  assert.deepEqual(counts, [3, 1]);
  const text = await monitor.registry.expose();
  assert.match(text, /handled_total\{[^}]*queue="unit_queue"[^}]*\} 4/);
});

Deno.test("measured: a failed batch is not counted as handled", async () => {
  const monitor = new Monitor("unit");
  const counts: number[] = [];
  const handler = measured<number>(
    monitor,
    "unit_queue",
    (count) => counts.push(count),
  )(() => Promise.reject(new Error("failed")));
  await assert.rejects(handler({ deliveries: [deliveryOf(1)] }), /failed/);
  assert.deepEqual(counts, []);
});
