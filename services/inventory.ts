/**
 * Inventory: takes each sale's items off the stock of its store, kept in its
 * own SQLite file. Stock may go below zero: the goods are sold already, so
 * the count is shown as it is and flagged. When a (store, SKU) falls below
 * its low-stock threshold, `inventory.stock.low` is published, once per
 * crossing. Each change is announced as `inventory.stock.changed`, with the
 * new levels. Deliveries and counts come by hand (`deno task stock`) or as
 * `inventory.stock.adjust` commands on a queue of their own.
 *
 *     deno task inventory                         consume inventory_queue
 *     deno task stock                             the stock, counts and
 *                                                 deliveries (tools/stock.ts)
 *
 * @module
 */
import {
  decodeSale,
  INVENTORY_CLOSE_QUEUE,
  INVENTORY_COMMAND_QUEUE,
  INVENTORY_QUEUE,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
  saleSpanAttributes,
} from "../contracts/sale.ts";
import {
  decodeStockAdjust,
  encodeStockChanged,
  encodeStockLow,
  STOCK_ADJUST,
  STOCK_CHANGED,
  STOCK_LOW,
  type StockAdjust,
  type StockChanged,
  type StockLevel,
} from "../contracts/stock.ts";
import type { Config } from "../lib/config/mod.ts";
import { RejectedError } from "../lib/core/mod.ts";
import {
  type Delivery,
  delivery,
  openStore,
  Outbox,
  schema,
  type Sql,
  type Store,
} from "../lib/store/mod.ts";
import { printable } from "../contracts/text.ts";
import type { Log, LogLine } from "../lib/log/mod.ts";
import {
  Monitor,
  type TraceBatch,
  traceIdFor,
} from "../lib/observability/mod.ts";
import {
  type ConsumedQueue,
  runConsumer,
  serviceMain,
  type Work,
} from "../lib/host/mod.ts";
import { program } from "../lib/programs/inventory.ts";
import {
  closeSettings,
  ledgerSaleOf,
  Reconciler,
} from "../lib/reconcile/mod.ts";

const NAME = program.name;
const QUEUE = INVENTORY_QUEUE;

/** Inventory's command line, declared in `lib/programs/inventory.ts`. */
export { program };

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
type Cause =
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
    await store.exec(schema(
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
    ));
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

/** The change a command asks for. */
function changeOf(command: StockAdjust): StockChange {
  return {
    storeId: command.StoreId,
    sku: command.Sku,
    quantity: command.Quantity,
    set: command.Mode === "set",
    threshold: command.Threshold,
  };
}

/** Inventory's store. */
export function openStock(config: Config, readOnly = false): Promise<Store> {
  return openStore({ name: NAME, ...config, readOnly });
}

/**
 * The line for a stock level that fell below its threshold or below zero
 * with a change, or undefined.
 */
function stockNotice(
  change: StockChange,
  applied: Applied,
): string | undefined {
  const what = `Stock of ${printable(change.sku)} in ${
    printable(change.storeId)
  } is ${applied.quantity}`;
  const sale = change.saleId === undefined
    ? ""
    : ` after Sale #${change.saleId}`;
  if (applied.fellNegative) {
    return `${what}: below zero${sale}; goods were sold that the count does not have`;
  }
  if (applied.fellLow) {
    return `${what}: below its threshold of ${applied.threshold}${sale}`;
  }
  return undefined;
}

/** A sale's changes of the stock: each item taken off its store's level. */
function changesOf(
  delivery: Delivery<SaleDetails>,
  trace?: TraceBatch<Delivery<SaleDetails>>,
): StockChange[] {
  return delivery.value.Items.map((item) => ({
    storeId: delivery.value.StoreId,
    sku: item.Sku,
    quantity: -item.Quantity,
    saleId: delivery.value.SaleId,
    tillId: delivery.value.TillId,
    headers: trace?.headersOf(delivery),
  }));
}

/**
 * Takes the sales the inbox admitted off the stock, in `tx`, and announces
 * each store's levels after the batch.
 */
export async function takeSales(
  { tx, deliveries: sales, trace }: Work<SaleDetails>,
  options: { stock: Stock; log: Log },
): Promise<void> {
  const { stock, log } = options;
  const done: LogLine[] = [];
  const notices: LogLine[] = [];
  const applied: { change: StockChange; applied: Applied }[] = [];
  for (const delivery of sales) {
    const sale = delivery.value;
    const fields = {
      saleId: sale.SaleId,
      store: sale.StoreId,
      traceId: traceIdFor(trace, delivery),
    };
    // A SKU that crossed a line is said once for the sale, at its level
    // after the whole sale (a sale may list a SKU many times).
    const crossed = new Map<
      string,
      { change: StockChange; applied: Applied }
    >();
    for (const change of changesOf(delivery, trace)) {
      const result = await stock.apply(tx, change);
      applied.push({ change, applied: result });
      const before = crossed.get(change.sku)?.applied;
      if (before || result.fellLow || result.fellNegative) {
        crossed.set(change.sku, {
          change,
          applied: {
            ...result,
            fellLow: result.fellLow || Boolean(before?.fellLow),
            fellNegative: result.fellNegative || Boolean(before?.fellNegative),
          },
        });
      }
    }
    for (const { change, applied } of crossed.values()) {
      notices.push({ message: stockNotice(change, applied)!, ...fields });
    }
    done.push({
      message:
        `Inventory update for Sale #${sale.SaleId}, Items: ${sale.Items.length}`,
      ...fields,
    });
  }
  // One announcement per store for the batch, with each SKU's level after
  // all of it: an event per sale would double what Inventory publishes, and
  // a reader wants the levels, not the steps.
  if (sales.length > 0) {
    const [first] = sales;
    const one = sales.length === 1;
    await stock.announce(tx, applied, {
      key: one ? saleKey(first.value) : crypto.randomUUID(),
      Cause: "sale",
      SaleId: one ? first.value.SaleId : undefined,
      TillId: one ? first.value.TillId : undefined,
      headers: one ? trace?.headersOf(first) : undefined,
    });
  }
  // Said once on disk, as the ack that follows: the next batch is handled
  // meanwhile. One write for the batch: a line per sale costs a syscall.
  tx.onCommit(() => {
    log.lines("info", done);
    log.lines("warn", notices);
  });
}

