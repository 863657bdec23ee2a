/**
 * The back office's read model: what its pages show, made from the events
 * it consumes and from nothing else. Each event is applied once (the
 * office's inbox), inside the transaction that records it; totals are kept
 * as they come, so that a page reads a few rows, whatever the day's sales.
 *
 * @module
 */
import { Decimal } from "../../contracts/decimal.ts";
import {
  decodeInvoice,
  INVOICE_CREATED,
  type InvoiceCreated,
} from "../../contracts/invoice.ts";
import { SALE_CREATED } from "../../contracts/sale.ts";
import { STOCK_CHANGED, type StoreStockLevel } from "../../contracts/stock.ts";
import type { OfficeDelivery } from "./events.ts";
import {
  TILL_CLOSED,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
} from "../../contracts/till.ts";
import {
  applyAnswer,
  applyClose,
  applyUntilled,
  type DayClose,
  latestCloses,
  makeCloseTables,
  type OpenDay,
  openDays,
  openDiscrepancies,
  type Untilled,
  untilled,
} from "./closes.ts";
import { createTables, type Sql, type Store } from "../../lib/store/mod.ts";
import type { FeedEntry, InvoiceRow, InvoiceSearch, Summary } from "./views.ts";

/** Longest body text kept in the feed, in characters. */
const FEED_TEXT = 2000;

/**
 * An instant in UTC, `2026-11-27T10:46:12.123Z`, as it is when it cannot be
 * read: its day is its first 10 characters, its minute its first 16.
 */
function utc(instant: string): string {
  const time = new Date(instant);
  return Number.isNaN(time.getTime()) ? instant : time.toISOString();
}

const DAY = 10;

const MINUTE = 16;

/** Lines the feed keeps; older ones go as new ones come. */
export const FEED_LINES = 500;

