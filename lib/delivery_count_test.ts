import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import type { ConsumeMessage } from "amqplib";
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

Deno.test("delivery count: kept across restarts, written only for redeliveries", () => {
  const db = new DatabaseSync(":memory:");
  assert.equal(new DeliveryCount(db).count(message("a")), 1);
  assert.equal(
    Number(db.prepare("SELECT count(*) AS n FROM delivery_count").get()?.n),
    0,
    "a first delivery costs no write",
  );
  assert.equal(
    new DeliveryCount(db).count(message("a", { redelivered: true })),
    2,
  );
  // A new process on the same database goes on counting.
  assert.equal(
    new DeliveryCount(db).count(message("a", { redelivered: true })),
    3,
  );
  assert.equal(
    new DeliveryCount(db).count(message("b", { redelivered: true })),
    2,
  );
  // A quorum queue counts for us.
  assert.equal(
    new DeliveryCount(db).count(message("c", { deliveryCount: 7 })),
    8,
  );
});
