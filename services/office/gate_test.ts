import assert from "node:assert/strict";
import { Gate, GateFull } from "./gate.ts";

Deno.test("gate: runs so many at once, queues so many more, and turns the rest away", async () => {
  const gate = new Gate({ running: 2, waiting: 3 });
  let now = 0;
  let most = 0;
  const order: number[] = [];
  const release = Promise.withResolvers<void>();
  const work = (i: number) =>
    gate.run(async () => {
      now++;
      most = Math.max(most, now);
      await release.promise;
      order.push(i);
      now--;
      return i;
    });
  const taken = [0, 1, 2, 3, 4].map(work);
  await assert.rejects(work(5), GateFull);
  release.resolve();
  assert.deepEqual(await Promise.all(taken), [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
  assert.deepEqual(order.slice(2), [2, 3, 4]);
  // Free again once all is done.
  assert.equal(await gate.run(() => Promise.resolve("again")), "again");
});

Deno.test("gate: a failure passes the turn on", async () => {
  const gate = new Gate({ running: 1, waiting: 1 });
  const failing = gate.run(() => Promise.reject(new Error("no")));
  const next = gate.run(() => Promise.resolve("next"));
  await assert.rejects(failing, /no/);
  assert.equal(await next, "next");
});
