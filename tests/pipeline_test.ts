/**
 * The three services as processes, against the real broker, each test in its
 * own virtual host and data folder.
 */
import assert from "node:assert/strict";
import {
  command,
  Running,
  runService,
  startConsumers,
} from "./support/process.ts";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { drain, eventually, openClient, publishRaw } from "./support/amqp.ts";
import { expectedStock, invoices, sentSales, stock } from "./support/ledger.ts";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

Deno.test(
  "pipeline: N sales make N invoices and exact stock",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const count = 300;
      const pos = await runService("pos", sandbox, [
        "--count",
        String(count),
        "--quiet",
      ]);
      assert.equal(pos.code, 0, pos.stderr);
      assert.match(
        pos.stdout,
        new RegExp(`Sent ${count} sale\\(s\\), all confirmed`),
      );
      await billing.waitFor(
        /Generating invoice for Sale #\d+ - Total: Rs\.\d+\.\d+$/,
        count,
      );
      await inventory.waitFor(
        /Inventory update for Sale #\d+, Items: \d+$/,
        count,
      );
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);

      const sales = sentSales(sandbox).map((entry) => {
        assert.ok(entry.sent);
        return entry.sale;
      });
      assert.equal(sales.length, count);
      const ids = sales.map((sale) => sale.SaleId);
      assert.equal(new Set(ids).size, count);

      const stored = await invoices(sandbox);
      assert.equal(stored.length, count);
      assert.deepEqual(
        stored.map((invoice) => invoice.SaleId).sort(),
        [...ids].sort(),
      );
      // Each invoice's total is the sale's, to the digit.
      const totals = new Map(
        sales.map((sale) => [sale.SaleId, sale.TotalAmount]),
      );
      assert.ok(
        stored.every((invoice) =>
          invoice.TotalAmount === totals.get(invoice.SaleId)
        ),
      );

      const levels = await stock(sandbox);
      const expected = expectedStock(sales);
      assert.equal(levels.length, expected.size);
      for (const level of levels) {
        assert.equal(
          level.Quantity,
          expected.get(`${level.StoreId}/${level.Sku}`),
        );
      }
    });
  },
);

Deno.test(
  "pipeline: one publish reaches both services; ids never repeat",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const first = await runService("pos", sandbox, ["--count", "1"]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^Sent SaleEvent #10000\.$/m);
      // A restarted POS goes on from the stored counter, unlike the article's.
      const second = await runService("pos", sandbox, [], "a\nq\n");
      assert.equal(second.code, 0, second.stderr);
      assert.match(
        second.stdout,
        /Press a to add new item, c to close the day and q to cancel\/stop: /,
      );
      assert.match(second.stdout, /Sent SaleEvent #10001\./);
      for (const id of [10000, 10001]) {
        await billing.waitFor(
          new RegExp(
            `Generating invoice for Sale #${id} - Total: Rs\\.\\d+\\.\\d+`,
          ),
        );
        await inventory.waitFor(
          new RegExp(`Inventory update for Sale #${id}, Items: \\d+`),
        );
      }
      await billing.stop();
      await inventory.stop();
    });
  },
);

Deno.test(
  "pipeline: sales published while Billing is stopped are all invoiced",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      assert.equal(await billing.stop(), 0);
      const pos = await runService("pos", sandbox, [
        "--count",
        "200",
        "--rate",
        "400",
        "--quiet",
      ]);
      assert.equal(pos.code, 0, pos.stderr);
      await inventory.waitFor(/Inventory update/, 200);
      assert.equal((await invoices(sandbox)).length, 0);
      const restarted = new Running("billing", sandbox);
      await restarted.waitFor(/Generating invoice/, 200);
      await restarted.stop();
      await inventory.stop();
      assert.equal((await invoices(sandbox)).length, 200);
    });
  },
);

