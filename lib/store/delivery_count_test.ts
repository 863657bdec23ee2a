import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { ConsumeMessage } from "amqplib";
import { withStores } from "../../tests/support/stores.ts";
import { DeliveryCount } from "./delivery_count.ts";

function message(
  body: string,
  options: { redelivered?: boolean; deliveryCount?: number } = {},
): ConsumeMessage {
  return {
    content: Buffer.from(body),
    fields: { redelivered: options.redelivered ?? false },
    properties: {
      messageId: "m",
      headers: options.deliveryCount === undefined
        ? {}
        : { "x-delivery-count": options.deliveryCount },
    },
  } as unknown as ConsumeMessage;
}

Deno.test("delivery count: kept across restarts, written only for redeliveries", async (t) => {
  await withStores(t, async (store) => {
    const open = () => DeliveryCount.open(store);
    assert.equal(await (await open()).count(message("a")), 1);
    assert.equal(
      Number((await store.get("SELECT count(*) AS n FROM delivery_count"))?.n),
      0,
      "a first delivery costs no write",
    );
    assert.equal(
      await (await open()).count(message("a", { redelivered: true })),
      2,
    );
    // A new process on the same database goes on counting.
    assert.equal(
      await (await open()).count(message("a", { redelivered: true })),
      3,
    );
    assert.equal(
      await (await open()).count(message("b", { redelivered: true })),
      2,
    );
    // A quorum queue counts for us.
    assert.equal(
      await (await open()).count(message("c", { deliveryCount: 7 })),
      8,
    );
  });
});
