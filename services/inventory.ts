/**
 * Inventory: takes each sale's items off the stock of its store, kept in its
 * own SQLite file. Stock may go below zero: the goods are sold already, so
 * the count is shown as it is and flagged.
 *
 *     deno task inventory            consume inventory_queue
 *     deno task stock [--json]       print the stock
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
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

const NAME = "inventory";
/** The article's queue; the .NET Inventory service consumes it too. */
const QUEUE = "inventory_queue";

const HELP = `
Inventory: takes every sale on "${QUEUE}" off the stock of its store.

Usage:
  deno task inventory [-- options]          consume sales
  deno task stock [-- --json]               print the stock per store and SKU

Options:
  --json             with stock: one JSON document for machines`;

/** The stock of one SKU in one store. */
interface StockLevel {
  storeId: string;
  sku: string;
  quantity: number;
  updatedAt: string;
}

function openStock(config: Config, readOnly = false): DatabaseSync {
  const db = openDatabase({ dataDir: config.dataDir, name: NAME, readOnly });
  if (!readOnly) {
    db.exec(`CREATE TABLE IF NOT EXISTS stock (
      store_id TEXT NOT NULL,
      sku TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      updated_at TEXT NOT NULL,
      PRIMARY KEY (store_id, sku)
    ) WITHOUT ROWID`);
  }
  return db;
}

async function serve(config: Config): Promise<void> {
  const db = openStock(config);
  const inbox = new Inbox(db);
  const takeOff = db.prepare(
    `INSERT INTO stock (store_id, sku, quantity, updated_at)
    VALUES (?, ?, -?, ?)
    ON CONFLICT (store_id, sku) DO UPDATE
    SET quantity = quantity + excluded.quantity, updated_at = excluded.updated_at`,
  );

  function handle(sales: SaleDetails[]): void {
    const updated = transaction(db, () =>
      sales.filter((sale) => {
        if (!inbox.claim(saleKey(sale))) return false;
        const now = new Date().toISOString();
        for (const item of sale.Items) {
          takeOff.run(sale.StoreId, item.Sku, item.Quantity, now);
        }
        return true;
      }));
    for (const sale of updated) {
      console.log(
        `Inventory update for Sale #${sale.SaleId}, Items: ${sale.Items.length}`,
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

function readStock(config: Config): StockLevel[] {
  let db: DatabaseSync;
  try {
    db = openStock(config, true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return []; // Nothing yet.
    throw error;
  }
  try {
    return db.prepare("SELECT * FROM stock ORDER BY store_id, sku").all().map(
      (row) => ({
        storeId: String(row.store_id),
        sku: String(row.sku),
        quantity: Number(row.quantity),
        updatedAt: String(row.updated_at),
      }),
    );
  } finally {
    db.close();
  }
}

function printStock(config: Config, json: boolean): void {
  const levels = readStock(config);
  if (json) {
    console.log(JSON.stringify(levels, null, 2));
    return;
  }
  if (levels.length === 0) {
    console.log("No stock recorded yet.");
    return;
  }
  for (const level of levels) {
    const flag = level.quantity < 0 ? "  NEGATIVE" : "";
    console.log(
      `${level.storeId.padEnd(12)} ${level.sku.padEnd(16)} ${
        String(level.quantity).padStart(8)
      }${flag}`,
    );
  }
}

if (import.meta.main) {
  const { values, positionals, config } = parseCommandLine({
    name: NAME,
    help: HELP,
    options: { json: { type: "boolean" } },
  });
  try {
    if (positionals[0] === "stock") {
      printStock(config, Boolean(values.json));
    } else if (positionals.length === 0) {
      await serve(config);
    } else {
      fail(NAME, `Unknown command "${positionals[0]}": see --help`, 2);
    }
  } catch (error) {
    fail(NAME, error instanceof Error ? error.message : String(error));
  }
}
