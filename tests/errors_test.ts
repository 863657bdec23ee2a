import assert from "node:assert/strict";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import {
  drain,
  eventually,
  openClient,
  publishRaw,
  setAsideInBilling,
} from "./support/amqp.ts";
import { invoices } from "./support/ledger.ts";
import { runService, startConsumers } from "./support/process.ts";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

Deno.test(
  "errors: list, show, replay and purge an error queue",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      const errors = (...args: string[]) =>
        runService("errors", sandbox, [
          ...args,
          "--queue",
          "billing_queue_error",
        ]);
      try {
        await publishRaw(client, "not json");
        await publishRaw(client, '{"SaleId":"x"}');
        await billing.waitFor(/Rejected a message/, 2);
        // A sale that failed earlier, set aside as the consumer does it.
        await setAsideInBilling(client);

        await t.step("list: one line each, with the reason", async () => {
          const { code, stdout, stderr } = await errors("list");
          assert.equal(code, 0, stderr);
          assert.match(stdout, /Message is not UTF-8 JSON/);
          assert.match(stdout, /Message is invalid: SaleId/);
          assert.match(
            stdout,
            /replay-me .*sales_exchange\/sale\.created {2}attempts 5 {2}Handling failed 5 times/,
          );
          assert.match(stdout, /3 message\(s\) in "billing_queue_error"\./);
        });
        await t.step("show: headers and body", async () => {
          const { code, stdout } = await errors("show", "--id", "replay-me");
          assert.equal(code, 0);
          assert.match(stdout, /x-original-queue: billing_queue/);
          assert.ok(stdout.includes(DOTNET_MESSAGE));
        });
        await t.step("replay: back to its queue, then handled", async () => {
          const { code, stdout } = await errors("replay", "--id", "replay-me");
          assert.equal(code, 0);
          assert.match(stdout, /Replayed 1 message\(s\)/);
          await billing.waitFor(/Generating invoice for Sale #10001/);
          assert.deepEqual(
            (await invoices(sandbox)).map((invoice) => invoice.SaleId),
            [10001],
          );
          // Inventory was not sent it again.
          assert.equal(
            inventory.lines.filter((line) => /Sale #10001/.test(line)).length,
            0,
          );
        });
        await t.step("purge: the rest is dropped, nothing else", async () => {
          const listed = await errors("list");
          assert.match(listed.stdout, /2 message\(s\)/);
          const { code, stdout } = await errors("purge");
          assert.equal(code, 0);
          assert.match(stdout, /Dropped 2 message\(s\)/);
          await eventually(
            async () =>
              (await drain(client, "billing_queue_error")).length === 0,
            "an empty error queue",
          );
          assert.equal(
            (await drain(client, "inventory_queue_error")).length,
            2,
          );
        });
        await t.step("show of an unknown id says so and exits 1", async () => {
          const { code, stderr } = await errors("show", "--id", "no-such-id");
          assert.equal(code, 1);
          assert.match(
            stderr,
            /^errors: No message "no-such-id" in "billing_queue_error"/,
          );
        });
        await t.step("only error queues", async () => {
          const { code, stderr } = await runService("errors", sandbox, [
            "purge",
            "--queue",
            "billing_queue",
          ]);
          assert.equal(code, 2);
          assert.match(stderr, /^errors: Invalid queue "billing_queue"/);
        });
      } finally {
        await client.close();
      }
      await billing.stop();
      await inventory.stop();
    });
  },
);

Deno.test(
  "errors: replay all takes each message once, though each fails again",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      const count = 200;
      try {
        for (let i = 0; i < count; i++) {
          await publishRaw(client, `not json ${i}`);
        }
        await inventory.waitFor(/Rejected a message/, count);
        const replay = await runService("errors", sandbox, [
          "replay",
          "--queue",
          "inventory_queue_error",
        ]);
        assert.equal(replay.code, 0, replay.stderr);
        assert.match(
          replay.stdout,
          new RegExp(`Replayed ${count} message\\(s\\)`),
        );
        // Each failed again once, and is back in the error queue once.
        await inventory.waitFor(/Rejected a message/, 2 * count);
        const listed = await runService("errors", sandbox, [
          "list",
          "--queue",
          "inventory_queue_error",
        ]);
        assert.match(listed.stdout, new RegExp(`${count} message\\(s\\)`));
      } finally {
        await client.close();
      }
      await billing.stop();
      await inventory.stop();
    });
  },
);
