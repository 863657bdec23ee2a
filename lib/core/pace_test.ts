import assert from "node:assert/strict";
import { paced } from "./pace.ts";

Deno.test("paced: without a rate, runs of the chunk's size with a pause between", async () => {
  const runs: [number, number][] = [];
  let pauses = 0;
  await paced({
    count: 7,
    chunk: 3,
    between: () => {
      pauses++;
      return Promise.resolve();
    },
  }, (from, to) => {
    runs.push([from, to]);
    return Promise.resolve();
  });
  assert.deepEqual(runs, [[0, 3], [3, 6], [6, 7]]);
  assert.equal(pauses, 3);
});

Deno.test("paced: at a rate, every item once, in order, no sooner than due", async () => {
  const done: number[] = [];
  const started = performance.now();
  await paced({ count: 20, rate: 400, chunk: 5 }, async (from, to) => {
    for (let i = from; i < to; i++) done.push(i);
    await Promise.resolve();
  });
  assert.deepEqual(done, Array.from({ length: 20 }, (_, i) => i));
  // The last item falls due at 19 / 400 s.
  assert.ok(performance.now() - started >= 19 * 1000 / 400 - 1);
});
