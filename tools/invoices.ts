/**
 * `deno task invoices`, Billing's command for people: the stored invoices in
 * store and number order, one line each, one invoice as a customer reads it
 * (`--sale`), or JSON for machines (`--json`).
 *
 *     deno task invoices [-- --json]
 *     deno task invoices -- --store NEPAL-01 --from 2026-11-27 --limit 50
 *     deno task invoices -- --sale 10000
 *
 * Run by `services/billing.ts invoices`, with Billing's permissions.
 *
 * @module
 */
import { decode } from "../contracts/codec.ts";
import type { Decimal } from "../contracts/decimal.ts";
import {
  type InvoiceCreated,
  InvoiceCreatedSchema,
  invoiceTotals,
} from "../contracts/invoice.ts";
import { printable } from "../contracts/text.ts";
import {
  type CommandLine,
  jsonArrayLines,
  mapEach,
  writeLines,
} from "../lib/cli/mod.ts";
import { type Config, wholeNumber } from "../lib/config/mod.ts";
import {
  formatMoney,
  formatTime,
  type Presentation,
  UsageError,
} from "../lib/core/mod.ts";
import type { Store } from "../lib/store/mod.ts";
import type { openInvoices } from "../services/billing.ts";

/** How Billing opens its store, handed over by the service (a static import
 * of the service here would wait on the service's own start). */
type OpenInvoices = typeof openInvoices;

/** Which invoices to list. */
interface InvoiceFilter {
  sale?: number;
  store?: string;
  till?: string;
  /** Made at or after this time (ISO 8601). */
  from?: string;
  /** Made before this time (ISO 8601). */
  to?: string;
  /** At most this many. */
  limit?: number;
}

/**
 * The stored invoice documents that match, in store and number order, as
 * they are read: memory stays flat however many there are.
 */
async function* readInvoices(
  open: OpenInvoices,
  config: Config,
  filter: InvoiceFilter,
): AsyncGenerator<string> {
  let store: Store;
  try {
    store = await open(config, true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // Nothing yet.
    throw error;
  }
  try {
    // A page at a time, after the last one read: memory stays flat.
    let left = filter.limit ?? Infinity;
    let after = { store: "", seq: 0 };
    while (left > 0) {
      const rows = await store.all(
        `SELECT store_id, seq, document FROM invoice
        WHERE (store_id > ? OR (store_id = ? AND seq > ?))
        AND (CAST(? AS BIGINT) IS NULL OR sale_id = CAST(? AS BIGINT))
        AND (CAST(? AS TEXT) IS NULL OR store_id = ?)
        AND (CAST(? AS TEXT) IS NULL OR till_id = ?)
        AND (CAST(? AS TEXT) IS NULL OR created_at >= ?)
        AND (CAST(? AS TEXT) IS NULL OR created_at < ?)
        ORDER BY store_id, seq LIMIT ?`,
        after.store,
        after.store,
        after.seq,
        ...[filter.sale, filter.store, filter.till, filter.from, filter.to]
          .flatMap((value) => [value ?? null, value ?? null]),
        Math.min(left, 1000),
      );
      for (const row of rows) yield String(row.document);
      if (rows.length < Math.min(left, 1000)) return;
      left -= rows.length;
      const last = rows[rows.length - 1];
      after = { store: String(last.store_id), seq: Number(last.seq) };
    }
  } finally {
    await store.close();
  }
}

function readInvoice(document: string): InvoiceCreated {
  return decode(InvoiceCreatedSchema, new TextEncoder().encode(document));
}

/** `Sale #10000`, and its till when it came from one. */
function saleLabel(invoice: InvoiceCreated): string {
  const till = invoice.TillId === undefined ? "" : ` (till ${invoice.TillId})`;
  return `Sale #${invoice.SaleId}${till}`;
}

/** One invoice as a customer would read a receipt. */
function render(invoice: InvoiceCreated, shown: Presentation): string {
  const money = (amount: Decimal | undefined) => formatMoney(amount, shown);
  const rows = invoice.Lines.map((line) =>
    `  ${printable(line.Sku).padEnd(16)} ${
      String(line.Quantity).padStart(5)
    } x ${money(line.UnitPrice).padStart(12)} ${
      money(line.LineTotal).padStart(14)
    }`
  );
  const out = [
    `Invoice ${printable(invoice.InvoiceNumber)}`,
    `Store ${printable(invoice.StoreId)}, ${saleLabel(invoice)}, ${
      formatTime(invoice.CreatedAt, shown)
    }`,
    "",
    ...rows,
    "",
  ];
  const right = (label: string, amount: string) =>
    out.push(`  ${label.padEnd(36)} ${amount.padStart(14)}`);
  for (const { label, amount } of invoiceTotals(invoice)) {
    right(label, money(amount));
  }
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

async function printInvoices(
  open: OpenInvoices,
  config: Config,
  options: InvoiceFilter & { json: boolean },
): Promise<void> {
  const documents = readInvoices(open, config, options);
  if (options.json) {
    await writeLines(jsonArrayLines(documents));
  } else if (options.sale !== undefined) {
    const invoices = (await Array.fromAsync(documents)).map(readInvoice);
    if (invoices.length === 0) {
      throw new Error(`No invoice for sale #${options.sale}`);
    }
    const shown = { ...config.money, timeZone: config.timeZone };
    console.log(
      invoices.map((invoice) => render(invoice, shown)).join("\n\n"),
    );
  } else {
    const count = await writeLines(
      mapEach(documents, (document) => {
        const invoice = readInvoice(document);
        return `${printable(invoice.InvoiceNumber)}  ${saleLabel(invoice)}  ${
          formatMoney(invoice.Total, config.money).padStart(14)
        }  ${invoice.Lines.length} line(s)  ${
          formatTime(invoice.CreatedAt, config)
        }${invoice.Mismatch ? "  FLAGGED" : ""}`;
      }),
    );
    console.log(count === 0 ? "No invoices yet." : `${count} invoice(s).`);
  }
}

/** A time given on the command line, as the stored times are written. */
function instant(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) {
    throw new UsageError(
      `Invalid ${name} "${text}": use a date or time, e.g. 2026-11-27 or 2026-11-27T10:00:00Z`,
    );
  }
  return time.toISOString();
}

/** Runs `invoices` of Billing's command line, opening its store with `open`. */
export async function invoicesCommand(
  commandLine: CommandLine,
  open: OpenInvoices,
): Promise<void> {
  const { values, config } = commandLine;
  const sale = values.sale === undefined ? undefined : Number(values.sale);
  if (sale !== undefined && !Number.isSafeInteger(sale)) {
    throw new UsageError(`Invalid sale id "${values.sale}"`);
  }
  await printInvoices(open, config, {
    json: Boolean(values.json),
    sale,
    store: values.store as string | undefined,
    till: values.till as string | undefined,
    from: instant("from", values.from as string | undefined),
    to: instant("to", values.to as string | undefined),
    limit: values.limit === undefined
      ? undefined
      : wholeNumber("limit", values.limit as string),
  });
}
