import assert from "node:assert/strict";
import { Monitor } from "../../observability/mod.ts";
import type { BatchHandler } from "../handler.ts";
import { deliveryOf } from "./_batch.ts";
import { measured } from "./metrics.ts";

/** `handler` measured on a fresh monitor; the counts it was told of. */
function measuredOn(handler: BatchHandler<number>) {
  const monitor = new Monitor("unit");
  const counts: number[] = [];
  const wrapped = measured<number>(
    monitor,
    "unit_queue",
    (count) => counts.push(count),
  )(handler);
  return { monitor, counts, wrapped };
}

Deno.test("measured: counts each batch's deliveries and times it, per queue", async () => {
  const { monitor, counts, wrapped } = measuredOn(() => Promise.resolve());
  await wrapped({ deliveries: [1, 2, 3].map((n) => deliveryOf(n)) });
  await wrapped({ deliveries: [deliveryOf(4)] });
  assert.deepEqual(counts, [3, 1]);
  const text = await monitor.registry.expose();
  assert.match(text, /handled_total\{[^}]*queue="unit_queue"[^}]*\} 4/);
});

Deno.test("measured: a failed batch is not counted as handled", async () => {
  const { counts, wrapped } = measuredOn(() =>
    Promise.reject(new Error("failed"))
  );
  await assert.rejects(wrapped({ deliveries: [deliveryOf(1)] }), /failed/);
  assert.deepEqual(counts, []);
});
