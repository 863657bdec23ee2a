/**
 * Billing: turns each sale into an invoice, kept in its own SQLite file, and
 * announces it as `invoice.created`.
 *
 *     deno task billing                          consume billing_queue
 *     deno task invoices                         what it stored (tools/invoices.ts)
 *
 * @module
 */
import { Decimal } from "../contracts/decimal.ts";
import {
  encodeInvoice,
  INVOICE_CREATED,
  type InvoiceCreated,
} from "../contracts/invoice.ts";
import {
  BILLING_CLOSE_QUEUE,
  BILLING_QUEUE,
  decodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
  saleSpanAttributes,
} from "../contracts/sale.ts";
import { type Config } from "../lib/config/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import {
  createTables,
  delivery,
  openStore,
  Outbox,
  type Store,
} from "../lib/store/mod.ts";
import { printable } from "../contracts/text.ts";
import { Monitor, traceIdFor } from "../lib/observability/mod.ts";
import {
  type ConsumedQueue,
  type Middleware,
  runConsumer,
  serviceMain,
  type Work,
} from "../lib/host/mod.ts";
import type { Log } from "../lib/log/mod.ts";
import { program } from "../lib/programs/billing.ts";
import {
  closeSettings,
  ledgerSaleOf,
  Reconciler,
} from "../lib/reconcile/mod.ts";

const NAME = program.name;
const QUEUE = BILLING_QUEUE;

/** Billing's command line, declared in `lib/programs/billing.ts`. */
export { program };

const INVOICE_TABLE = `CREATE TABLE IF NOT EXISTS invoice (
  number TEXT PRIMARY KEY,
  store_id TEXT NOT NULL,
  till_id TEXT NOT NULL DEFAULT '',
  seq INTEGER NOT NULL,
  sale_id INTEGER NOT NULL,
  mismatch INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  document TEXT NOT NULL,
  UNIQUE (store_id, till_id, sale_id),
  UNIQUE (store_id, seq)
) WITHOUT ROWID`;

/** Billing's store, its tables made (unless only read). */
export async function openInvoices(
  config: Config,
  readOnly = false,
): Promise<Store> {
  const store = await openStore({ name: NAME, ...config, readOnly });
  if (!readOnly) await makeInvoiceTables(store);
  return store;
}

/** Makes Billing's tables in `store`, moving those of an older version on. */
export async function makeInvoiceTables(store: Store): Promise<void> {
  await store.transaction(async (tx) => {
    const columns = store.dialect === "sqlite"
      ? await tx.all("PRAGMA table_info(invoice)")
      : [];
    const tills = columns.some((column) => column.name === "till_id");
    if (columns.length > 0 && !tills) {
      // Made before tills: one sale id per store. SQLite cannot change a
      // UNIQUE constraint in place, so the table is copied.
      await tx.run("ALTER TABLE invoice RENAME TO invoice_before_tills");
      await tx.run(INVOICE_TABLE);
      await tx.run(`INSERT INTO invoice
        (number, store_id, seq, sale_id, mismatch, created_at, document)
        SELECT number, store_id, seq, sale_id, mismatch, created_at, document
        FROM invoice_before_tills`);
      await tx.run("DROP TABLE invoice_before_tills");
    }
  });
  await createTables(
    store,
    INVOICE_TABLE,
    `CREATE TABLE IF NOT EXISTS invoice_sequence (
      store_id TEXT PRIMARY KEY,
      last INTEGER NOT NULL
    ) WITHOUT ROWID`,
  );
}

/**
 * The invoice for a sale: lines priced as the POS priced them, the tax on
 * the sale's total, and a flag when the priced lines do not add up to it.
 */