/** Applies the deliveries and counts the inbox admitted, in `tx`, each announced. */
export async function applyAdjustments(
  { tx, deliveries, trace }: Work<StockAdjust>,
  options: { stock: Stock; log: Log },
): Promise<void> {
  const { stock, log } = options;
  const done: LogLine[] = [];
  for (const delivery of deliveries) {
    const command = delivery.value;
    const change = changeOf(command);
    const applied = await stock.apply(tx, change);
    await stock.announce(tx, [{ change, applied }], {
      key: `adjust:${command.AdjustmentId}`,
      Cause: command.Mode === "set" ? "count" : "delivery",
      AdjustmentId: command.AdjustmentId,
      headers: trace?.headersOf(delivery),
    });
    done.push({
      message: `Stock of ${printable(command.Sku)} in ${
        printable(command.StoreId)
      } is ${applied.quantity} after a ${
        command.Mode === "set" ? "count" : "delivery"
      } of ${command.Quantity}${
        command.RequestedBy ? ` from ${printable(command.RequestedBy)}` : ""
      } (${command.AdjustmentId})`,
      store: command.StoreId,
      traceId: traceIdFor(trace, delivery),
    });
  }
  tx.onCommit(() => log.lines("info", done));
}

/**
 * Inventory's queues: sales, and the adjustments sent to it. The levels a
 * batch changes are locked before the inbox's keys, in one order, so that
 * two Inventories never wait on each other.
 */
export function inventoryQueues(
  options: {
    stock: Stock;
    log: Log;
    /** Records each sale of a till taken off, for its day close. */
    reconciler?: Reconciler;
  },
): [ConsumedQueue<SaleDetails>, ConsumedQueue<StockAdjust>] {
  const { stock } = options;
  const take = (work: Work<SaleDetails>) => takeSales(work, options);
  return [{
    exchange: SALES_EXCHANGE,
    queue: QUEUE,
    routingKey: SALE_CREATED,
    decode: (body, message) => delivery(body, decodeSale, message),
    keyOf: ({ value }) => saleKey(value),
    timeOf: ({ value }) => value.Timestamp,
    beforeInbox: [(next) => async (work) => {
      await stock.lock(work.tx, work.deliveries.flatMap((d) => changesOf(d)));
      await next(work);
    }],
    handle: options.reconciler?.recorded(ledgerSaleOf)(take) ?? take,
    spanAttributes: ({ value }) => saleSpanAttributes(value),
  }, {
    exchange: SALES_EXCHANGE,
    queue: INVENTORY_COMMAND_QUEUE,
    routingKey: STOCK_ADJUST,
    decode: (body, message) => delivery(body, decodeStockAdjust, message),
    keyOf: ({ value }) => `adjust:${value.AdjustmentId}`,
    timeOf: ({ value }) => value.RequestedAt,
    beforeInbox: [(next) => async (work) => {
      await stock.lock(work.tx, work.deliveries.map((d) => changeOf(d.value)));
      await next(work);
    }],
    handle: (work) => applyAdjustments(work, options),
    spanAttributes: ({ value }) => ({
      "shoppingapp.store_id": value.StoreId,
      "shoppingapp.adjustment_id": value.AdjustmentId,
    }),
  }];
}

async function serve(config: Config): Promise<void> {
  const monitor = new Monitor(NAME);
  const store = await openStock(config);
  const stock = await Stock.open(store);
  const reconciler = await Reconciler.open(store, {
    service: NAME,
    outbox: stock.outbox,
    monitor,
    ...closeSettings(config),
  });
  await runConsumer({
    name: NAME,
    monitor,
    config,
    store,
    outbox: stock.outbox,
    queues: [
      ...inventoryQueues({ stock, log: monitor.log, reconciler }),
      reconciler.closeQueue(INVENTORY_CLOSE_QUEUE),
    ],
    background: (signal) => reconciler.run(signal),
  });
}

if (import.meta.main) {
  Deno.exit(
    await serviceMain(program, {
      serve: ({ config }) => serve(config),
      commands: {
        stock: async (commandLine, args) => {
          // Loaded only here: a running Inventory does not carry the tool.
          const { stockCommand } = await import("../tools/stock.ts");
          await stockCommand(commandLine, args, {
            openStock,
            openLevels: (store) => Stock.open(store),
          });
        },
      },
    }),
  );
}
