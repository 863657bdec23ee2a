import assert from "node:assert/strict";
import { TRACING } from "../../observability/mod.ts";
import { deliveryOf } from "./_batch.ts";
import { traced } from "./tracing.ts";

Deno.test("traced: the handler runs with the batch's spans (none when tracing is off)", async () => {
  const seen: unknown[] = [];
  const handler = traced<number>("unit")((batch) => {
    seen.push(batch.trace);
    return Promise.resolve();
  });
  await handler({ deliveries: [deliveryOf(1)] });
  assert.equal(seen.length, 1);
  if (!TRACING) assert.equal(seen[0], undefined);
});

Deno.test("traced: a failure of the handler is the batch's", async () => {
  const handler = traced<number>("unit")(() =>
    Promise.reject(new Error("failed"))
  );
  await assert.rejects(handler({ deliveries: [deliveryOf(1)] }), /failed/);
});
