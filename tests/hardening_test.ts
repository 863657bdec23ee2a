/**
 * What an attacker or a careless operator tried, each against the real
 * broker: no message stops a service, and no sale vanishes without a line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { withSandbox } from "./support/sandbox.ts";
import { drain, eventually, openClient, publishRaw } from "./support/amqp.ts";
import { invoices, sentSales, stock } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import { Running, runService, startConsumers } from "./support/process.ts";

const base = JSON.parse(DOTNET_MESSAGE);

/** Whether a printed line holds a raw control character (tab aside). */
function hasControl(line: string): boolean {
  return [...line].some((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code < 0xa0);
  });
}

Deno.test(
  "hardening: codes are bounded in bytes and must be well-formed, printable text",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      // 61 four-byte characters: 64 characters, 244 bytes. It once made a
      // message id longer than AMQP allows and stopped Billing for good.
      const wide = "\u{1F600}".repeat(61) + "abc";
      const bad: [string, string][] = [
        ["244-byte store", JSON.stringify({ ...base, StoreId: wide })],
        // Raw JSON escapes: lone surrogates are valid JSON, ill-formed text.
        [
          "lone high surrogate",
          DOTNET_MESSAGE.replace('"NEPAL-01"', '"\\ud800"'),
        ],
        [
          "lone low surrogate",
          DOTNET_MESSAGE.replace('"NEPAL-01"', '"\\udbff"'),
        ],
        ["NUL", JSON.stringify({ ...base, StoreId: "A\u0000B" })],
        ["ESC", JSON.stringify({ ...base, StoreId: "\u001b]0;owned\u0007" })],
        ["newline", JSON.stringify({ ...base, StoreId: "A\nFAKE LINE" })],
        [
          "control in a SKU",
          JSON.stringify({
            ...base,
            Items: [{ Sku: "MILK\u001b[2J", Quantity: 1 }],
          }),
        ],
      ];
      const client = await openClient(sandbox);
      try {
        for (const [, body] of bad) await publishRaw(client, body);
        await publishRaw(client, JSON.stringify({ ...base, SaleId: 30001 }));
        await billing.waitFor(/Generating invoice for Sale #30001/);
        await inventory.waitFor(/Inventory update for Sale #30001/);
        for (const queue of ["billing_queue_error", "inventory_queue_error"]) {
          await eventually(async () => {
            const channel = await client.createChannel();
            const { messageCount } = await channel.checkQueue(queue);
            await channel.close();
            return messageCount === bad.length;
          }, `${bad.length} messages in ${queue}`);
          const reasons = (await drain(client, queue)).map((message) =>
            String(message.properties.headers?.["x-error-reason"])
          );
          assert.match(reasons[0], /StoreId: must be at most 64 bytes/);
          assert.match(reasons[1], /StoreId: must be well-formed text/);
          assert.match(reasons[2], /StoreId: must be well-formed text/);
          assert.match(reasons[3], /StoreId: must not contain control/);
          assert.match(reasons[4], /StoreId: must not contain control/);
          assert.match(reasons[5], /StoreId: must not contain control/);
          assert.match(reasons[6], /Items\.0\.Sku: must not contain control/);
        }
      } finally {
        await client.close();
      }
      // Nothing raw reached the terminal.
      for (const service of [billing, inventory]) {
        assert.ok(
          !service.lines.some(hasControl),
        );
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      assert.deepEqual(
        (await invoices(sandbox)).map((invoice) => invoice.StoreId),
        ["NEPAL-01"],
      );
    });
  },
);

Deno.test(
  "hardening: two tills of one store never clash; a reused key with other content is a conflict",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const tills = ["A", "B"].map((till) => ({
        ...sandbox,
        dataDir: join(sandbox.dataDir, `till-${till}`),
        env: {
          ...sandbox.env,
          DATA_DIR: join(sandbox.dataDir, `till-${till}`),
        },
      }));
      // Two tills with their own data and no --till: each makes an id.
      const runs = await Promise.all(
        tills.map((till) =>
          runService("pos", till, ["--count", "20", "--quiet"])
        ),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      await billing.waitFor(/Generating invoice/, 40);
      await inventory.waitFor(/Inventory update/, 40);
      const made = tills.flatMap((till) => sentSales(till).map((e) => e.sale));
      assert.equal(made.length, 40);
      assert.equal(new Set(made.map((sale) => sale.TillId)).size, 2);
      assert.equal(
        new Set(made.map((sale) => sale.SaleId)).size,
        20,
        "both tills number from 10000",
      );
      // The .NET POS restarts at 10000 on every run: the same key, another sale.
      const client = await openClient(sandbox);
      try {
        await publishRaw(client, DOTNET_MESSAGE);
        await publishRaw(client, DOTNET_MESSAGE); // A redelivery: a no-op.
        const other = DOTNET_MESSAGE.replace('"Quantity":5}', '"Quantity":7}');
        await publishRaw(client, other);
        await billing.waitFor(/Rejected a message: Conflict: "NEPAL-01:10001"/);
        await inventory.waitFor(
          /Rejected a message: Conflict: "NEPAL-01:10001"/,
        );
        const [conflict] = await drain(client, "billing_queue_error");
        assert.equal(conflict.content.toString(), other);
        assert.match(
          String(conflict.properties.headers?.["x-error-reason"]),
          /^Conflict: "NEPAL-01:10001" was handled at \S+ with content [0-9a-f]{32}; this message has the same key and content [0-9a-f]{32}$/,
        );
      } finally {
        await client.close();
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      const stored = await invoices(sandbox);
      assert.equal(stored.length, 41, "40 from the tills, 1 from .NET");
      const numbers = stored.map((invoice) => invoice.InvoiceNumber);
      assert.equal(new Set(numbers).size, 41);
      assert.equal(numbers.at(-1), "NEPAL-01-000041", "gapless");
    });
  },
);

