/**
 * Recovery from what the broker or the data does to a running service:
 * a deleted queue, a dead broker in the list, a handler that keeps failing,
 * a busy database, a POS with no broker.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { atUrl, withSandbox } from "./support/sandbox.ts";
import { BrokerProxy } from "./support/faults.ts";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { drain, openClient, publishRaw, sleep } from "./support/amqp.ts";
import { invoices } from "./support/ledger.ts";
import { Running, runService, startConsumers } from "./support/process.ts";
import { processTest } from "./support/options.ts";

function sale(id: number): string {
  return DOTNET_MESSAGE.replace('"SaleId":10001', `"SaleId":${id}`);
}

Deno.test(
  "recovery: a consumer cancelled by the broker declares again and goes on",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      try {
        const channel = await client.createChannel();
        await channel.deleteQueue("billing_queue");
        await channel.close();
        await billing.waitFor(/was cancelled by the broker; trying again/);
        await billing.waitFor(/running on "billing_queue"/, 2);
        await publishRaw(client, sale(30001));
        await billing.waitFor(/Generating invoice for Sale #30001/);
      } finally {
        await client.close();
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
    });
  },
);

Deno.test(
  "recovery: a broker list skips the dead node",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const dead = BrokerProxy.reserve();
      const url = `${dead.urlFor(sandbox)},${sandbox.url}`;
      const listed = atUrl(sandbox, url);
      const [billing, inventory] = await startConsumers(listed);
      const pos = await runService("pos", listed, ["--count", "20", "--quiet"]);
      assert.equal(pos.code, 0, pos.stderr);
      await billing.waitFor(/Generating invoice/, 20);
      await inventory.waitFor(/Inventory update/, 20);
      await billing.stop();
      await inventory.stop();
    });
  },
);

Deno.test(
  "recovery: a handler that keeps failing ends in the error queue after 5 tries",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      let [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      try {
        await publishRaw(client, sale(40001));
        await billing.waitFor(/Generating invoice for Sale #40001/);
        await billing.stop();
        // The inbox forgets the sale while its invoice stays: handling it again
        // breaks the invoice's unique key every time.
        const db = new DatabaseSync(`${sandbox.dataDir}/billing/billing.db`);
        db.exec("DELETE FROM inbox");
        db.close();
        billing = new Running("billing", sandbox);
        await billing.waitFor(/running on/);
        await publishRaw(client, sale(40001));
        await publishRaw(client, sale(40002));
        await billing.waitFor(
          /Rejected a message: Handling failed 5 times: .*UNIQUE constraint failed/,
        );
        await billing.waitFor(/Generating invoice for Sale #40002/);
        const [failed] = await drain(client, "billing_queue_error");
        const headers = failed.properties.headers ?? {};
        assert.equal(headers["x-attempts"], 5);
        assert.equal(headers["x-original-exchange"], "sales_exchange");
        assert.equal(headers["x-original-routing-key"], "sale.created");
        assert.equal(headers["x-original-queue"], "billing_queue");
        assert.equal(failed.content.toString(), sale(40001));
        assert.equal((await drain(client, "inventory_queue_error")).length, 0);
      } finally {
        await client.close();
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
    });
  },
);

Deno.test(
  "recovery: a busy database is waited out and retried, not set aside",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      const db = new DatabaseSync(`${sandbox.dataDir}/billing/billing.db`);
      try {
        db.exec("PRAGMA busy_timeout = 100; BEGIN IMMEDIATE");
        await publishRaw(client, sale(50001));
        // Longer than Billing's own busy timeout: its first try fails.
        await sleep(6500);
        db.exec("ROLLBACK");
        await billing.waitFor(/Generating invoice for Sale #50001/);
        assert.equal((await drain(client, "billing_queue_error")).length, 0);
        assert.equal(
          billing.lines.filter((line) => /Rejected/.test(line)).length,
          0,
        );
      } finally {
        db.close();
        await client.close();
      }
      await billing.stop();
      await inventory.stop();
      assert.deepEqual(
        (await invoices(sandbox)).map((invoice) => invoice.SaleId),
        [50001],
      );
    });
  },
);

Deno.test(
  "recovery: the POS prompt says how many sales wait while the broker is away",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const proxy = BrokerProxy.reserve();
      const url = proxy.urlFor(sandbox);
      const away = atUrl(sandbox, url);
      const pos = await runService("pos", away, [], "a\na\nq\n");
      assert.equal(pos.code, 0, pos.stderr);
      assert.match(pos.stdout, /\(1 waiting\) Press a to add new item/);
      assert.match(pos.stdout, /\(2 waiting\) Press a to add new item/);
      assert.match(
        pos.stderr,
        /2 sale\(s\) are waiting in the outbox; they are sent on the next start\./,
      );
      // With the broker back, the next start sends them first.
      const [billing, inventory] = await startConsumers(sandbox);
      const next = await runService("pos", sandbox, ["--count", "0"]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(
        next.stdout,
        /Sent SaleEvent #10000\.\nSent SaleEvent #10001\./,
      );
      await billing.waitFor(/Generating invoice/, 2);
      await billing.stop();
      await inventory.stop();
    });
  },
);
