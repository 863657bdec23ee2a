/**
 * `deno task stock`, Inventory's command for people: the stock per store and
 * SKU (`--json` for machines), and counts and deliveries by hand (`set`,
 * `add`, `load` of an opening stock file), applied in one transaction and
 * announced as Inventory announces every change.
 *
 *     deno task stock [-- --json]                 print the stock
 *     deno task stock -- load <file.csv>          opening stock
 *     deno task stock -- set|add <sku> <qty> [--store s] [--threshold t]
 *
 * Run by `services/inventory.ts stock`, with Inventory's permissions.
 *
 * @module
 */
import { ContractError } from "../contracts/codec.ts";
import { code, DEFAULT_STORE } from "../contracts/sale.ts";
import type { StoreStockLevel } from "../contracts/stock.ts";
import { printable } from "../contracts/text.ts";
import {
  checkedOption,
  type CommandLine,
  jsonArrayLines,
  mapEach,
  readInput,
  writeLines,
} from "../lib/cli/mod.ts";
import { type Config, wholeNumber } from "../lib/config/mod.ts";
import { errorMessage, UsageError } from "../lib/core/mod.ts";
import { type Row, SqliteStore, type Store } from "../lib/store/mod.ts";
import type {
  Applied,
  openStock,
  Stock,
  StockChange,
} from "../services/inventory.ts";

/**
 * What the command takes of Inventory, handed over by the service (a static
 * import of the service here would wait on the service's own start).
 */
export interface InventoryParts {
  openStock: typeof openStock;
  openLevels(store: Store): Promise<Stock>;
}

/** Applies changes made by hand in one transaction, and announces them. */
function applyAll(
  store: Store,
  stock: Stock,
  changes: StockChange[],
): Promise<Applied[]> {
  return store.transaction(async (tx) => {
    await stock.lock(tx, changes);
    const results: Applied[] = [];
    for (const change of changes) results.push(await stock.apply(tx, change));
    await stock.announce(
      tx,
      changes.map((change, i) => ({ change, applied: results[i] })),
      {
        key: crypto.randomUUID(),
        Cause: changes.every((change) => change.set) ? "count" : "delivery",
      },
    );
    return results;
  });
}

const decoder = new TextDecoder();

