/**
 * The till's day close, end to end against the real broker, on SQLite and on
 * PostgreSQL: every service reconciles every till; sales taken off Billing's
 * queue are named by Billing alone, and `pos -- resend --missing` mends it
 * with no invoice doubled; a close sent twice, and a close that comes before
 * its last sales, both end right.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { eventually, openClient } from "./support/amqp.ts";
import { invoices } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import { Running, runService, waitForAll } from "./support/process.ts";
import { type Sandbox, withDatabase, withSandbox } from "./support/sandbox.ts";
import { startOffice } from "./support/office.ts";
import { toRanges } from "../contracts/till.ts";

/** The sandbox's settings, on PostgreSQL when `database` names one. */
function on(sandbox: Sandbox, database?: string): Sandbox {
  return {
    ...sandbox,
    env: {
      ...sandbox.env,
      CLOSE_GRACE: "2s",
      GAP_AGE: "1s",
      ...database ? { DATABASE_URL: database } : {},
    },
  };
}

/** A till of its own: its own data folder on SQLite (the database on PostgreSQL). */
function till(sandbox: Sandbox, id: string): Sandbox {
  const dataDir = join(sandbox.dataDir, id);
  return {
    ...sandbox,
    dataDir,
    env: { ...sandbox.env, DATA_DIR: dataDir, TILL_ID: id },
  };
}

const reconciled = (tillId: string) =>
  new RegExp(`till ${tillId} of NEPAL-01, day [0-9-]+: reconciled`);

async function everyTillReconciles(database?: string): Promise<void> {
  await withSandbox(async (base) => {
    const sandbox = on(base, database);
    const billing = new Running("billing", sandbox);
    const inventory = new Running("inventory", sandbox);
    const { office } = await startOffice(sandbox);
    const services = [billing, inventory, office];
    try {
      await waitForAll([billing, inventory], /running on/, 2);
      const tills = ["t1", "t2", "t3"];
      const counts = [334, 333, 333];
      const sold = await Promise.all(
        tills.map((id, i) =>
          runService("pos", till(sandbox, id), [
            "--count",
            String(counts[i]),
            "--quiet",
          ])
        ),
      );
      for (const run of sold) assert.equal(run.code, 0, run.stderr);
      await waitForAll([billing], /Generating invoice/, 1000);
      await waitForAll([inventory], /Inventory update for Sale/, 1000);
      // Every service has taken the day's sales (the office too): the close
      // is what is measured, not a backlog.
      const client = await openClient(sandbox);
      const channel = await client.createChannel();
      await eventually(async () => {
        for (
          const queue of ["billing_queue", "inventory_queue", "office_queue"]
        ) {
          if ((await channel.checkQueue(queue)).messageCount > 0) return false;
        }
        return true;
      }, "every queue drained");
      await client.close();
      for (const id of tills) {
        const closed = await runService("pos", till(sandbox, id), ["close"]);
        assert.equal(closed.code, 0, closed.stderr);
        const at = new RegExp(
          `Closed day \\S+ of till ${id} \\(NEPAL-01\\) at (\\S+): \\d+ sale\\(s\\)`,
        ).exec(closed.stdout);
        assert.ok(at, closed.stdout);
        for (const service of services) {
          await service.waitFor(reconciled(id), 1, 5000);
        }
        const seconds = Math.max(
          ...services.map((service) =>
            service.timeOf(reconciled(id))! - Date.parse(at[1])
          ),
        ) / 1000;
        console.log(
          `till ${id}: every service reconciled within ${
            seconds.toFixed(2)
          } s of the close`,
        );
        assert.ok(seconds < 1, `within a second (${seconds.toFixed(2)} s)`);
      }
      for (const service of services) {
        assert.ok(
          !service.lines.some((line) => /missing|lacks/.test(line)),
          service.lines.join("\n"),
        );
      }
    } finally {
      await Promise.all(services.map((service) => service.stop()));
    }
  });
}

