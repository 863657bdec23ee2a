/**
 * Billing: turns each sale into an invoice, kept in its own SQLite file, and
 * announces it as `invoice.created`.
 *
 *     deno task billing                          consume billing_queue
 *     deno task invoices [-- --json]             print the stored invoices
 *     deno task invoices -- --sale <id>          one invoice, readably
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { Decimal } from "../contracts/decimal.ts";
import {
  encodeInvoice,
  INVOICE_CREATED,
  type InvoiceCreated,
  InvoiceCreatedSchema,
} from "../contracts/invoice.ts";
import {
  decodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import { decode } from "../contracts/codec.ts";
import { type Config, readEnv } from "../lib/config.ts";
import { openDatabase, transaction } from "../lib/database.ts";
import { UsageError } from "../lib/errors.ts";
import { Inbox } from "../lib/inbox.ts";
import { runMain } from "../lib/main.ts";
import { Outbox } from "../lib/outbox.ts";
import { parseCommandLine, type Program } from "../lib/program.ts";
import { runConsumer } from "../lib/run_consumer.ts";

const NAME = "billing";
/** The article's queue; the .NET Billing service consumes it too. */
const QUEUE = "billing_queue";

/** Billing's command line, and what it may read: its folder and TAX_RATE. */
export const program: Program = {
  name: NAME,
  script: "services/billing.ts",
  settings: ["url", "dataDir", "prefetch"],
  env: ["TAX_RATE"],
  keepsData: true,
  options: {
    json: { type: "boolean" },
    sale: { type: "string" },
    store: { type: "string" },
    "tax-rate": { type: "string" },
  },
  help: `
Billing: makes an invoice for every sale on "${QUEUE}" and publishes
"${INVOICE_CREATED}".

Usage:
  deno task billing [-- options]            consume sales
  deno task invoices [-- --json]            print the stored invoices
  deno task invoices -- --sale <id> [--store <s>]   one invoice, readably

Options:
  --tax-rate <r>     TAX_RATE  tax on each sale's total, e.g. 0.13; default none
  --sale <id>        with invoices: only this sale's invoice
  --store <s>        with invoices: only this store's
  --json             with invoices: JSON for machines`,
};

function openInvoices(config: Config, readOnly = false): DatabaseSync {
  const db = openDatabase({ dataDir: config.dataDir, name: NAME, readOnly });
  if (!readOnly) {
    db.exec(`CREATE TABLE IF NOT EXISTS invoice (
      number TEXT PRIMARY KEY,
      store_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      sale_id INTEGER NOT NULL,
      mismatch INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      document TEXT NOT NULL,
      UNIQUE (store_id, sale_id),
      UNIQUE (store_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS invoice_sequence (
      store_id TEXT PRIMARY KEY,
      last INTEGER NOT NULL
    ) WITHOUT ROWID`);
  }
  return db;
}

/**
 * The invoice for a sale: lines priced as the POS priced them, the tax on
 * the sale's total, and a flag when the priced lines do not add up to it.
 */
function makeInvoice(
  sale: SaleDetails,
  options: { number: string; taxRate?: Decimal },
): InvoiceCreated {
  const { taxRate } = options;
  const lines = sale.Items.map((item) => ({
    Sku: item.Sku,
    Quantity: item.Quantity,
    UnitPrice: item.UnitPrice,
    LineTotal: item.UnitPrice?.times(item.Quantity),
  }));
  const priced = lines.every((line) => line.LineTotal !== undefined);
  const subtotal = priced
    ? lines.reduce(
      (sum, line) => sum.add(line.LineTotal as Decimal),
      Decimal.of(0n),
    )
    : undefined;
  const tax = taxRate
    ? sale.TotalAmount.multiply(taxRate).round(
      Math.max(2, sale.TotalAmount.scale),
    )
    : undefined;
  return {
    InvoiceNumber: options.number,
    StoreId: sale.StoreId,
    SaleId: sale.SaleId,
    Lines: lines,
    Subtotal: subtotal,
    TaxRate: taxRate,
    Tax: tax,
    Total: tax ? sale.TotalAmount.add(tax) : sale.TotalAmount,
    TotalAmount: sale.TotalAmount,
    Mismatch: subtotal !== undefined && !subtotal.equals(sale.TotalAmount),
    CreatedAt: new Date().toISOString(),
  };
}

async function serve(config: Config, taxRate?: Decimal): Promise<void> {
  const db = openInvoices(config);
  const inbox = new Inbox(db);
  const outbox = new Outbox(db);
  const nextNumber = db.prepare(`INSERT INTO invoice_sequence (store_id, last)
    VALUES (?, 1) ON CONFLICT (store_id) DO UPDATE SET last = last + 1
    RETURNING last`);
  const insertInvoice = db.prepare(`INSERT INTO invoice
    (number, store_id, seq, sale_id, mismatch, created_at, document)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);

  function handle(sales: SaleDetails[]): void {
    // Numbers come from the same transaction as the invoices: a rollback
    // takes both back, so a store's numbers have no gaps.
    const invoices = transaction(db, () =>
      sales.flatMap((sale) => {
        if (!inbox.claim(saleKey(sale))) return [];
        const seq = Number(nextNumber.get(sale.StoreId)?.last);
        const number = `${sale.StoreId}-${String(seq).padStart(6, "0")}`;
        const invoice = makeInvoice(sale, { number, taxRate });
        const body = encodeInvoice(invoice);
        insertInvoice.run(
          number,
          sale.StoreId,
          seq,
          sale.SaleId,
          invoice.Mismatch ? 1 : 0,
          invoice.CreatedAt,
          body.toString("utf8"),
        );
        outbox.add({
          exchange: SALES_EXCHANGE,
          routingKey: INVOICE_CREATED,
          messageId: `invoice:${number}`,
          body,
          mandatory: false,
        });
        return [invoice];
      }));
    // One write for the batch: a line per sale costs a syscall each.
    if (invoices.length > 0) {
      console.log(
        invoices.map((invoice) =>
          `Generating invoice for Sale #${invoice.SaleId} - Total: Rs.${invoice.TotalAmount}`
        ).join("\n"),
      );
    }
    for (const invoice of invoices) {
      if (invoice.Mismatch) {
        console.error(
          `Invoice ${invoice.InvoiceNumber} is flagged: its lines add up to Rs.${invoice.Subtotal}, the sale says Rs.${invoice.TotalAmount}`,
        );
      }
    }
  }

  await runConsumer({
    name: NAME,
    config,
    db,
    outbox,
    exchange: SALES_EXCHANGE,
    queue: QUEUE,
    routingKey: SALE_CREATED,
    decode: decodeSale,
    handle,
    onSetAside: (reason) => console.error(`Rejected a message: ${reason}`),
  });
}

