import assert from "node:assert/strict";
import type { ConsumeMessage } from "amqplib";
import { Buffer } from "node:buffer";
import { ContractError } from "../../contracts/codec.ts";
import { DOTNET_MESSAGE } from "../../contracts/_fixtures.ts";
import { withStores } from "../../tests/support/stores.ts";
import { decodeOfficeEvent } from "./events.ts";
import { OfficeModel } from "./model.ts";

/** A delivery of `body` with `routingKey`, as amqplib gives it. */
function message(
  routingKey: string,
  body: string,
  messageId?: string,
): { body: Uint8Array; message: ConsumeMessage } {
  const content = Buffer.from(body);
  return {
    body: content,
    message: {
      content,
      fields: { routingKey, exchange: "sales_exchange" },
      properties: { messageId, headers: {} },
    } as unknown as ConsumeMessage,
  };
}

function read(routingKey: string, body: string, messageId?: string) {
  const delivery = message(routingKey, body, messageId);
  return decodeOfficeEvent(delivery.body, delivery.message);
}

const INVOICE = JSON.stringify({
  InvoiceNumber: "NEPAL-01-000001",
  StoreId: "NEPAL-01",
  SaleId: 10001,
  Lines: [{ Sku: "MILK001", Quantity: 5 }],
  Total: 10.0,
  TotalAmount: 10.0,
  Mismatch: false,
  CreatedAt: "2026-11-27T10:46:13.000Z",
});

function changed(quantity: number, at: string): string {
  return JSON.stringify({
    StoreId: "NEPAL-01",
    Levels: [{
      Sku: "MILK-1L",
      Quantity: quantity,
      Threshold: 5,
      Low: quantity < 5,
    }],
    Cause: "sale",
    At: at,
  });
}

Deno.test("office model: events make the day's totals, the stock and the feed", async (t) => {
  await withStores(t, async (store) => {
    const model = await OfficeModel.open(store);
    const events = [
      read("sale.created", DOTNET_MESSAGE),
      read(
        "sale.created",
        DOTNET_MESSAGE.replace("10001", "10002").replace("10.0}", "0.55}"),
      ),
      read("invoice.created", INVOICE),
      read("inventory.stock.changed", changed(3, "2026-11-27T10:46:14Z"), "c2"),
      // Older than what is shown: two Inventories may announce out of order.
      read("inventory.stock.changed", changed(7, "2026-11-27T10:46:13Z"), "c1"),
    ];
    assert.deepEqual(events.map((event) => event.key), [
      "sale:NEPAL-01:10001",
      "sale:NEPAL-01:10002",
      "invoice:NEPAL-01-000001",
      "inventory.stock.changed:c2",
      "inventory.stock.changed:c1",
    ]);
    await store.transaction(async (tx) => {
      for (const event of events) await model.apply(tx, event);
    });
    const summary = await model.summary(
      "2026-11-27",
      new Date("2026-11-27T10:47:30Z"),
    );
    assert.equal(summary.Sales, 2);
    assert.equal(summary.Invoices, 1);
    // Exact: 10.0 + 0.55, not 10.55000000000000071.
    assert.equal(summary.Revenue, "10.55");
    assert.deepEqual(summary.Stores, [
      { StoreId: "NEPAL-01", Sales: 2, Invoices: 1, Revenue: "10.55" },
    ]);
    assert.equal(summary.LowStock, 1);
    assert.equal(summary.NegativeStock, 0);
    assert.equal(summary.PerMinute.length, 60);
    assert.deepEqual(summary.PerMinute.at(-2), {
      Minute: "2026-11-27T10:46",
      Sales: 2,
    });
    assert.deepEqual(
      (await model.stock()).map((row) => [row.Sku, row.Quantity, row.Low]),
      [["MILK-1L", 3, true]],
    );
    const feed = await model.feed(10);
    assert.deepEqual(feed.map((entry) => entry.RoutingKey), [
      "inventory.stock.changed",
      "inventory.stock.changed",
      "invoice.created",
      "sale.created",
      "sale.created",
    ]);
    assert.deepEqual(
      (await model.feed(10, feed[1].Id)).map((entry) => entry.Id),
      [feed[0].Id],
    );
    assert.equal(
      (await model.invoice("NEPAL-01-000001"))?.InvoiceNumber,
      "NEPAL-01-000001",
    );
    const page = await model.invoices({
      store: "NEPAL-01",
      from: "2026-11-27",
      to: "2026-11-27",
    });
    assert.deepEqual(page.rows.map((row) => row.Number), ["NEPAL-01-000001"]);
    assert.equal(page.more, false);
    assert.deepEqual(
      (await model.invoices({ to: "2026-11-26" })).rows,
      [],
    );
  });
});

Deno.test("office model: an event it does not take, or not of its contract, is refused", () => {
  assert.throws(
    () => read("sale.deleted", DOTNET_MESSAGE),
    (error) =>
      error instanceof ContractError &&
      /^Unknown event "sale\.deleted": the office takes sale\.created, /
        .test(error.message),
  );
  assert.throws(
    () => read("invoice.created", DOTNET_MESSAGE),
    (error) =>
      error instanceof ContractError &&
      /^Message is invalid: InvoiceNumber/.test(error.message),
  );
});
