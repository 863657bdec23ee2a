import assert from "node:assert/strict";
import { exactly, grantsOf } from "./grants.ts";

Deno.test("grants: a producer writes its exchange and its keys, reads and configures nothing", () => {
  const grants = grantsOf({
    exchange: "sales_exchange",
    publishes: ["sale.created"],
  });
  assert.deepEqual(grants, {
    configure: "^$",
    write: "^sales_exchange$",
    read: "^$",
    topics: [{
      exchange: "sales_exchange",
      write: "^sale\\.created$",
      read: "^$",
    }],
  });
});

Deno.test("grants: a consumer reads its queue, binds its keys, sets aside in its own error queue only", () => {
  const grants = grantsOf({
    exchange: "sales_exchange",
    publishes: ["invoice.created"],
    consumes: [{
      exchange: "sales_exchange",
      queue: "billing_queue",
      routingKey: "sale.created",
    }],
  });
  assert.equal(grants.configure, "^$");
  assert.match("billing_queue", new RegExp(grants.read));
  assert.doesNotMatch("billing_queue_error", new RegExp(grants.read));
  assert.doesNotMatch("inventory_queue", new RegExp(grants.read));
  assert.doesNotMatch("amq.default", new RegExp(grants.write));
  assert.deepEqual(grants.topics[1], {
    exchange: "errors_exchange",
    write: "^billing_queue_error$",
    read: "^billing_queue_error$",
  });
});

Deno.test("grants: tending error queues reads them and writes the default exchange", () => {
  const grants = grantsOf({
    exchange: "sales_exchange",
    tendsErrorsOf: ["billing_queue"],
  });
  assert.match("billing_queue_error", new RegExp(grants.read));
  assert.match("amq.default", new RegExp(grants.write));
  assert.doesNotMatch("amqXdefault", new RegExp(grants.write));
});

Deno.test("grants: patterns match the names exactly, dots included", () => {
  const pattern = new RegExp(exactly(["a.b", "c"]));
  assert.ok(pattern.test("a.b") && pattern.test("c"));
  assert.ok(
    !pattern.test("aXb") && !pattern.test("a.bc") && !pattern.test("xc"),
  );
  assert.equal(exactly([]), "^$");
});
