/**
 * Inventory's stock: a level per store and SKU, the rule for low-stock
 * events, and the announcement of changed levels, each written inside the
 * caller's transaction with its events in the outbox.
 *
 * @module
 */
import { SALES_EXCHANGE } from "../../contracts/sale.ts";
import {
  encodeStockChanged,
  encodeStockLow,
  STOCK_CHANGED,
  STOCK_LOW,
  type StockChanged,
  type StockLevel,
} from "../../contracts/stock.ts";
import { RejectedError } from "../../lib/core/mod.ts";
import {
  createTables,
  Outbox,
  type Sql,
  type Store,
} from "../../lib/store/mod.ts";

/** A change of stock: a sale's item, a count or a delivery. */
export interface StockChange {
  storeId: string;
  sku: string;
  /** Added to the stock (negative for a sale), or the new count with `set`. */
  quantity: number;
  set?: boolean;
  threshold?: number;
  saleId?: number;
  tillId?: string;
  /** The trace an event it makes carries on. */
  headers?: Record<string, string>;
}

/** What a change did to a stock level. */
export interface Applied {
  /** The quantity now. */
  quantity: number;
  /** The threshold, when there is one. */
  threshold: number | null;
  /** Whether it fell below its threshold with this change. */
  fellLow: boolean;
  /** Whether it fell below zero with this change. */
  fellNegative: boolean;
}

/**
 * What made a set of changes, as the event that announces them says it;
 * `key`, unique per cause, makes the event's message id, and the event
 * carries the trace of `headers` on.
 */
export type Cause =
  & Pick<StockChanged, "Cause" | "SaleId" | "TillId" | "AdjustmentId">
  & { key: string; headers?: Record<string, string> };

/** The stock table and the rule for low-stock events. */
export class Stock {
  readonly #store: Store;
  /** Where events wait to be published. */
  readonly outbox: Outbox;

  private constructor(store: Store, outbox: Outbox) {
    this.#store = store;
    this.outbox = outbox;
  }

