/**
 * A basket: what a customer takes to the till, SKUs and quantities not yet
 * priced, as `--items`, a sales file or a random shopper gives it; and how
 * the catalog prices it into the items of a sale.
 *
 * @module
 */
import { z } from "zod";
import { type Catalog, nearSkus } from "./catalog.ts";
import { ContractError } from "./codec.ts";
import { Decimal } from "./decimal.ts";
import { describeIssues } from "./issue_words.ts";
import { printable } from "./text.ts";
import { code, type SaleItem } from "./sale.ts";

/** The checks of a basket: as for a sale's items, without prices. */
export const BasketSchema = z.object({
  StoreId: code.optional(),
  Items: z.array(z.object({
    Sku: code,
    Quantity: z.int32().positive(),
  })).min(1).max(1000),
});

/** A basket to ring up. */
export type Basket = z.infer<typeof BasketSchema>;

/**
 * Checks a basket read from anywhere.
 *
 * @throws {ContractError} listing every problem on one line.
 */
export function checkBasket(value: unknown): Basket {
  const result = BasketSchema.safeParse(value);
  if (!result.success) {
    throw new ContractError(describeIssues(result.error, value));
  }
  return result.data;
}

/**
 * Reads `--items "MILK-1L:2,BREAD-WHITE:1"`.
 *
 * @throws {ContractError} naming the part that is not `SKU:quantity`.
 */
export function parseItems(text: string): Basket {
  const Items = text.split(",").map((part) => {
    const match = /^\s*([^:\s]+)\s*:\s*(\S*)\s*$/.exec(part);
    if (!match) {
      throw new ContractError(
        `Invalid item "${part.trim()}": use SKU:quantity, e.g. MILK-1L:2`,
      );
    }
    try {
      return { Sku: match[1], Quantity: quantityOf(match[2]) };
    } catch (error) {
      throw new ContractError(
        `Invalid item "${part.trim()}": ${(error as Error).message}`,
      );
    }
  });
  return checkBasket({ Items });
}

/**
 * A quantity as typed: whole digits (a sign allowed, so that the schema
 * says a negative one must be at least 1).
 *
 * @throws {ContractError} `quantity "x" is not a whole number`.
 */
export function quantityOf(text: string | undefined): number {
  const trimmed = text?.trim() ?? "";
  if (!/^[-+]?\d+$/.test(trimmed)) {
    throw new ContractError(
      trimmed === ""
        ? "quantity is missing"
        : `quantity "${printable(trimmed)}" is not a whole number`,
    );
  }
  return Number(trimmed);
}

/**
 * Prices a basket exactly: each item carries its unit price, and the total
 * is their sum times the quantities, in decimal.
 *
 * @throws {ContractError} for a SKU not in the catalog.
 */
export function priceItems(catalog: Catalog, basket: Basket): {
  items: SaleItem[];
  total: Decimal;
} {
  let total = Decimal.of(0n, 2);
  const items = basket.Items.map(({ Sku, Quantity }) => {
    const product = catalog.products.get(Sku);
    if (!product) {
      const near = nearSkus(catalog, Sku);
      throw new ContractError(
        `Unknown SKU "${printable(Sku)}"${
          near.length > 0 ? `: did you mean ${near.join(", ")}?` : ""
        }`,
      );
    }
    total = total.add(product.unitPrice.times(Quantity));
    return { Sku, Quantity, UnitPrice: product.unitPrice };
  });
  return { items, total };
}

/** A basket a shopper might bring: one to five products, mostly one or two of each. */
export function randomBasket(catalog: Catalog): Basket {
  const skus = [...catalog.products.keys()];
  const size = 1 + Math.floor(Math.random() * 5);
  const chosen = new Set<string>();
  while (chosen.size < Math.min(size, skus.length)) {
    chosen.add(skus[Math.floor(Math.random() * skus.length)]);
  }
  return {
    Items: [...chosen].map((Sku) => ({
      Sku,
      Quantity: 1 + Math.floor(Math.random() ** 3 * 4),
    })),
  };
}