/** The stock levels, in store and SKU order, as they are read. */
async function* readStock(
  parts: InventoryParts,
  config: Config,
  options: { store?: string; limit?: number },
): AsyncGenerator<StoreStockLevel> {
  let store: Store;
  try {
    store = await parts.openStock(config, true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // Nothing yet.
    throw error;
  }
  const level = (row: Row, text: (value: unknown) => string) => ({
    StoreId: text(row.store_id),
    Sku: text(row.sku),
    Quantity: Number(row.quantity),
    Threshold: row.threshold === null ? null : Number(row.threshold),
    Low: Number(row.low) === 1,
    UpdatedAt: String(row.updated_at),
  });
  try {
    if (store instanceof SqliteStore) {
      const exists = store.db.prepare(
        "SELECT 1 FROM sqlite_master WHERE name = 'stock_level'",
      ).get();
      if (!exists) return;
      // As bytes: SQLite's text reader stops at a NUL, which would hide the
      // rest of a code stored before codes were checked.
      const rows = store.db.prepare(`SELECT CAST(store_id AS BLOB) AS store_id,
        CAST(sku AS BLOB) AS sku, quantity, threshold, low, updated_at
        FROM stock_level WHERE (?1 IS NULL OR store_id = ?1)
        ORDER BY store_id, sku LIMIT ?2`).iterate(
        options.store ?? null,
        options.limit ?? -1,
      );
      for (const row of rows) {
        yield level(row, (value) => decoder.decode(value as Uint8Array));
      }
      return;
    }
    // PostgreSQL: a page at a time, after the last one read.
    let left = options.limit ?? Infinity;
    let after = { store: "", sku: "" };
    while (left > 0) {
      const page = Math.min(left, 1000);
      const rows = await store.all(
        `SELECT store_id, sku, quantity, threshold, low, updated_at
        FROM stock_level WHERE (store_id, sku) > (?, ?)
        AND (CAST(? AS TEXT) IS NULL OR store_id = ?)
        ORDER BY store_id, sku LIMIT ?`,
        after.store,
        after.sku,
        options.store ?? null,
        options.store ?? null,
        page,
      );
      for (const row of rows) yield level(row, String);
      if (rows.length < page) return;
      left -= rows.length;
      const last = rows[rows.length - 1];
      after = { store: String(last.store_id), sku: String(last.sku) };
    }
  } finally {
    await store.close();
  }
}

async function printStock(
  parts: InventoryParts,
  config: Config,
  options: { json: boolean; store?: string; limit?: number },
): Promise<void> {
  const levels = readStock(parts, config, options);
  if (options.json) {
    await writeLines(
      jsonArrayLines(mapEach(levels, (level) => JSON.stringify(level))),
    );
    return;
  }
  const row = (
    store: string,
    sku: string,
    quantity: string,
    low: string,
    flags: string,
  ) =>
    `${store.padEnd(12)} ${sku.padEnd(16)} ${quantity.padStart(8)} ${
      low.padStart(9)
    }  ${flags}`.trimEnd();
  let first = true;
  const count = await writeLines(mapEach(levels, (level) => {
    const flags = [
      level.Quantity < 0 ? "NEGATIVE" : "",
      level.Low ? "LOW" : "",
    ].filter(Boolean).join(" ");
    const line = row(
      printable(level.StoreId),
      printable(level.Sku),
      String(level.Quantity),
      level.Threshold === undefined || level.Threshold === null
        ? ""
        : String(level.Threshold),
      flags,
    );
    if (!first) return line;
    first = false;
    // The office's Stock page has the same columns.
    return `${row("Store", "SKU", "Quantity", "Low below", "")}\n${line}`;
  }));
  if (count === 0) console.log("No stock recorded yet.");
}

/**
 * Reads opening stock (`store,sku,quantity[,threshold]`).
 *
 * @throws {ContractError} listing every bad row by line number; nothing is
 * loaded then.
 */
async function parseOpeningStock(
  text: string,
  path: string,
): Promise<StockChange[]> {
  // Loaded only here: a running Inventory does not carry the CSV reader.
  const { parseCsv } = await import("../contracts/csv.ts");
  const changes: StockChange[] = [];
  const problems: string[] = [];
  for (
    const { line, fields } of parseCsv(text, path, {
      columns: ["store", "sku", "quantity"],
      what: "a stock file",
      header: "store,sku,quantity[,threshold]",
    })
  ) {
    try {
      changes.push({
        storeId: checkedOption(code, "store", fields.store),
        sku: checkedOption(code, "SKU", fields.sku),
        quantity: wholeNumber("quantity", fields.quantity, {
          min: -(2 ** 31 - 1),
        }),
        set: true,
        threshold: fields.threshold
          ? wholeNumber("threshold", fields.threshold)
          : undefined,
      });
    } catch (error) {
      problems.push(
        `line ${line}: ${errorMessage(error)}`,
      );
    }
  }
  if (problems.length > 0) {
    throw new ContractError(`Stock file "${path}": ${problems.join("; ")}`);
  }
  return changes;
}

async function changeStock(
  parts: InventoryParts,
  config: Config,
  command: string,
  args: string[],
  options: {
    store?: string;
    threshold?: string;
    new?: boolean;
    /** With load: only when no stock is recorded yet. */
    ifEmpty?: boolean;
  },
): Promise<void> {
  let changes: StockChange[];
  if (command === "load") {
    if (!args[0]) {
      throw new ContractError("load needs a file: stock -- load <file.csv>");
    }
    changes = await parseOpeningStock(await readInput(args[0]), args[0]);
  } else {
    const [sku, quantity] = args;
    changes = [{
      storeId: checkedOption(code, "store", options.store ?? DEFAULT_STORE),
      sku: checkedOption(code, "SKU", sku),
      quantity: wholeNumber("quantity", quantity, {
        min: command === "set" ? -(2 ** 31 - 1) : 1,
      }),
      set: command === "set",
      threshold: options.threshold === undefined
        ? undefined
        : wholeNumber("threshold", options.threshold),
    }];
  }
  const store = await parts.openStock(config);
  try {
    // Opened first: its table is there to ask, and a failing store is said.
    const levels = await parts.openLevels(store);
    if (command !== "load" && !options.new) await known(store, changes[0]);
    if (options.ifEmpty) {
      const any = await store.get("SELECT 1 AS found FROM stock_level LIMIT 1");
      if (any) {
        console.log(
          "Stock is recorded already: the opening stock is not loaded again.",
        );
        return;
      }
    }
    const results = await applyAll(store, levels, changes);
    if (options.ifEmpty) {
      console.log(
        `Loaded the opening stock: ${changes.length} SKU(s) in ${
          new Set(changes.map((change) => change.storeId)).size
        } store(s).`,
      );
      return;
    }
    changes.forEach((change, i) =>
      console.log(`${change.storeId} ${change.sku}: ${results[i].quantity}`)
    );
  } finally {
    await store.close();
  }
}

/**
 * Refuses a change to a SKU or store with no stock yet: a mistyped code
 * would start a new stock line. `--new` says it is meant.
 *
 * @throws {UsageError} naming what is unknown.
 */
async function known(store: Store, change: StockChange): Promise<void> {
  const rows = await store.all(
    "SELECT sku FROM stock_level WHERE store_id = ?",
    change.storeId,
  );
  if (rows.length === 0) {
    throw new UsageError(
      `Unknown store "${
        printable(change.storeId)
      }": no stock is recorded there; add --new to start it`,
    );
  }
  if (!rows.some((row) => row.sku === change.sku)) {
    throw new UsageError(
      `Unknown SKU "${printable(change.sku)}" in ${
        printable(change.storeId)
      }: add --new if it is new to the store`,
    );
  }
}

/**
 * Runs `stock [load|set|add ...]` of Inventory's command line, with the
 * parts of Inventory it works with.
 *
 * @throws {UsageError} for a command it does not know.
 */
export async function stockCommand(
  commandLine: CommandLine,
  args: string[],
  parts: InventoryParts,
): Promise<void> {
  const { values, positionals, config } = commandLine;
  if (args.length === 0) {
    await printStock(parts, config, {
      json: Boolean(values.json),
      store: values.store as string | undefined,
      limit: values.limit === undefined
        ? undefined
        : wholeNumber("limit", values.limit as string),
    });
  } else if (["load", "set", "add"].includes(args[0])) {
    await changeStock(parts, config, args[0], args.slice(1), {
      store: values.store as string | undefined,
      threshold: values.threshold as string | undefined,
      new: Boolean(values.new),
      ifEmpty: Boolean(values["if-empty"]),
    });
  } else {
    throw new UsageError(
      `Unknown command "${positionals.join(" ")}": see --help`,
    );
  }
}
