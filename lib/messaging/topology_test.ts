import assert from "node:assert/strict";
import { queueArguments } from "./topology.ts";

Deno.test("topology: classic queues take no arguments, as .NET declares them", () => {
  assert.deepEqual(queueArguments("billing_queue"), {
    queue: {},
    errorQueue: {},
  });
});

Deno.test("topology: quorum queues dead-letter past their limit; error queues keep all", () => {
  const on3 = queueArguments("billing_queue", {
    queueType: "quorum",
    brokerVersion: "3.10.8",
  });
  assert.deepEqual(on3.queue, {
    "x-queue-type": "quorum",
    "x-delivery-limit": 20,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": "billing_queue_error",
  });
  // 3.x has no limit unless given one, and would drop at once with -1.
  assert.deepEqual(on3.errorQueue, { "x-queue-type": "quorum" });
  const on4 = queueArguments("billing_queue", {
    queueType: "quorum",
    brokerVersion: "4.1.0",
  });
  // 4.x limits every quorum queue to 20 unless told -1.
  assert.deepEqual(on4.errorQueue, {
    "x-queue-type": "quorum",
    "x-delivery-limit": -1,
  });
});
