/**
 * The back office in a real browser (Debian's Chromium, driven by
 * playwright-core), against the real services on a real broker: its pages
 * follow the sales live, its Stock page restocks through Inventory, its
 * error queue page replays, and its summary agrees with Billing.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { Decimal } from "../contracts/decimal.ts";
import { formatMoney } from "../lib/core/mod.ts";
import { type Sandbox, withSandbox } from "./support/sandbox.ts";
import { withBrowser } from "../tools/_browser.ts";
import { eventually, openClient, setAsideInBilling } from "./support/amqp.ts";
import { invoices, stock } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import { projectPath, runService, startConsumers } from "./support/process.ts";
import { startOffice } from "./support/office.ts";

/** The text of the first element that matches, trimmed. */
async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent() ?? "").trim();
}

/** Waits until the text of `selector` in `page` passes `check`. */
async function until(
  page: Page,
  selector: string,
  check: (text: string) => boolean,
): Promise<void> {
  let last = "";
  try {
    await eventually(
      async () => check(last = await text(page, selector)),
      selector,
    );
  } catch (error) {
    throw new Error(`${selector} still shows "${last}"`, { cause: error });
  }
}

/** The quantity `deno task stock -- --json` prints for a SKU of NEPAL-01. */
async function printedStock(sandbox: Sandbox, sku: string): Promise<number> {
  const level = (await stock(sandbox)).find((row) =>
    row.StoreId === "NEPAL-01" && row.Sku === sku
  );
  return level?.Quantity ?? 0;
}