Deno.test(
  "pipeline: the .NET POS's message, sent twice, makes one invoice",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      try {
        // As the .NET POS sends it: no content type, not persistent.
        await publishRaw(client, DOTNET_MESSAGE);
        await publishRaw(client, DOTNET_MESSAGE);
        await billing.waitFor(
          /Generating invoice for Sale #10001 - Total: Rs\.10\.0/,
        );
        await inventory.waitFor(/Inventory update for Sale #10001, Items: 2/);
        // The second delivery is acked without effect: the queue empties.
        await eventually(async () => {
          const channel = await client.createChannel();
          const [a, b] = await Promise.all([
            channel.checkQueue("billing_queue"),
            channel.checkQueue("inventory_queue"),
          ]);
          await channel.close();
          return a.messageCount + b.messageCount === 0;
        }, "both queues drained");
      } finally {
        await client.close();
      }
      await billing.stop();
      await inventory.stop();
      const stored = await invoices(sandbox);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].SaleId, 10001);
      assert.deepEqual(
        (await stock(sandbox)).map(({ Sku, Quantity }) => [Sku, Quantity]),
        [["BREAD001", -5], ["MILK001", -5]],
      );
    });
  },
);

Deno.test(
  "pipeline: poison messages go to the error queue, consuming goes on",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const base = JSON.parse(DOTNET_MESSAGE);
      const poison: [string, string][] = [
        ["not JSON", "this is not json"],
        ["wrong types", JSON.stringify({ ...base, SaleId: "10001" })],
        [
          "negative quantity",
          JSON.stringify({
            ...base,
            Items: [{ Sku: "MILK001", Quantity: -5 }],
          }),
        ],
        ["missing fields", JSON.stringify({ SaleId: 1 })],
        [
          "1 MB body",
          JSON.stringify({ ...base, StoreId: "x".repeat(1024 * 1024) }),
        ],
      ];
      const client = await openClient(sandbox);
      try {
        for (const [, body] of poison) await publishRaw(client, body);
        const good = JSON.stringify({ ...base, SaleId: 20001 });
        await publishRaw(client, good);
        await billing.waitFor(/Generating invoice for Sale #20001/);
        await inventory.waitFor(/Inventory update for Sale #20001/);
        await billing.waitFor(/Rejected a message/, poison.length);
        await inventory.waitFor(/Rejected a message/, poison.length);
        for (const queue of ["billing_queue_error", "inventory_queue_error"]) {
          const failed = await drain(client, queue);
          assert.equal(failed.length, poison.length, queue);
          failed.forEach((message, i) => {
            assert.equal(
              message.content.toString(),
              poison[i][1],
              poison[i][0],
            );
            const headers = message.properties.headers ?? {};
            assert.match(
              String(headers["x-error-reason"]),
              /^Message (is|body)/,
            );
            assert.equal(headers["x-original-exchange"], "sales_exchange");
            assert.equal(headers["x-original-routing-key"], "sale.created");
            assert.equal(message.properties.deliveryMode, 2);
          });
        }
      } finally {
        await client.close();
      }
      // Still consuming after all of that.
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      assert.deepEqual(
        (await invoices(sandbox)).map((invoice) => invoice.SaleId),
        [20001],
      );
    });
  },
);

Deno.test(
  "pipeline: an unroutable sale is reported and kept",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      // A fresh virtual host: nothing is bound to sales_exchange yet.
      const pos = await runService("pos", sandbox, ["--count", "1"]);
      assert.equal(pos.code, 1);
      assert.match(
        pos.stderr,
        /not routed to any queue.*"sales_exchange" with "sale\.created"/,
      );
      assert.match(pos.stderr, /1 sale\(s\) are waiting in the outbox/);
      assert.equal(pos.stderr.trim().split("\n").length, 2, pos.stderr);
      // Once Billing has bound its queue, the kept sale goes first.
      const billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      const again = await runService("pos", sandbox, ["--count", "1"]);
      assert.equal(again.code, 0, again.stderr);
      assert.match(
        again.stdout,
        /Sent SaleEvent #10000\.\nSent SaleEvent #10001\./,
      );
      await billing.waitFor(/Generating invoice/, 2);
      await billing.stop();
    });
  },
);

