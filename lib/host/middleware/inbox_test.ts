import assert from "node:assert/strict";
import { RejectedError } from "../../core/mod.ts";
import { Inbox } from "../../store/mod.ts";
import { deliveryOf, memoryStore } from "./_batch.ts";
import { inboxed } from "./inbox.ts";

Deno.test("inboxed: the handler gets only what the inbox has not seen, in order", async () => {
  const store = memoryStore();
  const inbox = await Inbox.open(store);
  const seen: number[][] = [];
  const handler = inboxed<number>(inbox, ({ value }) => `n:${value}`)(
    ({ deliveries }) => {
      seen.push(deliveries.map(({ value }) => value));
      return Promise.resolve();
    },
  );
  await store.transaction((tx) =>
    handler({ tx, deliveries: [1, 2].map((n) => deliveryOf(n)) })
  );
  await store.transaction((tx) =>
    handler({ tx, deliveries: [3, 1, 2, 3].map((n) => deliveryOf(n)) })
  );
  assert.deepEqual(seen, [[1, 2], [3]]);
  await store.close();
});

Deno.test("inboxed: a rolled-back effect takes its keys back", async () => {
  const store = memoryStore();
  const inbox = await Inbox.open(store);
  let fail = true;
  const handled: number[] = [];
  const handler = inboxed<number>(inbox, ({ value }) => `n:${value}`)(
    ({ deliveries }) => {
      if (fail) return Promise.reject(new Error("the effect failed"));
      handled.push(...deliveries.map(({ value }) => value));
      return Promise.resolve();
    },
  );
  const run = () =>
    store.transaction((tx) => handler({ tx, deliveries: [deliveryOf(7)] }));
  await assert.rejects(run, /the effect failed/);
  fail = false;
  await run();
  assert.deepEqual(handled, [7]);
  await store.close();
});

Deno.test("inboxed: other content under a key handled before is refused", async () => {
  const store = memoryStore();
  const inbox = await Inbox.open(store);
  const handler = inboxed<number>(inbox, () => "same")(() => Promise.resolve());
  await store.transaction((tx) =>
    handler({ tx, deliveries: [deliveryOf(1, "one")] })
  );
  await assert.rejects(
    store.transaction((tx) =>
      handler({ tx, deliveries: [deliveryOf(2, "two")] })
    ),
    RejectedError,
  );
  await store.close();
});
