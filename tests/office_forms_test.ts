/**
 * What the Stock form and `deno task stock` refuse, in the project's words,
 * so that a typo never starts a stock line: an unknown mode, an unknown
 * SKU or store (unless said to be new), an empty code, and codes with
 * invisible characters that look like others.
 */
import assert from "node:assert/strict";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";
import { runService, startConsumers } from "./support/process.ts";
import { signIn, startOffice } from "./support/office.ts";

Deno.test(
  "office forms: unknown modes, SKUs and stores are refused, and odd codes",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const { office, url, password } = await startOffice(sandbox);
      try {
        const added = await runService("inventory", sandbox, [
          "stock",
          "set",
          "MILK-1L",
          "10",
          "--new",
        ]);
        assert.equal(added.code, 0, added.stderr);
        const { cookie, csrf } = await signIn(url, password);
        const post = async (form: Record<string, string>) => {
          const response = await fetch(`${url}/stock/adjust`, {
            method: "POST",
            headers: { origin: new URL(url).origin, cookie },
            body: new URLSearchParams({ ...form, _csrf: csrf }),
            redirect: "manual",
          });
          return { status: response.status, text: await response.text() };
        };
        const base = { mode: "add", store: "NEPAL-01", quantity: "1" };
        // The office knows the level once Inventory has announced it.
        for (let i = 0; i < 50; i++) {
          if ((await post({ ...base, sku: "MILK-1L" })).status === 303) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await t.step("the form", async () => {
          for (
            const [form, words] of [
              [
                { ...base, sku: "MILK-1L", mode: "bogus" },
                /Invalid mode &quot;bogus&quot;: use add/,
              ],
              [
                { ...base, sku: "NO-SUCH-SKU" },
                /Unknown SKU &quot;NO-SUCH-SKU&quot; in NEPAL-01/,
              ],
              [
                { ...base, sku: "MILK-1L", store: "OTHER-STORE-99" },
                /Unknown store &quot;OTHER-STORE-99&quot;/,
              ],
              [
                { ...base, sku: "MILK-1L", store: "" },
                /Invalid store &quot;&quot;: must not be empty/,
              ],
              [
                { ...base, sku: "MILK-1L", store: "NEPAL\u200b-01" },
                /invisible format characters/,
              ],
            ] as const
          ) {
            const { status, text } = await post(form);
            assert.equal(status, 400, JSON.stringify(form));
            assert.match(text, words);
          }
          const fresh = await post({ ...base, sku: "NEW-SKU", new: "on" });
          assert.equal(fresh.status, 303);
        });
        await t.step("deno task stock", async () => {
          const unknown = await runService("inventory", sandbox, [
            "stock",
            "add",
            "NO-SUCH-SKU",
            "1",
          ]);
          assert.equal(unknown.code, 2);
          assert.match(
            unknown.stderr,
            /Unknown SKU "NO-SUCH-SKU" in NEPAL-01: add --new/,
          );
          const bidi = await runService("inventory", sandbox, [
            "stock",
            "add",
            "\u202eKLIM",
            "1",
            "--new",
          ]);
          assert.equal(bidi.code, 2);
          assert.match(
            bidi.stderr,
            /Invalid SKU "\\u202eKLIM": must not contain invisible/,
          );
        });
      } finally {
        await office.stop();
        await billing.stop();
        await inventory.stop();
      }
    });
  },
);