function readInvoices(
  config: Config,
  filter: { sale?: number; store?: string },
): InvoiceCreated[] {
  let db: DatabaseSync;
  try {
    db = openInvoices(config, true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return []; // Nothing yet.
    throw error;
  }
  try {
    return db.prepare(`SELECT document FROM invoice
      WHERE (?1 IS NULL OR sale_id = ?1) AND (?2 IS NULL OR store_id = ?2)
      ORDER BY store_id, seq`).all(filter.sale ?? null, filter.store ?? null)
      .map((row) =>
        decode(
          InvoiceCreatedSchema,
          new TextEncoder().encode(String(row.document)),
        )
      );
  } finally {
    db.close();
  }
}

/** One invoice as a customer would read it. */
function render(invoice: InvoiceCreated): string {
  const money = (amount: Decimal | undefined) =>
    amount === undefined ? "" : `Rs.${amount}`;
  const rows = invoice.Lines.map((line) =>
    `  ${line.Sku.padEnd(16)} ${String(line.Quantity).padStart(5)} x ${
      money(line.UnitPrice).padStart(12)
    } ${money(line.LineTotal).padStart(14)}`
  );
  const out = [
    `Invoice ${invoice.InvoiceNumber}`,
    `Store ${invoice.StoreId}, Sale #${invoice.SaleId}, ${invoice.CreatedAt}`,
    "",
    ...rows,
    "",
  ];
  const right = (label: string, amount: string) =>
    out.push(`  ${label.padEnd(36)} ${amount.padStart(14)}`);
  if (invoice.Subtotal) right("Subtotal", money(invoice.Subtotal));
  right("Sale total", money(invoice.TotalAmount));
  if (invoice.Tax) right(`Tax at ${invoice.TaxRate}`, money(invoice.Tax));
  right("Total due", money(invoice.Total));
  if (invoice.Mismatch) {
    out.push(
      "",
      `  FLAGGED: the lines add up to ${
        money(invoice.Subtotal)
      }, the sale says ${money(invoice.TotalAmount)}`,
    );
  } else if (!invoice.Subtotal) {
    out.push("", "  The sale carried no unit prices: lines are not priced.");
  }
  return out.join("\n");
}

function printInvoices(
  config: Config,
  options: { json: boolean; sale?: number; store?: string },
): void {
  const invoices = readInvoices(config, options);
  if (options.json) {
    console.log(JSON.stringify(invoices, null, 2));
  } else if (options.sale !== undefined) {
    if (invoices.length === 0) {
      throw new Error(`No invoice for sale #${options.sale}`);
    }
    console.log(invoices.map(render).join("\n\n"));
  } else if (invoices.length === 0) {
    console.log("No invoices yet.");
  } else {
    for (const invoice of invoices) {
      console.log(
        `${invoice.InvoiceNumber}  Sale #${invoice.SaleId}  ${
          `Rs.${invoice.Total}`.padStart(14)
        }  ${invoice.Lines.length} line(s)  ${invoice.CreatedAt}${
          invoice.Mismatch ? "  FLAGGED" : ""
        }`,
      );
    }
    console.log(`${invoices.length} invoice(s).`);
  }
}

/** A tax rate from 0 up to (not including) 1, e.g. 0.13. */
function parseTaxRate(text: string | undefined): Decimal | undefined {
  if (text === undefined || text === "") return undefined;
  try {
    const rate = Decimal.parse(text);
    if (!rate.isNegative() && rate.compare(Decimal.of(1n)) < 0) return rate;
  } catch {
    // Reported below.
  }
  throw new UsageError(
    `Invalid tax rate "${text}": use a decimal from 0 to below 1, e.g. 0.13`,
  );
}

async function main(): Promise<void> {
  const { values, positionals, config } = parseCommandLine(program);
  if (positionals[0] === "invoices") {
    const sale = values.sale === undefined ? undefined : Number(values.sale);
    if (sale !== undefined && !Number.isSafeInteger(sale)) {
      throw new UsageError(`Invalid sale id "${values.sale}"`);
    }
    printInvoices(config, {
      json: Boolean(values.json),
      sale,
      store: values.store as string | undefined,
    });
  } else if (positionals.length === 0) {
    const taxRate = parseTaxRate(
      (values["tax-rate"] as string | undefined) ?? readEnv("TAX_RATE"),
    );
    await serve(config, taxRate);
  } else {
    throw new UsageError(`Unknown command "${positionals[0]}": see --help`);
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
