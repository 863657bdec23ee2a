/**
 * The services on PostgreSQL (DATABASE_URL), each test in a database of its
 * own: the same guarantees as on SQLite, and several instances of every
 * service sharing one database.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Sandbox } from "./support/sandbox.ts";
import { withSandbox } from "./support/sandbox.ts";
import { testDatabaseServer, withDatabase } from "./support/stores.ts";
import {
  drain,
  eventually,
  openClient,
  publishRaw,
  sleep,
} from "./support/amqp.ts";
import { invoices, reconcile, stock } from "./support/ledger.ts";
import { signIn, startOffice } from "./support/office.ts";
import { ownPostgresMissing, withOwnPostgres } from "./support/postgres.ts";
import { processTest } from "./support/options.ts";
import {
  Running,
  runService,
  startConsumers,
  waitForAll,
} from "./support/process.ts";

const skip = testDatabaseServer() === undefined
  ? " (skipped: no PostgreSQL server to test on)"
  : "";

/** The sandbox on the database at `url`, on quorum queues. */
function onDatabase(sandbox: Sandbox, url: string): Sandbox {
  return {
    ...sandbox,
    env: { ...sandbox.env, DATABASE_URL: url, QUEUE_TYPE: "quorum" },
  };
}

Deno.test({
  name: `postgres: N sales make N invoices and exact stock${skip}`,
  ignore: skip !== "",
  ...processTest,
  fn: async () => {
    await withSandbox(async (base) => {
      const ran = await withDatabase(async (url) => {
        const sandbox = onDatabase(base, url);
        const consumers = await startConsumers(sandbox);
        const { office, url: at, password } = await startOffice(sandbox);
        const pos = await runService("pos", sandbox, [
          "--count",
          "300",
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await consumers[0].waitFor(/Generating invoice/, 300);
        await consumers[1].waitFor(/Inventory update/, 300);
        // The back office keeps its read model in the same database.
        const { cookie } = await signIn(at, password);
        await eventually(async () => {
          const summary = await (await fetch(`${at}/api/summary`, {
            headers: { cookie },
          })).json();
          return summary.Sales === 300 && summary.Invoices === 300;
        }, "300 sales and 300 invoices in the back office");
        const printed = await stock(sandbox);
        await eventually(async () => {
          const shown = await (await fetch(`${at}/api/stock`, {
            headers: { cookie },
          })).json();
          return JSON.stringify(
            shown.map((
              s: { Sku: string; Quantity: number },
            ) => [s.Sku, s.Quantity]),
          ) === JSON.stringify(printed.map((s) => [s.Sku, s.Quantity]));
        }, "the back office's stock as Inventory prints it");
        assert.equal(await office.stop(), 0);
        for (const consumer of consumers) {
          assert.equal(await consumer.stop(), 0);
        }
        const figures = await reconcile(sandbox, url, "postgres");
        assert.deepEqual(figures, {
          sales: 300,
          lost: 0,
          duplicated: 0,
          gapless: true,
          mismatches: 0,
        });
        // Nothing was written under DATA_DIR: the state is in PostgreSQL.
        assert.equal(
          await Deno.stat(join(sandbox.dataDir, "billing")).then(
            () => true,
            () => false,
          ),
          false,
        );
      });
      assert.ok(ran, "no database could be made");
    });
  },
});

Deno.test({
  name:
    `postgres: 2 tills, 2 Billing and 2 Inventory on one database, one Billing SIGKILLed${skip}`,
  ignore: skip !== "",
  ...processTest,
  fn: async () => {
    await withSandbox(async (base) => {
      const ran = await withDatabase(async (url) => {
        const sandbox = onDatabase(base, url);
        const consumers = await startConsumers(sandbox, {
          instances: 2,
          args: ["--prefetch", "50"],
        });
        const count = 1000;
        const tills = await Promise.all(
          ["A", "B"].map((till) =>
            runService("pos", sandbox, [
              "--count",
              String(count),
              "--till",
              till,
              "--quiet",
            ])
          ),
        );
        for (const till of tills) assert.equal(till.code, 0, till.stderr);
        // One Billing instance killed while it works: the other goes on.
        await consumers[0].waitFor(/Generating invoice/, 100, 60_000);
        await consumers[0].stop("SIGKILL");
        // Counted in the store, not in lines: a batch the killed one
        // committed but had not yet said is redelivered to the other, whose
        // inbox takes it as done, without a line.
        await eventually(
          async () => (await invoices(sandbox)).length >= 2 * count,
          "every sale invoiced",
          120_000,
        );
        await waitForAll(consumers.slice(2), /Inventory update/, 2 * count);
        for (const consumer of consumers.slice(1)) {
          assert.equal(await consumer.stop(), 0);
        }
        // Both instances of each did a share of the work.
        for (const consumer of consumers) {
          assert.ok(
            consumer.lines.some((line) =>
              /Generating invoice|Inventory update/.test(line)
            ),
          );
        }
        const figures = await reconcile(
          sandbox,
          url,
          "postgres, quorum, 2+2+2, one Billing SIGKILLed",
        );
        assert.deepEqual(figures, {
          sales: 2 * count,
          lost: 0,
          duplicated: 0,
          gapless: true,
          mismatches: 0,
        });
      });
      assert.ok(ran, "no database could be made");
    });
  },
});

const noRestart = skip ||
  (ownPostgresMissing() ? ` (skipped: ${ownPostgresMissing()})` : "");

Deno.test({
  name: `postgres: the database restarted mid-stream${noRestart}`,
  ignore: noRestart !== "",
  ...processTest,
  fn: async () => {
    // A cluster of the test's own: the machine's is never restarted.
    await withOwnPostgres((server) =>
      withSandbox(async (base) => {
        const ran = await withDatabase(async (url) => {
          const sandbox = onDatabase(base, url);
          const consumers = await startConsumers(sandbox, { instances: 2 });
          const count = 2000;
          const pos = new Running("pos", sandbox, [
            "--count",
            String(count),
            "--rate",
            "400",
            "--quiet",
          ]);
          await consumers[0].waitFor(/Generating invoice/, 200, 60_000);
          await server.restart();
          assert.equal(await pos.exited(), 0, pos.lines.slice(-5).join("\n"));
          await waitForAll(consumers.slice(0, 2), /Generating invoice/, count);
          await waitForAll(consumers.slice(2), /Inventory update/, count);
          for (const consumer of consumers) {
            assert.equal(
              await consumer.stop(),
              0,
              consumer.lines.filter((line) =>
                !/^(Generating|Inventory)/.test(line)
              ).join("\n"),
            );
          }
          const figures = await reconcile(
            sandbox,
            url,
            "postgres restarted mid-stream",
          );
          assert.deepEqual(figures, {
            sales: count,
            lost: 0,
            duplicated: 0,
            gapless: true,
            mismatches: 0,
          });
        }, server.url);
        assert.ok(ran, "no database could be made");
      })
    );
  },
});

Deno.test({
  name:
    `postgres: two Inventory instances send one low-stock event per crossing${skip}`,
  ignore: skip !== "",
  ...processTest,
  fn: async () => {
    await withSandbox(async (base) => {
      const ran = await withDatabase(async (url) => {
        const sandbox = onDatabase(base, url);
        const set = await runService("inventory", sandbox, [
          "stock",
          "set",
          "MILK001",
          "300",
          "--threshold",
          "150",
          "--new",
        ]);
        assert.equal(set.code, 0, set.stderr);
        const inventories = [0, 1].map(() =>
          new Running("inventory", sandbox, ["--prefetch", "10"])
        );
        await Promise.all(inventories.map((c) => c.waitFor(/running on/)));
        const client = await openClient(sandbox);
        const channel = await client.createChannel();
        const { queue } = await channel.assertQueue("", { exclusive: true });
        await channel.bindQueue(queue, "sales_exchange", "inventory.stock.low");
        // 200 sales of one each, from a .NET-like till: 300 goes to 100,
        // crossing 150 once, while both instances take sales.
        for (let id = 1; id <= 200; id++) {
          await publishRaw(
            client,
            JSON.stringify({
              SaleId: 60000 + id,
              StoreId: "NEPAL-01",
              Items: [{ Sku: "MILK001", Quantity: 1 }],
              Timestamp: new Date().toISOString(),
              TotalAmount: 1,
            }),
          );
        }
        await waitForAll(inventories, /Inventory update/, 200);
        for (const inventory of inventories) {
          assert.equal(await inventory.stop(), 0);
        }
        assert.ok(
          inventories.every((c) =>
            c.lines.some((line) => /Inventory update/.test(line))
          ),
          "both instances took sales",
        );
        await sleep(500);
        const events = await drain(client, queue);
        await client.close();
        assert.equal(events.length, 1, "one event for one crossing");
        const event = JSON.parse(events[0].content.toString());
        assert.equal(event.Quantity, 149);
        assert.equal(event.Threshold, 150);
        assert.deepEqual(
          (await stock(sandbox)).map((level) => [level.Sku, level.Quantity]),
          [["MILK001", 100]],
        );
      });
      assert.ok(ran, "no database could be made");
    });
  },
});
