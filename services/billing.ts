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
import { Decimal } from "../contracts/decimal.ts";
import {
  encodeInvoice,
  INVOICE_CREATED,
  type InvoiceCreated,
  InvoiceCreatedSchema,
} from "../contracts/invoice.ts";
import {
  BILLING_QUEUE,
  decodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
  saleSpanAttributes,
} from "../contracts/sale.ts";
import { decode } from "../contracts/codec.ts";
import { type Config, wholeNumber } from "../lib/config/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import {
  delivery,
  openStore,
  Outbox,
  schema,
  type Store,
} from "../lib/store/mod.ts";
import {
  jsonArrayLines,
  mapEach,
  parseCommandLine,
  runMain,
  writeLines,
} from "../lib/cli/mod.ts";
import { printable } from "../contracts/text.ts";
import { Monitor, traceIdFor } from "../lib/observability/mod.ts";
import {
  type ConsumedQueue,
  type Middleware,
  outboxCommand,
  runConsumer,
  type Work,
} from "../lib/host/mod.ts";
import type { Log } from "../lib/log/mod.ts";
import { program } from "../lib/programs/billing.ts";

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
async function openInvoices(config: Config, readOnly = false): Promise<Store> {
  const store = await openStore({
    name: NAME,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    readOnly,
  });
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
  await store.exec(schema(store, INVOICE_TABLE));
  await store.exec(schema(
    store,
    `CREATE TABLE IF NOT EXISTS invoice_sequence (
      store_id TEXT PRIMARY KEY,
      last INTEGER NOT NULL
    ) WITHOUT ROWID`,
  ));
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
  options: { outbox: Outbox; taxRate?: Decimal; log: Log },
): ConsumedQueue<SaleDetails> {
  return {
    exchange: SALES_EXCHANGE,
    queue: QUEUE,
    routingKey: SALE_CREATED,
    decode: (body, message) => delivery(body, decodeSale, message),
    keyOf: ({ value }) => saleKey(value),
    middleware: [byStore],
    handle: (work) => invoiceSales(work, options),
    spanAttributes: ({ value }) => saleSpanAttributes(value),
  };
}

async function serve(config: Config, taxRate?: Decimal): Promise<void> {
  const monitor = new Monitor(NAME);
  const store = await openInvoices(config);
  const outbox = await Outbox.open(store);
  await runConsumer({
    name: NAME,
    monitor,
    config,
    store,
    outbox,
    queues: [billingQueue({ outbox, taxRate, log: monitor.log })],
  });
}

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
  config: Config,
  filter: InvoiceFilter,
): AsyncGenerator<string> {
  let store: Store;
  try {
    store = await openInvoices(config, true);
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

/** One invoice as a customer would read it. */
function render(invoice: InvoiceCreated): string {
  const money = (amount: Decimal | undefined) =>
    amount === undefined ? "" : `Rs.${amount}`;
  const rows = invoice.Lines.map((line) =>
    `  ${printable(line.Sku).padEnd(16)} ${
      String(line.Quantity).padStart(5)
    } x ${money(line.UnitPrice).padStart(12)} ${
      money(line.LineTotal).padStart(14)
    }`
  );
  const out = [
    `Invoice ${printable(invoice.InvoiceNumber)}`,
    `Store ${printable(invoice.StoreId)}, ${
      saleLabel(invoice)
    }, ${invoice.CreatedAt}`,
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

async function printInvoices(
  config: Config,
  options: InvoiceFilter & { json: boolean },
): Promise<void> {
  const documents = readInvoices(config, options);
  if (options.json) {
    await writeLines(jsonArrayLines(documents));
  } else if (options.sale !== undefined) {
    const invoices = (await Array.fromAsync(documents)).map(readInvoice);
    if (invoices.length === 0) {
      throw new Error(`No invoice for sale #${options.sale}`);
    }
    console.log(invoices.map(render).join("\n\n"));
  } else {
    const count = await writeLines(
      mapEach(documents, (document) => {
        const invoice = readInvoice(document);
        return `${printable(invoice.InvoiceNumber)}  ${saleLabel(invoice)}  ${
          `Rs.${invoice.Total}`.padStart(14)
        }  ${invoice.Lines.length} line(s)  ${invoice.CreatedAt}${
          invoice.Mismatch ? "  FLAGGED" : ""
        }`;
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
  const commandLine = parseCommandLine(program);
  const { values, positionals, config } = commandLine;
  if (positionals[0] === "outbox") return outboxCommand(NAME, commandLine);
  if (positionals[0] === "invoices") {
    const sale = values.sale === undefined ? undefined : Number(values.sale);
    if (sale !== undefined && !Number.isSafeInteger(sale)) {
      throw new UsageError(`Invalid sale id "${values.sale}"`);
    }
    await printInvoices(config, {
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
  } else if (positionals.length === 0) {
    const taxRate = parseTaxRate(commandLine.own.taxRate);
    await serve(config, taxRate);
  } else {
    throw new UsageError(`Unknown command "${positionals[0]}": see --help`);
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
