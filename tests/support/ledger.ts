/**
 * What the services stored, read as a user reads it (`deno task invoices --
 * --json`, `deno task stock -- --json`), and what the POS sent, from its
 * outbox: the two sides of every reconciliation.
 *
 * @module
 */
import { join } from "node:path";
import { PostgresStore, readOutbox } from "../../lib/store/mod.ts";
import type { Sandbox } from "./sandbox.ts";
import type { ProgramName } from "../../tools/launcher.ts";
import { runService } from "./process.ts";

async function printedJson<T>(
  service: ProgramName,
  sandbox: Sandbox,
  subcommand: string,
): Promise<T> {
  const result = await runService(service, sandbox, [subcommand, "--json"]);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

/** The stored invoices of the sandbox, as `deno task invoices -- --json` prints them. */
export function invoices(
  sandbox: Sandbox,
): Promise<
  {
    InvoiceNumber: string;
    SaleId: number;
    StoreId: string;
    TillId?: string;
    Total: number;
    TotalAmount: number;
  }[]
> {
  return printedJson("billing", sandbox, "invoices");
}

/** The stock of the sandbox, as `deno task stock -- --json` prints it. */
export function stock(
  sandbox: Sandbox,
): Promise<{ StoreId: string; Sku: string; Quantity: number }[]> {
  return printedJson("inventory", sandbox, "stock");
}

/** Every sale the POS of the sandbox made, from its own outbox, and whether it was sent. */
export function sentSales(sandbox: Sandbox) {
  return readOutbox(join(sandbox.dataDir, "pos", "pos.db")).map((entry) => ({
    sale: JSON.parse(new TextDecoder().decode(entry.body)),
    sent: entry.sent,
  }));
}

/** Stock each (store, SKU) must show: minus the sum of its sold quantities. */
export function expectedStock(
  sales: { StoreId: string; Items: { Sku: string; Quantity: number }[] }[],
) {
  const totals = new Map<string, number>();
  for (const sale of sales) {
    for (const item of sale.Items) {
      const key = `${sale.StoreId}/${item.Sku}`;
      totals.set(key, (totals.get(key) ?? 0) - item.Quantity);
    }
  }
  return totals;
}

/** Every sale the POS instances made, from the shared database. */
export async function madeSales(url: string) {
  const store = await PostgresStore.open(url, "pos");
  try {
    return (await store.all("SELECT body, sent_at FROM outbox ORDER BY id"))
      .map((row) => ({
        sale: JSON.parse(new TextDecoder().decode(row.body as Uint8Array)),
        sent: row.sent_at !== null,
      }));
  } finally {
    await store.close();
  }
}

/** Lost, duplicated and stock figures of a run, printed and returned. */
export async function reconcile(
  sandbox: Sandbox,
  url: string,
  what: string,
) {
  const sales = (await madeSales(url)).map((entry) => entry.sale);
  const stored = await invoices(sandbox);
  const key = (sale: { StoreId: string; TillId?: string; SaleId: number }) =>
    `${sale.StoreId}:${sale.SaleId}@${sale.TillId ?? ""}`;
  const invoiced = new Set(stored.map(key));
  const lost = sales.filter((sale) => !invoiced.has(key(sale))).length;
  const duplicated = stored.length - invoiced.size;
  const numbers = stored.map((invoice) => invoice.InvoiceNumber).sort();
  const gapless = numbers.every((number, i) =>
    number === `NEPAL-01-${String(i + 1).padStart(6, "0")}`
  );
  const expected = expectedStock(sales);
  const levels = await stock(sandbox);
  const mismatches =
    levels.filter((level) =>
      level.Quantity !== expected.get(`${level.StoreId}/${level.Sku}`)
    ).length + Math.abs(levels.length - expected.size);
  console.log(
    `${what}: sales ${sales.length}, invoices ${stored.length}, lost ${lost}, duplicated ${duplicated}, gapless ${gapless}, stock mismatches ${mismatches}`,
  );
  return { sales: sales.length, lost, duplicated, gapless, mismatches };
}
