/**
 * Billing: turns each sale into an invoice, kept in its own SQLite file.
 *
 *     deno task billing              consume billing_queue
 *     deno task invoices [--json]    print the stored invoices
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  Decimal,
  decodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import {
  type Config,
  fail,
  parseCommandLine,
  runConsumer,
} from "../shared/service.ts";
import { Inbox, openDatabase, transaction } from "../shared/store.ts";

const NAME = "billing";
/** The article's queue; the .NET Billing service consumes it too. */
const QUEUE = "billing_queue";

const HELP = `
Billing: makes an invoice for every sale on "${QUEUE}".

Usage:
  deno task billing [-- options]            consume sales
  deno task invoices [-- --json]            print the stored invoices

Options:
  --json             with invoices: one JSON document for machines`;

/** An invoice as stored and printed. */
interface Invoice {
  invoiceNumber: string;
  saleId: number;
  storeId: string;
  lines: { sku: string; quantity: number }[];
  total: string;
  saleTime: string;
  createdAt: string;
}

function openInvoices(config: Config, readOnly = false): DatabaseSync {
  const db = openDatabase({ dataDir: config.dataDir, name: NAME, readOnly });
  if (!readOnly) {
    db.exec(`CREATE TABLE IF NOT EXISTS invoices (
      invoice_no INTEGER PRIMARY KEY AUTOINCREMENT,
      store_id TEXT NOT NULL,
      sale_id INTEGER NOT NULL,
      total TEXT NOT NULL,
      sale_time TEXT NOT NULL,
      created_at TEXT NOT NULL,
      UNIQUE (store_id, sale_id)
    );
    CREATE TABLE IF NOT EXISTS invoice_lines (
      invoice_no INTEGER NOT NULL REFERENCES invoices,
      line_no INTEGER NOT NULL,
      sku TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      PRIMARY KEY (invoice_no, line_no)
    ) WITHOUT ROWID`);
  }
  return db;
}

function formatInvoiceNumber(number: number): string {
  return `INV-${String(number).padStart(6, "0")}`;
}

async function serve(config: Config): Promise<void> {
  const db = openInvoices(config);
  const inbox = new Inbox(db);
  const insertInvoice = db.prepare(`INSERT INTO invoices
    (store_id, sale_id, total, sale_time, created_at) VALUES (?, ?, ?, ?, ?)`);
  const insertLine = db.prepare(`INSERT INTO invoice_lines
    (invoice_no, line_no, sku, quantity) VALUES (?, ?, ?, ?)`);

  function handle(sales: SaleDetails[]): void {
    const invoiced = transaction(db, () =>
      sales.filter((sale) => {
        if (!inbox.claim(saleKey(sale))) return false;
        const now = new Date().toISOString();
        const { lastInsertRowid } = insertInvoice.run(
          sale.StoreId,
          sale.SaleId,
          sale.TotalAmount.toString(),
          sale.Timestamp,
          now,
        );
        sale.Items.forEach((item, i) =>
          insertLine.run(lastInsertRowid, i + 1, item.Sku, item.Quantity)
        );
        return true;
      }));
    for (const sale of invoiced) {
      console.log(
        `Generating invoice for Sale #${sale.SaleId} - Total: Rs.${sale.TotalAmount}`,
      );
    }
  }

  await runConsumer({
    name: NAME,
    config,
    db,
    exchange: SALES_EXCHANGE,
    queue: QUEUE,
    routingKey: SALE_CREATED,
    decode: decodeSale,
    handle,
    onFailed: (reason) => console.error(`Rejected a message: ${reason}`),
  });
}

function readInvoices(config: Config): Invoice[] {
  let db: DatabaseSync;
  try {
    db = openInvoices(config, true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return []; // Nothing yet.
    throw error;
  }
  try {
    const lines = Map.groupBy(
      db.prepare(
        "SELECT invoice_no, sku, quantity FROM invoice_lines ORDER BY invoice_no, line_no",
      ).all(),
      (row) => Number(row.invoice_no),
    );
    return db.prepare("SELECT * FROM invoices ORDER BY invoice_no").all().map(
      (row) => ({
        invoiceNumber: formatInvoiceNumber(Number(row.invoice_no)),
        saleId: Number(row.sale_id),
        storeId: String(row.store_id),
        lines: (lines.get(Number(row.invoice_no)) ?? []).map((line) => ({
          sku: String(line.sku),
          quantity: Number(line.quantity),
        })),
        total: String(row.total),
        saleTime: String(row.sale_time),
        createdAt: String(row.created_at),
      }),
    );
  } finally {
    db.close();
  }
}

function printInvoices(config: Config, json: boolean): void {
  const invoices = readInvoices(config);
  if (json) {
    console.log(JSON.stringify(
      invoices.map((invoice) => ({
        ...invoice,
        total: Decimal.parse(invoice.total),
      })),
      null,
      2,
    ));
    return;
  }
  if (invoices.length === 0) {
    console.log("No invoices yet.");
    return;
  }
  for (const invoice of invoices) {
    const lines = invoice.lines.map((line) => `${line.quantity} x ${line.sku}`)
      .join(", ");
    console.log(
      `${invoice.invoiceNumber}  ${invoice.storeId}  Sale #${invoice.saleId}  Rs.${invoice.total}  ${invoice.saleTime}  ${lines}`,
    );
  }
  console.log(`${invoices.length} invoice(s).`);
}

if (import.meta.main) {
  const { values, positionals, config } = parseCommandLine({
    name: NAME,
    help: HELP,
    options: { json: { type: "boolean" } },
  });
  try {
    if (positionals[0] === "invoices") {
      printInvoices(config, Boolean(values.json));
    } else if (positionals.length === 0) {
      await serve(config);
    } else {
      fail(NAME, `Unknown command "${positionals[0]}": see --help`, 2);
    }
  } catch (error) {
    fail(NAME, error instanceof Error ? error.message : String(error));
  }
}