Deno.test(
  "office: the back office follows the shop in a browser",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      // The shop opens with its stock, as `deno task start` loads it: the
      // Stock page's rows do not hang on which SKUs the random sales took.
      const loaded = await runService("inventory", sandbox, [
        "stock",
        "load",
        projectPath("contracts/opening_stock.csv"),
      ]);
      assert.equal(loaded.code, 0, loaded.stderr);
      const consumers = await startConsumers(sandbox);
      const [billing, inventory] = consumers;
      const { office, url, password } = await startOffice(sandbox);
      const count = 25;
      try {
        await withBrowser(async (browser) => {
          const page = await browser.newPage();
          const problems: string[] = [];
          page.on(
            "pageerror",
            (error) => problems.push(`${error.message} at ${page.url()}`),
          );

          await t.step(
            "signed out, every page sends to the login page; signed in, back",
            async () => {
              for (
                const path of [
                  "/",
                  "/invoices",
                  "/stock",
                  "/errors",
                  "/live",
                  "/audit",
                ]
              ) {
                await page.goto(`${url}${path}`);
                assert.match(page.url(), /\/login\?next=/, path);
                assert.equal(await text(page, "h1"), "Sign in");
              }
              const action = await page.request.post(`${url}/stock/adjust`, {
                headers: { origin: new URL(url).origin },
                form: {
                  mode: "add",
                  store: "NEPAL-01",
                  sku: "MILK-1L",
                  quantity: "1",
                },
              });
              assert.equal(action.status(), 401);
              await page.getByLabel("Name").fill("admin");
              await page.getByLabel("Password").fill("not the password");
              await page.getByRole("button", { name: "Sign in" }).click();
              assert.match(
                await text(page, '[role="alert"]'),
                /Wrong name or password/,
              );
              await page.getByLabel("Name").fill("admin");
              await page.getByLabel("Password").fill(password);
              await page.getByRole("button", { name: "Sign in" }).click();
              await page.waitForURL(/\/audit$/);
              assert.equal(await text(page, "h1"), "Audit");
            },
          );

          await t.step(
            "after N sales, Today shows N and its chart moves without a reload",
            async () => {
              await page.goto(url);
              assert.equal(await text(page, "h1"), `Today, ${today()}`);
              assert.equal(await text(page, '[data-summary="Sales"]'), "0");
              await until(
                page,
                "#live-status",
                (status) => status.startsWith("Up to date"),
              );
              // Gone after a reload: the page must change in place.
              await page.evaluate("globalThis.stayed = true");
              const pos = await runService("pos", sandbox, [
                "--count",
                String(count),
                "--quiet",
              ]);
              assert.equal(pos.code, 0, pos.stderr);
              for (const key of ["Sales", "Invoices"]) {
                await until(
                  page,
                  `[data-summary="${key}"]`,
                  (shown) => shown === String(count),
                );
              }
              const bars = await page.locator("#chart rect").evaluateAll((
                rects,
              ) =>
                rects.map((rect) => Number(rect.getAttribute("data-sales")))
              );
              assert.equal(bars.length, 60);
              assert.equal(bars.reduce((sum, n) => sum + n, 0), count);
              assert.ok(bars.at(-1)! + bars.at(-2)! === count);
              assert.equal(await page.evaluate("globalThis.stayed"), true);
              assert.match(
                await text(page, "#stores tbody tr"),
                new RegExp(`NEPAL-01\\s*${count}`),
              );
            },
          );

          await t.step("the summary API matches invoices", async () => {
            await inventory.waitFor(/Inventory update/, count);
            // With the browser's session: the API needs one too.
            const summary = await (await page.request.get(`${url}/api/summary`))
              .json();
            const invoiced = await invoices(sandbox);
            assert.equal(invoiced.length, count);
            assert.equal(summary.Sales, invoiced.length);
            assert.equal(summary.Invoices, invoiced.length);
            const revenue = invoiced.reduce(
              (sum, invoice) =>
                sum.add(Decimal.parse(String(invoice.TotalAmount))),
              Decimal.of(0n),
            );
            assert.equal(Decimal.parse(summary.Revenue).compare(revenue), 0);
            assert.deepEqual(
              summary.Stores.map((s: { StoreId: string }) => s.StoreId),
              ["NEPAL-01"],
            );
            // For people: grouped, every digit kept (MONEY's default).
            assert.equal(
              await text(page, '[data-summary="Revenue"]'),
              formatMoney(summary.Revenue),
            );
            assert.match(
              await text(page, '[data-summary="Revenue"]'),
              /^Rs \d{1,3}(,\d{3})*\.\d{2}$/,
            );
          });

          await t.step(
            "a restock from the Stock page changes what deno task stock prints",
            async () => {
              const before = await printedStock(sandbox, "MILK-1L");
              await page.goto(`${url}/stock`);
              const restock = page.locator("form", {
                has: page.getByRole("button", { name: "Restock" }),
              });
              await restock.getByLabel("SKU").fill("MILK-1L");
              await restock.getByLabel("Quantity").fill("40");
              await restock.getByRole("button", { name: "Restock" }).click();
              await page.waitForURL(/\/stock\?sent=/);
              await until(
                page,
                "[data-adjustment]",
                (notice) => notice.startsWith("Applied by Inventory"),
              );
              assert.equal(await printedStock(sandbox, "MILK-1L"), before + 40);
              assert.equal(
                await text(
                  page,
                  'tr[data-store="NEPAL-01"][data-sku="MILK-1L"] td:nth-child(3)',
                ),
                String(before + 40),
              );
              await inventory.waitFor(/after a delivery of 40 from office/);
              // Who did it, and from where, on the Audit page.
              await page.goto(`${url}/audit`);
              const entry = await text(
                page,
                'tbody tr:has-text("received stock")',
              );
              assert.match(entry, /admin/);
              assert.match(entry, /40 MILK-1L in NEPAL-01/);
              assert.match(entry, /127\.0\.0\.1/);
              await page.goto(`${url}/stock`);
            },
          );

          await t.step(
            "deno task stock -- add ends in the same place, and the page follows it",
            async () => {
              const before = await printedStock(sandbox, "MILK-1L");
              const added = await runService("inventory", sandbox, [
                "stock",
                "add",
                "MILK-1L",
                "7",
              ]);
              assert.equal(added.code, 0, added.stderr);
              await until(
                page,
                'tr[data-store="NEPAL-01"][data-sku="MILK-1L"] td:nth-child(3)',
                (shown) => shown === String(before + 7),
              );
              assert.equal(await printedStock(sandbox, "MILK-1L"), before + 7);
            },
          );

          await t.step("a bad form says why and sends nothing", async () => {
            const count = await page.locator(
              'tr[data-sku="MILK-1L"] td:nth-child(3)',
            ).textContent();
            await page.goto(`${url}/stock`);
            const csrf = await page.locator('input[name="_csrf"]').first()
              .getAttribute("value") ?? "";
            const response = await page.request.post(`${url}/stock/adjust`, {
              headers: { origin: new URL(url).origin },
              form: {
                _csrf: csrf,
                mode: "add",
                store: "NEPAL-01",
                sku: "MILK-1L",
                quantity: "x",
              },
            });
            assert.equal(response.status(), 400);
            assert.match(
              await response.text(),
              /Nothing was sent: Invalid quantity &quot;x&quot;/,
            );
            const elsewhere = await page.request.post(`${url}/stock/adjust`, {
              headers: { origin: "http://evil.example" },
              form: {
                mode: "set",
                store: "NEPAL-01",
                sku: "MILK-1L",
                quantity: "0",
              },
            });
            assert.equal(elsewhere.status(), 403);
            const malformed = await page.request.get(
              `${url}/invoices/%E0%A4%A`,
            );
            assert.equal(malformed.status(), 400);
            assert.match(await malformed.text(), /Invalid path part/);
            assert.equal(await printedStock(sandbox, "MILK-1L"), Number(count));
          });

          await t.step(
            "a replay from the error queue page puts the message back, and it is invoiced",
            async () => {
              const client = await openClient(sandbox);
              await setAsideInBilling(client).finally(() => client.close());
              await page.goto(`${url}/errors`);
              await page.getByRole("link", { name: "billing_queue_error" })
                .click();
              await page.getByRole("row", { name: /replay-me/ }).getByRole(
                "button",
                { name: /^Replay/ },
              ).click();
              assert.match(await text(page, "h1"), /^Replay message replay-me/);
              await page.getByRole("button", { name: /^Yes, replay/ }).click();
              assert.equal(
                await text(page, '[role="status"]'),
                "Replayed 1 message(s).",
              );
              await billing.waitFor(/Generating invoice for Sale #10001 /);
              const replayed = (await invoices(sandbox)).filter((invoice) =>
                invoice.SaleId === 10001 && invoice.TillId === undefined
              );
              assert.equal(replayed.length, 1);
              await page.goto(`${url}/errors/billing_queue_error`);
              assert.match(
                await text(page, "main"),
                /This error queue is empty\./,
              );
            },
          );

          await t.step("Live shows the events as they come", async () => {
            await page.goto(`${url}/live`);
            // A readable line each: when, what, where, how much; the JSON
            // only when opened.
            const line =
              /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC (Sale #\d+ · NEPAL-01 · (till [\w-]+ · )?\d+ items? · Rs [\d,]+\.\d{2}|Invoice NEPAL-01-\d{6} · Sale #\d+|Stock · NEPAL-01 · |Low stock · )/;
            assert.match(await text(page, "#feed li summary"), line);
            assert.equal(
              await page.locator("#feed li pre").first().isVisible(),
              false,
            );
            await page.locator("#feed li summary").first().click();
            assert.match(await text(page, "#feed li pre"), /^\{"/);
            const before = await page.locator("#feed li").count();
            const pos = await runService("pos", sandbox, [
              "--count",
              "1",
              "--quiet",
            ]);
            assert.equal(pos.code, 0, pos.stderr);
            await eventually(
              async () => await page.locator("#feed li").count() >= before + 3,
              "three new lines in the feed",
            );
            assert.match(await text(page, "#feed li summary"), line);
          });

          await t.step("one invoice prints on its own page", async () => {
            await page.goto(`${url}/invoices?store=NEPAL-01&sale=10001`);
            const links = page.locator("#invoices tbody a");
            assert.equal(await links.count(), 2); // The .NET sale and a till's.
            await page.locator("#invoices tbody tr", { hasText: "till" })
              .locator("a").first().click();
            assert.match(await text(page, "h1"), /^Invoice NEPAL-01-\d{6}$/);
            // Like a receipt: names, quantities, unit prices, amounts; with
            // no tax, one total.
            const names = await page.locator("#invoice tbody tr td:first-child")
              .allTextContents();
            assert.ok(
              names.every((name) =>
                /^\S.*[a-z].* [A-Z0-9]+(-[A-Z0-9]+)+$/.test(name.trim())
              ),
              names.join("|"),
            );
            const prices = await page.locator(
              "#invoice tbody tr td:nth-child(3)",
            )
              .allTextContents();
            assert.ok(
              prices.every((price) => /^Rs [\d,]+\.\d{2}$/.test(price.trim())),
              prices.join("|"),
            );
            assert.deepEqual(
              (await page.locator("#invoice tfoot th").allTextContents()).map((
                label,
              ) => label.trim()),
              ["Total"],
            );
          });

          await t.step(
            "keyboard and screen reader: skip link, labels, one h1",
            async () => {
              await page.goto(`${url}/stock`);
              await page.keyboard.press("Tab");
              assert.equal(
                await page.evaluate("document.activeElement.textContent"),
                "Skip to content",
              );
              assert.equal(await page.locator("h1").count(), 1);
              const unlabelled = await page.locator("input:not([type=hidden])")
                .evaluateAll((inputs) =>
                  inputs.filter((input) =>
                    (input as unknown as { labels: unknown[] }).labels
                      .length ===
                      0
                  ).length
                );
              assert.equal(unlabelled, 0);
            },
          );
          assert.deepEqual(problems, []);
        });
      } finally {
        await office.stop();
        for (const consumer of consumers) await consumer.stop();
      }
    });
  },
);

/** Today, as the back office's days are (UTC). */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}
