/**
 * A file of sales to ring up: CSV (`receipt,sku,quantity[,store]`, the lines
 * of one receipt make one sale) or JSON Lines (one basket a line), checked
 * whole, row by row, before anything is sold from it.
 *
 * @module
 */
import { type Basket, checkBasket, priceItems, quantityOf } from "./basket.ts";
import type { Catalog } from "./catalog.ts";
import { errorMessage } from "./text.ts";
import { parseCsv } from "./csv.ts";
import { ContractError } from "./codec.ts";

/** A file of sales, checked row by row before anything is sent. */
export interface SalesFile {
  baskets: Basket[];
  /** One line per bad row: `sales.csv line 4: Unknown SKU "X"`. */
  problems: string[];
  /** One line per CSV receipt left out for a bad row. */
  skipped: string[];
}

/**
 * Reads sales from CSV (`receipt,sku,quantity[,store]`, the lines of one
 * receipt make one sale) or JSON Lines (one basket a line). A receipt with
 * any bad line is left out whole.
 */
export function parseSalesFile(
  text: string,
  path: string,
  catalog: Catalog,
): SalesFile {
  const baskets: Basket[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const check = (basket: Basket) => {
    priceItems(catalog, basket); // Unknown SKUs fail here, before sending.
    return basket;
  };
  if (/\.jsonl?$/i.test(path)) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        baskets.push(check(checkBasket(parseLine(line))));
      } catch (error) {
        problems.push(`${path} line ${i + 1}: ${errorMessage(error)}`);
      }
    });
    return { baskets, problems, skipped };
  }
  const receipts = new Map<
    string,
    { lines: number[]; basket: Basket; bad: boolean }
  >();
  const expected = {
    columns: ["receipt", "sku", "quantity"],
    what: "a sales file",
    header: "receipt,sku,quantity[,store]",
  };
  for (const { line, fields } of parseCsv(text, path, expected)) {
    const receipt = fields.receipt ?? "";
    const entry = receipts.get(receipt) ??
      {
        lines: [],
        basket: { StoreId: fields.store || undefined, Items: [] },
        bad: false,
      };
    receipts.set(receipt, entry);
    entry.lines.push(line);
    try {
      if (!receipt) throw new ContractError("no receipt");
      const [item] = checkBasket({
        Items: [{ Sku: fields.sku, Quantity: quantityOf(fields.quantity) }],
      }).Items;
      check({ Items: [item] });
      entry.basket.Items.push(item);
    } catch (error) {
      entry.bad = true;
      problems.push(`${path} line ${line}: ${errorMessage(error)}`);
    }
  }
  for (const [receipt, entry] of receipts) {
    if (entry.bad) {
      if (receipt) {
        skipped.push(
          `${path}: receipt "${receipt}" (${
            entry.lines.length === 1 ? "line" : "lines"
          } ${entry.lines.join(", ")}) is not sent`,
        );
      }
      continue;
    }
    try {
      baskets.push(check(checkBasket(entry.basket)));
    } catch (error) {
      problems.push(`${path}: receipt "${receipt}": ${errorMessage(error)}`);
    }
  }
  return { baskets, problems, skipped };
}

/** One line of JSON Lines. */
function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new ContractError(
      'not JSON: use one object a line, e.g. {"Items":[{"Sku":"MILK-1L","Quantity":2}]}',
    );
  }
}