export function makeInvoice(
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
    TillId: sale.TillId,
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

/** The article's line for an invoice, with the total due when taxed. */
function invoiceLine(invoice: InvoiceCreated): string {
  const due = invoice.Tax
    ? `, tax Rs.${invoice.Tax}, due Rs.${invoice.Total}`
    : "";
  return `Generating invoice for Sale #${invoice.SaleId} - Total: Rs.${invoice.TotalAmount}${due}`;
}

/** Store by store: two instances lock the stores' counters in the same order, so neither waits for the other forever. */
const byStore: Middleware<SaleDetails> = (next) => (batch) =>
  next({
    ...batch,
    deliveries: batch.deliveries.toSorted((a, b) =>
      a.value.StoreId < b.value.StoreId
        ? -1
        : a.value.StoreId > b.value.StoreId
        ? 1
        : 0
    ),
  });

/**
 * Invoices the sales the inbox admitted, in `tx`: numbers come from the same
 * transaction as the invoices, so a rollback takes both back and a store's
 * numbers have no gaps. Each invoice goes into the outbox as
 * `invoice.created`.
 */
export async function invoiceSales(
  { tx, deliveries, trace }: Work<SaleDetails>,
  options: { outbox: Outbox; taxRate?: Decimal; log: Log },
): Promise<void> {
  const made: { invoice: InvoiceCreated; traceId?: string }[] = [];
  // One bump of a store's counter for all its sales in the batch, in the
  // order of the stores: a statement per store, not per sale.
  const counts = new Map<string, number>();
  for (const { value } of deliveries) {
    counts.set(value.StoreId, (counts.get(value.StoreId) ?? 0) + 1);
  }
  const next = new Map<string, number>();
  for (const [storeId, count] of counts) {
    const row = await tx.get(
      `INSERT INTO invoice_sequence (store_id, last) VALUES (?, ?)
      ON CONFLICT (store_id) DO UPDATE SET last = invoice_sequence.last + ?
      RETURNING last`,
      storeId,
      count,
      count,
    );
    next.set(storeId, Number(row?.last) - count + 1);
  }
  // Numbered in the batch's order.
  for (const delivery of deliveries) {
    const sale = delivery.value;
    const seq = next.get(sale.StoreId)!;
    next.set(sale.StoreId, seq + 1);
    const number = `${sale.StoreId}-${String(seq).padStart(6, "0")}`;
    const invoice = makeInvoice(sale, { number, taxRate: options.taxRate });
    const body = encodeInvoice(invoice);
    await tx.run(
      `INSERT INTO invoice
      (number, store_id, till_id, seq, sale_id, mismatch, created_at, document)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      number,
      sale.StoreId,
      sale.TillId ?? "",
      seq,
      sale.SaleId,
      invoice.Mismatch ? 1 : 0,
      invoice.CreatedAt,
      body.toString("utf8"),
    );
    await options.outbox.add(tx, {
      exchange: SALES_EXCHANGE,
      routingKey: INVOICE_CREATED,
      messageId: `invoice:${number}`,
      body,
      mandatory: false,
      headers: trace?.headersOf(delivery),
    });
    made.push({ invoice, traceId: traceIdFor(trace, delivery) });
  }
  // Said once on disk, as the ack that follows: the next batch is handled
  // meanwhile. A failing sync is the consumer's to say.
  tx.onCommit(() => say(options.log, made));
}

function say(
  log: Log,
  invoices: { invoice: InvoiceCreated; traceId?: string }[],
): void {
  // One write for the batch: a line per sale costs a syscall each.
  log.lines(
    "info",
    invoices.map(({ invoice, traceId }) => ({
      message: invoiceLine(invoice),
      saleId: invoice.SaleId,
      store: invoice.StoreId,
      traceId,
    })),
  );
  for (const { invoice, traceId } of invoices) {
    if (invoice.Mismatch) {
      log.warn(
        `Invoice ${
          printable(invoice.InvoiceNumber)
        } is flagged: its lines add up to Rs.${invoice.Subtotal}, the sale says Rs.${invoice.TotalAmount}`,
        { saleId: invoice.SaleId, store: invoice.StoreId, traceId },
      );
    }
  }
}

/** Billing's queue: sales, by their key, invoiced in order of their stores. */
export function billingQueue(
  options: {
    outbox: Outbox;
    taxRate?: Decimal;
    log: Log;
    /** Records each invoiced sale of a till, for its day close. */
    reconciler?: Reconciler;
  },
): ConsumedQueue<SaleDetails> {
  const invoice = (work: Work<SaleDetails>) => invoiceSales(work, options);
  return {
    exchange: SALES_EXCHANGE,
    queue: QUEUE,
    routingKey: SALE_CREATED,
    decode: (body, message) => delivery(body, decodeSale, message),
    keyOf: ({ value }) => saleKey(value),
    timeOf: ({ value }) => value.Timestamp,
    middleware: [byStore],
    handle: options.reconciler?.recorded(ledgerSaleOf)(invoice) ?? invoice,
    spanAttributes: ({ value }) => saleSpanAttributes(value),
  };
}

async function serve(config: Config, taxRate?: Decimal): Promise<void> {
  const monitor = new Monitor(NAME);
  const store = await openInvoices(config);
  const outbox = await Outbox.open(store);
  const reconciler = await Reconciler.open(store, {
    service: NAME,
    outbox,
    monitor,
    ...closeSettings(config),
  });
  await runConsumer({
    name: NAME,
    monitor,
    config,
    store,
    outbox,
    queues: [
      billingQueue({ outbox, taxRate, log: monitor.log, reconciler }),
      reconciler.closeQueue(BILLING_CLOSE_QUEUE),
    ],
    background: (signal) => reconciler.run(signal),
  });
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

if (import.meta.main) {
  Deno.exit(
    await serviceMain(program, {
      serve: ({ config, own }) => serve(config, parseTaxRate(own.taxRate)),
      commands: {
        invoices: async (commandLine) => {
          // Loaded only here: a running Billing does not carry the listing.
          const { invoicesCommand } = await import("../tools/invoices.ts");
          await invoicesCommand(commandLine, openInvoices);
        },
      },
    }),
  );
}