Deno.test(
  "hardening: Billing and Inventory agree on the largest quantities",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      try {
        for (const id of [40001, 40002]) {
          await publishRaw(
            client,
            JSON.stringify({
              ...base,
              SaleId: id,
              Items: [{ Sku: "MILK001", Quantity: 2147483647 }],
            }),
          );
        }
      } finally {
        await client.close();
      }
      await billing.waitFor(/Generating invoice for Sale #40002/);
      await inventory.waitFor(/Inventory update for Sale #40002/);
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      assert.equal((await invoices(sandbox)).length, 2);
      assert.deepEqual(
        (await stock(sandbox)).map((level) => [level.Sku, level.Quantity]),
        [["MILK001", -4294967294]],
      );
      assert.ok(
        ![...billing.lines, ...inventory.lines].some((line) =>
          /Rejected/.test(line)
        ),
      );
    });
  },
);

Deno.test(
  "hardening: what reaches the screen is escaped",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      // Stored before codes were checked: printed escaped all the same.
      const inventory = new Running("inventory", sandbox);
      await inventory.waitFor(/running on/);
      assert.equal(await inventory.stop(), 0);
      const db = new DatabaseSync(
        join(sandbox.dataDir, "inventory", "inventory.db"),
      );
      db.prepare(`INSERT INTO stock_level
        (store_id, sku, quantity, threshold, low, updated_at)
        VALUES (?, ?, 1, NULL, 0, '2026-11-27T00:00:00Z')`).run(
        "A\u0000B",
        "\u001b]0;owned\u0007",
      );
      db.close();
      const { stdout } = await runService("inventory", sandbox, ["stock"]);
      assert.match(stdout, /^A\\u0000B +\\u001b\]0;owned\\u0007 +1$/m);
      assert.ok(!stdout.split("\n").some(hasControl), stdout);
    });
  },
);

Deno.test(
  "hardening: listings stream, whatever their size, and take a range",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      assert.equal(await billing.stop(), 0);
      // 30,000 invoices, written straight into Billing's table.
      const db = new DatabaseSync(
        join(sandbox.dataDir, "billing", "billing.db"),
      );
      const insert = db.prepare(`INSERT INTO invoice
        (number, store_id, till_id, seq, sale_id, mismatch, created_at, document)
        VALUES (?, 'S', '', ?, ?, 0, ?, ?)`);
      db.exec("BEGIN");
      for (let seq = 1; seq <= 30_000; seq++) {
        const number = `S-${String(seq).padStart(6, "0")}`;
        const at = new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString();
        insert.run(
          number,
          seq,
          seq,
          at,
          JSON.stringify({
            InvoiceNumber: number,
            StoreId: "S",
            SaleId: seq,
            Lines: [{ Sku: "A", Quantity: 1, UnitPrice: 1.5, LineTotal: 1.5 }],
            Subtotal: 1.5,
            Total: 1.5,
            TotalAmount: 1.5,
            Mismatch: false,
            CreatedAt: at,
          }),
        );
      }
      db.exec("COMMIT");
      db.close();
      const all = await runService("billing", sandbox, ["invoices", "--json"]);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(JSON.parse(all.stdout).length, 30_000);
      const human = await runService("billing", sandbox, ["invoices"]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /\n30000 invoice\(s\)\.\n$/);
      const some = await runService("billing", sandbox, [
        "invoices",
        "--json",
        "--from",
        "2026-11-01T10:00:00Z",
        "--to",
        "2026-11-01T11:00:00Z",
        "--limit",
        "10",
      ]);
      assert.equal(some.code, 0, some.stderr);
      assert.deepEqual(
        JSON.parse(some.stdout).map((invoice: { SaleId: number }) =>
          invoice.SaleId
        ),
        [600, 601, 602, 603, 604, 605, 606, 607, 608, 609],
      );
    });
  },
);