async function missingSalesAreResent(database?: string): Promise<void> {
  await withSandbox(async (base) => {
    const sandbox = on(base, database);
    // One till, in the shop's data folder: resend reads the services' stores there.
    const pos = { ...sandbox, env: { ...sandbox.env, TILL_ID: "t1" } };
    const inventory = new Running("inventory", sandbox);
    const { office } = await startOffice(sandbox);
    let billing: Running | undefined;
    const client = await openClient(sandbox);
    try {
      await inventory.waitFor(/running on/);
      // Billing declares its queues once: its queue fills while it is away.
      const declared = new Running("billing", sandbox);
      await declared.waitFor(/running on/);
      await declared.stop();
      const sold = await runService("pos", pos, ["--count", "30", "--quiet"]);
      assert.equal(sold.code, 0, sold.stderr);
      // Three sales taken off billing_queue before Billing sees them.
      const channel = await client.createChannel();
      const dropped: number[] = [];
      for (let i = 0; i < 3; i++) {
        const message = await channel.get("billing_queue", { noAck: true });
        assert.ok(message, "a sale in billing_queue");
        dropped.push(JSON.parse(message.content.toString()).SaleId);
      }
      billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      await billing.waitFor(/Generating invoice/, 27);
      // Before any close, the sale after them names the last one: a gap.
      await eventually(async () => {
        const status = await runService("status", sandbox, ["--json"]);
        return JSON.parse(status.stdout).Services.find((
          service: { Service: string },
        ) => service.Service === "billing")?.Gaps?.some((
          gap: { saleId: number },
        ) => gap.saleId === Math.max(...dropped));
      }, "the gap in deno task status");
      const closed = await runService("pos", pos, ["close"]);
      assert.equal(closed.code, 0, closed.stderr);
      await inventory.waitFor(reconciled("t1"));
      await office.waitFor(reconciled("t1"));
      await billing.waitFor(/3 sale\(s\) missing/, 1, 10_000);
      // deno task status lists exactly those.
      const status = await runService("status", sandbox, ["--json"]);
      const found = JSON.parse(status.stdout).Services.find((
        service: { Service: string },
      ) => service.Service === "billing");
      assert.equal(found.Discrepancies.length, 1);
      assert.deepEqual(found.Discrepancies[0].Missing, toRanges(dropped));

      const resent = await runService("pos", pos, ["resend", "--missing"]);
      assert.equal(resent.code, 0, resent.stderr);
      assert.match(resent.stdout, /Sent 3 sale\(s\) again/);
      await billing.waitFor(reconciled("t1"), 1, 10_000);
      const stored = await invoices(sandbox);
      assert.equal(stored.length, 30, "every sale invoiced once");
      assert.equal(new Set(stored.map((invoice) => invoice.SaleId)).size, 30);
      assert.deepEqual(
        stored.map((invoice) => invoice.InvoiceNumber).sort(),
        Array.from(
          { length: 30 },
          (_, i) => `NEPAL-01-${String(i + 1).padStart(6, "0")}`,
        ),
        "invoice numbers without a gap",
      );

      // The close sent again: taken once, answered once.
      const again = await runService("pos", pos, ["close"]);
      assert.match(again.stdout, /nothing sold since: its close is sent again/);
      // A close before its last sales: held back from Billing, they come
      // after its close, within the grace.
      await billing.stop();
      const more = await runService("pos", pos, ["--count", "5", "--quiet"]);
      assert.equal(more.code, 0, more.stderr);
      const held = [];
      for (
        let message;
        (message = await channel.get("billing_queue", { noAck: true }));
      ) {
        held.push(message);
      }
      assert.equal(held.length, 5);
      const second = await runService("pos", pos, ["close"]);
      assert.equal(second.code, 0, second.stderr);
      billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const confirm = await client.createConfirmChannel();
      for (const message of held) {
        confirm.sendToQueue(
          "billing_queue",
          Buffer.from(message.content),
          message.properties,
        );
      }
      await confirm.waitForConfirms();
      await billing.waitFor(/day \S+-2: reconciled, 5 sale\(s\)/, 1, 10_000);
      assert.ok(
        !billing.lines.some((line) => /missing/.test(line)),
        billing.lines.join("\n"),
      );
      await eventually(
        () =>
          Promise.resolve(
            office.lines.filter((line) => reconciled("t1").test(line))
              .length === 2,
          ),
        "the office reconciles both days, once each",
      );
      assert.equal((await invoices(sandbox)).length, 35);
    } finally {
      await client.close();
      await Promise.all(
        [billing, inventory, office].map((service) => service?.stop()),
      );
    }
  });
}

Deno.test(
  "day close: three tills, 1,000 sales, a close on each: every service reconciles every till (SQLite)",
  processTest,
  () => everyTillReconciles(),
);

Deno.test(
  "day close: sales taken off billing_queue are Billing's discrepancy alone; resend mends it, no invoice doubled; a close sent twice and a close before its sales end right (SQLite)",
  processTest,
  () => missingSalesAreResent(),
);

Deno.test(
  "day close: the same on PostgreSQL, the tills sharing its sale ids",
  processTest,
  async () => {
    const ran = await withDatabase(async (url) => {
      await everyTillReconciles(url);
    });
    const ranToo = await withDatabase(async (url) => {
      await missingSalesAreResent(url);
    });
    assert.ok(ran && ranToo, "PostgreSQL at 127.0.0.1:5432 answers");
  },
);