Deno.test(
  "pipeline: third-party AMQP clients interoperate",
  processTest,
  async (t) => {
    const python = "/usr/bin/python3";
    const { code } = await command(python, ["-c", "import pika"]).catch(() => ({
      code: 1,
    }));
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      await t.step({
        name: "amqp-publish sends the .NET message; both services take it",
        ignore: !(await hasCommand("amqp-publish")),
        fn: async () => {
          const result = await command("amqp-publish", [
            "--url",
            sandbox.url,
            "-e",
            "sales_exchange",
            "-r",
            "sale.created",
            "-b",
            DOTNET_MESSAGE,
          ]);
          assert.equal(result.code, 0, result.stderr);
          await billing.waitFor(
            /Generating invoice for Sale #10001 - Total: Rs\.10\.0/,
          );
          await inventory.waitFor(/Inventory update for Sale #10001, Items: 2/);
        },
      });
      await t.step({
        name: "pika reads our POS's sale as .NET would bind it",
        ignore: code !== 0,
        fn: async () => {
          const client = await openClient(sandbox);
          const channel = await client.createChannel();
          await channel.assertQueue("pika_probe", { durable: true });
          await channel.bindQueue(
            "pika_probe",
            "sales_exchange",
            "sale.created",
          );
          await channel.close();
          await client.close();
          const pos = await runService("pos", sandbox, ["--count", "1"]);
          assert.equal(pos.code, 0, pos.stderr);
          const script = `
import json, re, sys, decimal, pika
params = pika.URLParameters(sys.argv[1])
conn = pika.BlockingConnection(params)
ch = conn.channel()
method, props, body = ch.basic_get("pika_probe", auto_ack=True)
sale = json.loads(body, parse_float=decimal.Decimal)
# TillId is ours: System.Text.Json skips a property SaleDetails does not have.
assert set(sale) == {"SaleId", "StoreId", "Items", "Timestamp", "TotalAmount", "TillId"}, sale
assert isinstance(sale["TillId"], str)
assert type(sale["SaleId"]) is int and -2**31 <= sale["SaleId"] < 2**31
# .NET binds Sku and Quantity and ignores UnitPrice; the total adds up exactly.
assert all(set(i) == {"Sku", "Quantity", "UnitPrice"} for i in sale["Items"])
assert all(type(i["Quantity"]) is int and isinstance(i["UnitPrice"], decimal.Decimal) for i in sale["Items"])
total = sum(i["UnitPrice"] * i["Quantity"] for i in sale["Items"])
assert isinstance(sale["TotalAmount"], decimal.Decimal) and sale["TotalAmount"] == total, (total, sale)
assert str(sale["TotalAmount"]) == str(total)
assert re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,7})?Z", sale["Timestamp"])
assert props.delivery_mode == 2 and props.content_type == "application/json"
print("ok", sale["SaleId"])
conn.close()
`;
          const result = await command(python, ["-c", script, sandbox.url]);
          assert.equal(result.code, 0, result.stderr);
          assert.match(result.stdout, /^ok 10000$/m);
        },
      });
      await billing.stop();
      await inventory.stop();
    });
  },
);

async function hasCommand(name: string): Promise<boolean> {
  try {
    await command(name, ["--help"]);
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  "pipeline: SIGTERM mid-stream finishes in-flight work; a restart goes on",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const count = 3000;
      // 2 s of sales: the stop lands mid-stream.
      const pos = new Running("pos", sandbox, [
        "--count",
        String(count),
        "--rate",
        "1500",
        "--quiet",
      ]);
      await billing.waitFor(/Generating invoice/, 200);
      assert.equal(await billing.stop(), 0);
      assert.equal(await pos.exited(), 0, pos.lines.join("\n"));
      // Everything it printed was committed, and nothing else.
      const printed = billing.lines.filter((line) =>
        line.startsWith("Generating")
      ).length;
      assert.ok(printed < count, `stopped mid-stream, after ${printed}`);
      assert.equal((await invoices(sandbox)).length, printed);

      const restarted = new Running("billing", sandbox);
      await restarted.waitFor(/Generating invoice/, count - printed);
      await inventory.waitFor(/Inventory update/, count);
      assert.equal(await restarted.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      const stored = await invoices(sandbox);
      assert.equal(stored.length, count);
      assert.equal(
        new Set(stored.map((invoice) => invoice.SaleId)).size,
        count,
      );
      const client = await openClient(sandbox);
      try {
        for (const queue of ["billing_queue_error", "inventory_queue_error"]) {
          assert.equal((await drain(client, queue)).length, 0, queue);
        }
      } finally {
        await client.close();
      }
    });
  },
);