/** The read model in the office's store. */
export class OfficeModel {
  readonly #store: Store;
  #trimmedAt = 0;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Makes the tables in `store` if they are not there. */
  static async open(store: Store): Promise<OfficeModel> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS office_day (
        day TEXT NOT NULL,
        store_id TEXT NOT NULL,
        sales BIGINT NOT NULL,
        revenue TEXT NOT NULL,
        invoices BIGINT NOT NULL,
        PRIMARY KEY (day, store_id)
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_minute (
        minute TEXT PRIMARY KEY,
        sales BIGINT NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_invoice (
        number TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        till_id TEXT NOT NULL,
        sale_id BIGINT NOT NULL,
        total TEXT NOT NULL,
        created_at TEXT NOT NULL,
        document TEXT NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_stock (
        store_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity BIGINT NOT NULL,
        threshold INTEGER,
        low INTEGER NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (store_id, sku)
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_adjustment (
        id TEXT PRIMARY KEY,
        store_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity BIGINT NOT NULL,
        applied_at TEXT NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_feed (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        text TEXT NOT NULL
      )`,
    );
    await store.exec(
      "CREATE INDEX IF NOT EXISTS office_invoice_created ON office_invoice (created_at)",
    );
    await makeCloseTables(store);
    return new OfficeModel(store);
  }

  /**
   * Applies an event inside `tx`, and adds it to the feed.
   *
   * @returns the feed's new line.
   */
  async apply(tx: Sql, delivery: OfficeDelivery): Promise<FeedEntry> {
    const event = delivery.value;
    if (event.kind === SALE_CREATED) {
      const sale = event.value;
      const at = utc(sale.Timestamp);
      await this.#addToDay(tx, at.slice(0, DAY), sale.StoreId, {
        sales: 1,
        revenue: sale.TotalAmount,
      });
      await tx.run(
        `INSERT INTO office_minute (minute, sales) VALUES (?, 1)
        ON CONFLICT (minute) DO UPDATE SET sales = office_minute.sales + 1`,
        at.slice(0, MINUTE),
      );
      // No till, no close: counted apart, for the Day close page.
      if (sale.TillId === undefined) {
        await applyUntilled(tx, at.slice(0, DAY), sale.StoreId);
      }
    } else if (event.kind === TILL_CLOSED) {
      await applyClose(tx, event.value);
    } else if (
      event.kind === TILL_RECONCILED || event.kind === TILL_DISCREPANCY
    ) {
      await applyAnswer(tx, event.value);
    } else if (event.kind === INVOICE_CREATED) {
      const invoice = event.value;
      await tx.run(
        `INSERT INTO office_invoice
        (number, store_id, till_id, sale_id, total, created_at, document)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING`,
        invoice.InvoiceNumber,
        invoice.StoreId,
        invoice.TillId ?? "",
        invoice.SaleId,
        invoice.Total.toString(),
        invoice.CreatedAt,
        delivery.text,
      );
      await this.#addToDay(
        tx,
        utc(invoice.CreatedAt).slice(0, DAY),
        invoice.StoreId,
        {
          invoices: 1,
        },
      );
    } else if (event.kind === STOCK_CHANGED) {
      const { StoreId, Levels, At, AdjustmentId } = event.value;
      if (AdjustmentId !== undefined) {
        // For the Stock page that sent it: applied, and to what.
        await tx.run(
          `INSERT INTO office_adjustment (id, store_id, sku, quantity, applied_at)
          VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
          AdjustmentId,
          StoreId,
          Levels[0].Sku,
          Levels[0].Quantity,
          At,
        );
      }
      for (const level of Levels) {
        // Two Inventories may announce one SKU out of order: the later wins.
        await tx.run(
          `INSERT INTO office_stock
          (store_id, sku, quantity, threshold, low, updated_at)
          VALUES (?, ?, ?, ?, ?, ?)
          ON CONFLICT (store_id, sku) DO UPDATE SET
            quantity = excluded.quantity, threshold = excluded.threshold,
            low = excluded.low, updated_at = excluded.updated_at
          WHERE excluded.updated_at >= office_stock.updated_at`,
          StoreId,
          level.Sku,
          level.Quantity,
          level.Threshold,
          level.Low ? 1 : 0,
          At,
        );
      }
    }
    const at = new Date().toISOString();
    const text = delivery.text.slice(0, FEED_TEXT);
    const row = await tx.get(
      "INSERT INTO office_feed (at, routing_key, text) VALUES (?, ?, ?) RETURNING id",
      at,
      event.kind,
      text,
    );
    return { Id: Number(row?.id), At: at, RoutingKey: event.kind, Text: text };
  }

  /** The latest closes, each with every service's answer so far. */
  closes(): Promise<DayClose[]> {
    return latestCloses(this.#store);
  }

  /** The closes a service answered with a discrepancy it has not mended. */
  discrepancies(): Promise<DayClose[]> {
    return openDiscrepancies(this.#store);
  }

  /** Tills with sales since their last close. */
  openDays(): Promise<OpenDay[]> {
    return openDays(this.#store);
  }

  /** Sales with no till, which no close covers. */
  untilled(): Promise<Untilled[]> {
    return untilled(this.#store);
  }

  /** Adds to a store's day, making its row when it is the first. */
  async #addToDay(
    tx: Sql,
    day: string,
    storeId: string,
    add: { sales?: number; revenue?: Decimal; invoices?: number },
  ): Promise<void> {
    await tx.run(
      `INSERT INTO office_day (day, store_id, sales, revenue, invoices)
      VALUES (?, ?, 0, '0', 0) ON CONFLICT (day, store_id) DO NOTHING`,
      day,
      storeId,
    );
    // Revenue is an exact decimal, which neither database sums as text:
    // read, added here, written back, under the row's lock.
    const row = await tx.get(
      `SELECT revenue FROM office_day WHERE day = ? AND store_id = ?${
        this.#store.dialect === "postgres" ? " FOR UPDATE" : ""
      }`,
      day,
      storeId,
    );
    const revenue = add.revenue
      ? Decimal.parse(String(row?.revenue ?? "0")).add(add.revenue).toString()
      : String(row?.revenue ?? "0");
    await tx.run(
      `UPDATE office_day SET sales = sales + ?, invoices = invoices + ?,
      revenue = ? WHERE day = ? AND store_id = ?`,
      add.sales ?? 0,
      add.invoices ?? 0,
      revenue,
      day,
      storeId,
    );
  }

  /**
   * Drops feed lines beyond {@linkcode FEED_LINES} and minutes older than a
   * day, at most every 10 s: each batch need not.
   */
  async trim(tx: Sql): Promise<void> {
    if (Date.now() - this.#trimmedAt < 10_000) return;
    this.#trimmedAt = Date.now();
    await tx.run(
      `DELETE FROM office_feed WHERE id <= (SELECT MAX(id) FROM office_feed) - ${FEED_LINES}`,
    );
    await tx.run(
      "DELETE FROM office_minute WHERE minute < ?",
      new Date(Date.now() - 86_400_000).toISOString().slice(0, MINUTE),
    );
  }

  /** The totals of `day` (UTC), and the sales per minute of the last hour. */
  async summary(day: string, now = new Date()): Promise<Summary> {
    const rows = await this.#store.all(
      "SELECT store_id, sales, revenue, invoices FROM office_day WHERE day = ? ORDER BY store_id",
      day,
    );
    const stores = rows.map((row) => ({
      StoreId: String(row.store_id),
      Sales: Number(row.sales),
      Invoices: Number(row.invoices),
      Revenue: String(row.revenue),
    }));
    const flags = await this.#store.get(
      `SELECT SUM(CASE WHEN quantity < 0 THEN 1 ELSE 0 END) AS negative,
      SUM(CASE WHEN low = 1 AND quantity >= 0 THEN 1 ELSE 0 END) AS low
      FROM office_stock`,
    );
    const minutes: string[] = [];
    for (let i = 59; i >= 0; i--) {
      minutes.push(
        new Date(now.getTime() - i * 60_000).toISOString().slice(0, MINUTE),
      );
    }
    const counted = new Map(
      (await this.#store.all(
        "SELECT minute, sales FROM office_minute WHERE minute >= ? ORDER BY minute",
        minutes[0],
      )).map((row) => [String(row.minute), Number(row.sales)]),
    );
    return {
      Day: day,
      Sales: stores.reduce((sum, store) => sum + store.Sales, 0),
      Invoices: stores.reduce((sum, store) => sum + store.Invoices, 0),
      Revenue: stores.reduce(
        (sum, store) => sum.add(Decimal.parse(store.Revenue)),
        Decimal.of(0n),
      ).toString(),
      Stores: stores,
      LowStock: Number(flags?.low ?? 0),
      NegativeStock: Number(flags?.negative ?? 0),
      PerMinute: minutes.map((minute) => ({
        Minute: minute,
        Sales: counted.get(minute) ?? 0,
      })),
    };
  }

  /** A page of invoices, newest first, and whether there are more. */
  async invoices(
    search: InvoiceSearch,
  ): Promise<{ rows: InvoiceRow[]; more: boolean }> {
    const { page = 1, pageSize = 25 } = search;
    // Before the next day: the days given are whole.
    const to = search.to === undefined ? undefined : new Date(
      new Date(search.to).getTime() + 86_400_000,
    ).toISOString().slice(0, DAY);
    const rows = await this.#store.all(
      `SELECT number, store_id, till_id, sale_id, total, created_at
      FROM office_invoice
      WHERE (CAST(? AS TEXT) IS NULL OR store_id = ?)
      AND (CAST(? AS BIGINT) IS NULL OR sale_id = CAST(? AS BIGINT))
      AND (CAST(? AS TEXT) IS NULL OR created_at >= ?)
      AND (CAST(? AS TEXT) IS NULL OR created_at < ?)
      ORDER BY created_at DESC, number DESC LIMIT ? OFFSET ?`,
      ...[search.store, search.sale, search.from, to].flatMap((value) => [
        value ?? null,
        value ?? null,
      ]),
      pageSize + 1,
      (page - 1) * pageSize,
    );
    return {
      rows: rows.slice(0, pageSize).map((row) => ({
        Number: String(row.number),
        StoreId: String(row.store_id),
        TillId: String(row.till_id),
        SaleId: Number(row.sale_id),
        Total: String(row.total),
        CreatedAt: String(row.created_at),
      })),
      more: rows.length > pageSize,
    };
  }

  /** One invoice, as Billing announced it; undefined when there is none. */
  async invoice(number: string): Promise<InvoiceCreated | undefined> {
    const row = await this.#store.get(
      "SELECT document FROM office_invoice WHERE number = ?",
      number,
    );
    return row
      ? decodeInvoice(new TextEncoder().encode(String(row.document)))
      : undefined;
  }