  /** Makes the table in `store` if it is not there. */
  static async open(store: Store): Promise<Stock> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS stock_level (
        store_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        quantity BIGINT NOT NULL,
        threshold INTEGER,
        low INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (store_id, sku)
      ) WITHOUT ROWID`,
    );
    return new Stock(store, await Outbox.open(store));
  }

  /**
   * Locks the rows of `changes`, in (store, SKU) order, making those not
   * there yet: several instances then apply changes to one row one after
   * another, and wait for each other in one order only, never in a circle.
   * SQLite's write transaction holds the whole file already.
   */
  async lock(tx: Sql, changes: StockChange[]): Promise<void> {
    if (this.#store.dialect !== "postgres") return;
    // NUL sorts first: the keys in (store, SKU) order.
    const keys = [
      ...new Map(changes.map((c) => [`${c.storeId}\u0000${c.sku}`, c])),
    ].toSorted(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([, c]) => c);
    const now = new Date().toISOString();
    for (const { storeId, sku } of keys) {
      await tx.run(
        `INSERT INTO stock_level (store_id, sku, quantity, low, updated_at)
        VALUES (?, ?, 0, 0, ?) ON CONFLICT (store_id, sku) DO NOTHING`,
        storeId,
        sku,
        now,
      );
      await tx.get(
        "SELECT 1 FROM stock_level WHERE store_id = ? AND sku = ? FOR UPDATE",
        storeId,
        sku,
      );
    }
  }

  /**
   * Applies a change inside the caller's transaction. Falling below the
   * threshold adds one `inventory.stock.low` event to the outbox; it is
   * not sent again until the stock is back at or above the threshold.
   */
  async apply(tx: Sql, change: StockChange): Promise<Applied> {
    const now = new Date().toISOString();
    // One statement: the new level, its threshold and whether it was low.
    // A sum beyond what JavaScript keeps exactly is not written.
    const row = await tx.get(
      `INSERT INTO stock_level
      (store_id, sku, quantity, threshold, low, updated_at) VALUES (?, ?, ?, ?, 0, ?)
      ON CONFLICT (store_id, sku) DO UPDATE SET
        quantity = CASE WHEN CAST(? AS INTEGER) = 1 THEN excluded.quantity
          ELSE stock_level.quantity + excluded.quantity END,
        threshold = COALESCE(excluded.threshold, stock_level.threshold),
        updated_at = excluded.updated_at
      WHERE CAST(? AS INTEGER) = 1
        OR abs(stock_level.quantity + excluded.quantity) <= ${Number.MAX_SAFE_INTEGER}
      RETURNING quantity, threshold, low`,
      change.storeId,
      change.sku,
      change.quantity,
      change.threshold ?? null,
      now,
      change.set ? 1 : 0,
      change.set ? 1 : 0,
    );
    if (!row) {
      throw new RejectedError(
        `Stock of "${change.sku}" in "${change.storeId}" would be beyond the largest whole number kept exactly`,
      );
    }
    const quantity = Number(row.quantity);
    const threshold = row.threshold === null ? null : Number(row.threshold);
    const low = Number(row.low) === 1;
    const fellLow = threshold !== null && quantity < threshold && !low;
    if (fellLow) {
      await tx.run(
        "UPDATE stock_level SET low = 1 WHERE store_id = ? AND sku = ?",
        change.storeId,
        change.sku,
      );
      await this.outbox.add(tx, {
        exchange: SALES_EXCHANGE,
        routingKey: STOCK_LOW,
        headers: change.headers,
        messageId:
          `stock-low:${change.storeId}:${change.sku}:${now}:${quantity}`,
        mandatory: false,
        body: encodeStockLow({
          StoreId: change.storeId,
          Sku: change.sku,
          Quantity: quantity,
          Threshold: threshold,
          SaleId: change.saleId,
          TillId: change.tillId,
          At: now,
        }),
      });
    } else if (low && (threshold === null || quantity >= threshold)) {
      // Restocked: the next fall below is a new crossing.
      await tx.run(
        "UPDATE stock_level SET low = 0 WHERE store_id = ? AND sku = ?",
        change.storeId,
        change.sku,
      );
    }
    // A sale takes a known amount: it fell below zero with this change when
    // the level was at or above zero before it; a count just is.
    const before = change.set ? 0 : quantity - change.quantity;
    return {
      quantity,
      threshold,
      fellLow,
      fellNegative: quantity < 0 && before >= 0,
    };
  }

  /**
   * Adds `inventory.stock.changed` to the outbox inside the caller's
   * transaction: the new level of each SKU `changes` touched, one event per
   * store, after all of them.
   */
  async announce(
    tx: Sql,
    changes: { change: StockChange; applied: Applied }[],
    cause: Cause,
  ): Promise<void> {
    // Each store's levels, the last change of a SKU winning.
    const stores = Map.groupBy(changes, ({ change }) => change.storeId);
    const { key, headers, ...said } = cause;
    const at = new Date().toISOString();
    for (const [storeId, changed] of stores) {
      const levels = new Map<string, StockLevel>(
        changed.map(({ change, applied }) => [change.sku, {
          Sku: change.sku,
          Quantity: applied.quantity,
          Threshold: applied.threshold,
          Low: applied.threshold !== null &&
            applied.quantity < applied.threshold,
        }]),
      );
      await this.outbox.add(tx, {
        exchange: SALES_EXCHANGE,
        routingKey: STOCK_CHANGED,
        headers,
        messageId: stores.size === 1
          ? `stock-changed:${key}`
          : `stock-changed:${key}:${storeId}`,
        mandatory: false,
        body: encodeStockChanged({
          StoreId: storeId,
          Levels: [...levels.values()],
          ...said,
          At: at,
        }),
      });
    }
  }
}
