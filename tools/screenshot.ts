/**
 * Takes the README's pictures of the back office from a real run: Billing,
 * Inventory and the back office on a virtual host and a data folder of
 * their own, the demo's opening stock, two stores' tills selling at
 * changing rates for a few minutes and closing their day, then Chromium's
 * screenshots of the Today page, an invoice, the Live page and the Day close
 * page.
 *
 *     deno task screenshot [-- --minutes 4] [-- --out docs/today.png]
 *
 * It drives a browser, whose driver probes /proc/sys as it loads: Deno
 * grants that only with every permission, so the task runs with them all;
 * the services it starts run under their own derived sets.
 *
 * @module
 */
import { firstAdminPassword } from "../services/office/accounts.ts";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { UsageError } from "../lib/core/mod.ts";
import { runMain, VERSION } from "../lib/cli/mod.ts";
import { type Sandbox, withSandbox } from "../tests/support/sandbox.ts";
import { wholeNumber } from "../lib/config/mod.ts";
import { withBrowser } from "./_browser.ts";
import { type ProgramName, ROOT } from "./launcher.ts";
import { Running, runService } from "./_process.ts";

const HELP =
  `Screenshot: the back office's Today page after a real run, for the README.

Usage:
  deno task screenshot [-- options]

Options:
  --minutes <n>      how long the tills sell; default 4
  --out <file>       where the PNG goes; default docs/today.png
  -h, --help         show this help
  --version          show the version`;

/** The stores whose tills sell, each at its own rates (sales a second). */
const TILLS: { store: string; rates: number[] }[] = [
  { store: "NEPAL-01", rates: [0.8, 1.2, 1, 1.6, 0.6, 1.4, 1.1, 0.9] },
  { store: "NEPAL-02", rates: [0.5, 0.7, 0.9, 0.6, 0.4, 0.8] },
];

/** Seconds each rate lasts. */
const STEP_SECONDS = 20;

/** Runs a program to its end; fails with its output when it fails. */
async function run(
  name: ProgramName,
  sandbox: Sandbox,
  args: string[],
): Promise<void> {
  const { code, stdout, stderr } = await runService(name, sandbox, args);
  if (code !== 0) {
    throw new Error(`${name} ${args.join(" ")}: ${stdout}${stderr}`);
  }
}

async function shoot(options: { minutes: number; out: string }): Promise<void> {
  await withSandbox(async (sandbox) => {
    // The demo's opening stock, for each store that sells.
    const opening = await Deno.readTextFile(
      join(ROOT, "contracts", "opening_stock.csv"),
    );
    const [header, ...rows] = opening.split("\n").filter((line) =>
      line && !line.startsWith("#")
    );
    const stockFile = join(sandbox.dataDir, "opening_stock.csv");
    await Deno.writeTextFile(
      stockFile,
      [
        header,
        ...TILLS.flatMap(({ store }) =>
          rows.map((row) => row.replace(/^[^,]*/, store))
        ),
      ].join("\n") + "\n",
    );
    await run("inventory", sandbox, ["stock", "load", stockFile]);
    const office = new Running("office", sandbox, ["--port", "0"]);
    const services = [
      new Running("billing", sandbox),
      new Running("inventory", sandbox),
      office,
    ];
    try {
      for (const service of services) await service.waitFor(/running on/);
      const url = office.lines.find((line) =>
        line.startsWith("Back office at ")
      )!.slice("Back office at ".length);
      const steps = Math.max(
        1,
        Math.round(options.minutes * 60 / STEP_SECONDS),
      );
      console.log(
        `Selling for ${steps * STEP_SECONDS} s; the office is at ${url}`,
      );
      await Promise.all(TILLS.map(async ({ store, rates }) => {
        // Each till keeps its sales in a folder of its own.
        const till = {
          ...sandbox,
          env: { ...sandbox.env, DATA_DIR: join(sandbox.dataDir, store) },
        };
        for (let step = 0; step < steps; step++) {
          const rate = rates[step % rates.length];
          await run("pos", till, [
            "--store",
            store,
            "--count",
            String(Math.round(rate * STEP_SECONDS)),
            "--rate",
            String(rate),
            "--quiet",
          ]);
        }
      }));
      // Each till closes its day, and every service answers.
      await Promise.all(TILLS.map(({ store }) =>
        run("pos", {
          ...sandbox,
          env: { ...sandbox.env, DATA_DIR: join(sandbox.dataDir, store) },
        }, ["close", "--store", store])
      ));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await withBrowser(async (browser) => {
        const page = await browser.newPage({
          viewport: { width: 1100, height: 820 },
        });
        // Signed in as the admin the office made at its first start.
        const password = firstAdminPassword(office.lines) ?? "";
        await page.goto(url);
        await page.getByLabel("Name").fill("admin");
        await page.getByLabel("Password").fill(password);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.locator("#live-status").filter({ hasText: /^Up to date/ })
          .waitFor();
        const folder = join(options.out, "..");
        await Deno.mkdir(folder, { recursive: true });
        await page.screenshot({ path: options.out });
        // Beside it: an invoice, the Live page, the Day close page.
        await page.goto(`${url}/invoices?store=NEPAL-01`);
        await page.locator("#invoices tbody a").first().click();
        await page.screenshot({ path: join(folder, "invoice.png") });
        await page.goto(`${url}/live`);
        await page.locator("#feed li summary").first().click();
        await page.screenshot({ path: join(folder, "live.png") });
        await page.goto(`${url}/close`);
        await page.screenshot({ path: join(folder, "day-close.png") });
      });
      console.log(
        `Wrote ${options.out}, and invoice.png, live.png, day-close.png beside it`,
      );
    } finally {
      await Promise.all(services.map((service) => service.stop()));
    }
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args.filter((arg) => arg !== "--"),
    options: {
      minutes: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.version) {
    console.log(`ShoppingApp ${VERSION} (screenshot)`);
    return;
  }
  const minutes = values.minutes === undefined
    ? 4
    : wholeNumber("minutes", values.minutes, { min: 1, max: 60 });
  const out = values.out ?? join(ROOT, "docs", "today.png");
  if (!out.endsWith(".png")) {
    throw new UsageError(`Invalid out "${out}": the screenshot is a .png`);
  }
  await shoot({ minutes, out });
}

if (import.meta.main) Deno.exit(await runMain("screenshot", main));