  /**
   * An adjustment Inventory applied, with the level it made; undefined
   * until then.
   */
  async adjustment(
    id: string,
  ): Promise<{ StoreId: string; Sku: string; Quantity: number } | undefined> {
    const row = await this.#store.get(
      "SELECT store_id, sku, quantity FROM office_adjustment WHERE id = ?",
      id,
    );
    return row && {
      StoreId: String(row.store_id),
      Sku: String(row.sku),
      Quantity: Number(row.quantity),
    };
  }

  /** The stock levels, in store and SKU order. */
  async stock(store?: string): Promise<StoreStockLevel[]> {
    const rows = await this.#store.all(
      `SELECT store_id, sku, quantity, threshold, low, updated_at
      FROM office_stock WHERE (CAST(? AS TEXT) IS NULL OR store_id = ?)
      ORDER BY store_id, sku`,
      store ?? null,
      store ?? null,
    );
    return rows.map((row) => ({
      StoreId: String(row.store_id),
      Sku: String(row.sku),
      Quantity: Number(row.quantity),
      Threshold: row.threshold === null ? null : Number(row.threshold),
      Low: Number(row.low) === 1,
      UpdatedAt: String(row.updated_at),
    }));
  }

  /** The feed's last `limit` lines, newest first; only those after the line `after`, when given. */
  async feed(limit = 100, after = 0): Promise<FeedEntry[]> {
    const rows = await this.#store.all(
      "SELECT id, at, routing_key, text FROM office_feed WHERE id > ? ORDER BY id DESC LIMIT ?",
      after,
      limit,
    );
    return rows.map((row) => ({
      Id: Number(row.id),
      At: String(row.at),
      RoutingKey: String(row.routing_key),
      Text: String(row.text),
    }));
  }
}
