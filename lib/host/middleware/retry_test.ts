import assert from "node:assert/strict";
import { RejectedError } from "../../core/mod.ts";
import { BatchFailed } from "../../messaging/mod.ts";
import { StoreSyncError } from "../../store/mod.ts";
import { deliveryOf } from "./_batch.ts";
import { retried } from "./retry.ts";

const policy = { maxAttempts: 3, retryDelay: () => 0 };

Deno.test("retried: one failing delivery is found, tried alone, then named", async () => {
  const committed: number[] = [];
  let tries = 0;
  let retries = 0;
  const handler = retried<number>(policy, { onRetry: () => retries++ })(
    ({ deliveries }) => {
      const values = deliveries.map(({ value }) => value);
      if (values.includes(13)) {
        tries++;
        return Promise.reject(new Error("unlucky"));
      }
      committed.push(...values);
      return Promise.resolve();
    },
  );
  const error = await handler({
    deliveries: [12, 13, 14].map((n) => deliveryOf(n)),
  })
    .then(() => undefined, (error) => error);
  assert.ok(error instanceof BatchFailed);
  assert.deepEqual(committed, [12, 14]);
  assert.equal(tries, 1 + 3, "the batch, then three tries alone");
  assert.equal(retries, 1 + 3 + 1, "each delivery's tries alone");
  assert.deepEqual(
    error.failures.map((failure) => ({
      ...failure,
      value: failure.value.value,
    })),
    [{
      value: 13,
      kind: "failed",
      reason: "Handling failed 3 times: unlucky",
      attempts: 3,
    }],
  );
});

Deno.test("retried: a refusal alone is named at once, without more tries", async () => {
  let tries = 0;
  const handler = retried<number>(policy)(() => {
    tries++;
    return Promise.reject(
      new RejectedError("Conflict: same key, other content"),
    );
  });
  const error = await handler({ deliveries: [deliveryOf(7)] }).then(
    () => undefined,
    (error) => error,
  );
  assert.ok(error instanceof BatchFailed);
  assert.equal(tries, 2, "the batch, then once alone");
  assert.equal(error.failures[0].kind, "rejected");
  assert.equal(error.failures[0].attempts, 1);
});

Deno.test("retried: the store failing is not retried: it goes up as it is", async () => {
  let tries = 0;
  const handler = retried<number>(policy, {
    storeFailing: (error) => error instanceof StoreSyncError,
  })(() => {
    tries++;
    return Promise.reject(new StoreSyncError("the log cannot be synced"));
  });
  await assert.rejects(
    handler({ deliveries: [deliveryOf(1), deliveryOf(2)] }),
    StoreSyncError,
  );
  assert.equal(tries, 1);
});

Deno.test("retried: a batch that works is handled once", async () => {
  let tries = 0;
  await retried<number>(policy)(() => {
    tries++;
    return Promise.resolve();
  })({ deliveries: [deliveryOf(1)] });
  assert.equal(tries, 1);
});
