/**
 * The back office's Day close page and the discrepancy Today shows first,
 * in Debian's Chromium, after a real close with a sale Billing never saw.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { withSandbox } from "./support/sandbox.ts";
import { withBrowser } from "../tools/_browser.ts";
import { eventually, openClient, publishRaw } from "./support/amqp.ts";
import { processTest } from "./support/options.ts";
import { Running, runService } from "./support/process.ts";
import { startOffice } from "./support/office.ts";

async function text(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent() ?? "").trim();
}

Deno.test(
  "office: the Day close page shows each service's answer, and Today a discrepancy first until it is mended",
  processTest,
  async () => {
    await withSandbox(async (base) => {
      const sandbox = {
        ...base,
        env: { ...base.env, CLOSE_GRACE: "1s", TILL_ID: "till-a" },
      };
      const declared = new Running("billing", sandbox);
      await declared.waitFor(/running on/);
      await declared.stop();
      const inventory = new Running("inventory", sandbox);
      const { office, url, password } = await startOffice(sandbox);
      let billing: Running | undefined;
      const client = await openClient(sandbox);
      try {
        await inventory.waitFor(/running on/);
        const sold = await runService("pos", sandbox, [
          "--count",
          "6",
          "--quiet",
        ]);
        assert.equal(sold.code, 0, sold.stderr);
        // The .NET POS's sale: no till, so no close covers it.
        await publishRaw(client, DOTNET_MESSAGE);
        const channel = await client.createChannel();
        const lost = await channel.get("billing_queue", { noAck: true });
        assert.ok(lost);
        const lostId = JSON.parse(lost.content.toString()).SaleId;
        billing = new Running("billing", sandbox);
        await billing.waitFor(/Generating invoice/, 6);
        const closed = await runService("pos", sandbox, ["close"]);
        assert.equal(closed.code, 0, closed.stderr);
        await billing.waitFor(/1 sale\(s\) missing/, 1, 10_000);
        await eventually(
          () =>
            Promise.resolve(
              office.lines.some((line) =>
                /till till-a .*: reconciled/.test(line)
              ),
            ),
          "the office's own reconciliation",
        );

        await withBrowser(async (browser) => {
          const page = await browser.newPage();
          await page.goto(`${url}/login`);
          await page.getByLabel("Name").fill("admin");
          await page.getByLabel("Password").fill(password);
          await page.getByRole("button", { name: "Sign in" }).click();
          await page.waitForURL(`${url}/`);
          // The discrepancy comes before the day's totals.
          await eventually(async () => {
            await page.reload();
            return await page.locator("#discrepancies").count() === 1;
          }, "the discrepancy on Today");
          const first = await page.locator("main > *:not(h1)").first()
            .getAttribute("id");
          assert.equal(first, "discrepancies");
          assert.match(
            await text(page, "#discrepancies li"),
            new RegExp(
              `Till till-a of NEPAL-01, day \\S+: billing lacks ${lostId}`,
            ),
          );

          await page.getByRole("link", { name: "Day close" }).first().click();
          await page.waitForURL(`${url}/close`);
          assert.equal(await text(page, "h1"), "Day close");
          const row = page.locator("#closes tbody tr").first();
          assert.equal(await row.locator("td").nth(1).textContent(), "till-a");
          assert.equal(await row.locator("td").nth(3).textContent(), "6");
          const state = (service: string) =>
            row.locator(`td[data-service="${service}"]`).getAttribute(
              "data-state",
            );
          await eventually(async () => {
            await page.reload();
            return await state("inventory") === "reconciled" &&
              await state("office") === "reconciled" &&
              await state("billing") === "discrepancy";
          }, "each service's answer on the page");
          assert.match(
            await text(page, '#closes td[data-service="billing"]'),
            new RegExp(`lacks 1: ${lostId}`),
          );
          assert.match(await text(page, "#untilled"), /NEPAL-01\s*1/);

          const resent = await runService("pos", sandbox, [
            "resend",
            "--missing",
          ]);
          assert.equal(resent.code, 0, resent.stderr);
          await eventually(async () => {
            await page.reload();
            return await state("billing") === "reconciled";
          }, "Billing reconciled after the resend");
          await page.goto(url);
          assert.equal(await page.locator("#discrepancies").count(), 0);
        });
      } finally {
        await client.close();
        await Promise.all(
          [billing, inventory, office].map((service) => service?.stop()),
        );
      }
    });
  },
);
