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
  STOCK_ADJUST,
  type StockAdjust,
} from "../contracts/stock.ts";
import type { Config } from "../lib/config/mod.ts";
import {
  type Delivery,
  delivery,
  openStore,
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
import { type Applied, Stock, type StockChange } from "./inventory/stock.ts";

const NAME = program.name;
const QUEUE = INVENTORY_QUEUE;

/** Inventory's command line, declared in `lib/programs/inventory.ts`. */
export { program };

/** The stock, its changes and what a change did. */
export { type Applied, Stock, type StockChange } from "./inventory/stock.ts";

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
