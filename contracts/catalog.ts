/**
 * The product catalog: SKU, name, unit price and currency, kept as CSV
 * (`contracts/catalog.csv` is the demo shop's). The POS prices every sale
 * from it.
 *
 * @module
 */
import { z } from "zod";
import { parseCsv } from "./csv.ts";
import { ContractError } from "./codec.ts";
import { Decimal } from "./decimal.ts";
import { describeIssue } from "./issue_words.ts";
import { code } from "./sale.ts";

export { DEMO_CATALOG } from "./names.ts";

/** One product. */
export const ProductSchema = z.object({
  sku: code,
  name: z.string().trim().min(1).max(120),
  unitPrice: z.string().transform((text, context) => {
    try {
      const price = Decimal.parse(text.trim());
      if (!price.isNegative()) return price;
    } catch {
      // Reported below.
    }
    context.addIssue({
      code: "custom",
      message: `unit price "${text}" is not a decimal of zero or more`,
    });
    return z.NEVER;
  }),
  currency: z.string().trim().regex(/^[A-Z]{3}$/, {
    error: "must be a 3-letter code such as NPR",
  }),
});

/** A product of the catalog. */
export type Product = z.infer<typeof ProductSchema>;

/** The catalog: products by SKU, all in one currency. */
export interface Catalog {
  /** Products by SKU, in file order. */
  products: Map<string, Product>;
  /** The one currency of every price. */
  currency: string;
}

/**
 * Reads a catalog CSV (`sku,name,unit_price,currency`).
 *
 * @throws {ContractError} listing every malformed row by line number.
 */
export function parseCatalog(text: string, source: string): Catalog {
  const products = new Map<string, Product>();
  const problems: string[] = [];
  for (
    const { line, fields } of parseCsv(text, source, {
      columns: ["sku", "name", "unit_price", "currency"],
      what: "a catalog",
      header: "sku,name,unit_price,currency",
    })
  ) {
    const result = ProductSchema.safeParse({
      sku: fields.sku,
      name: fields.name,
      unitPrice: fields.unit_price,
      currency: fields.currency,
    });
    if (!result.success) {
      const reasons = result.error.issues.map((issue) =>
        issue.code === "custom"
          ? issue.message
          : describeIssue(issue, { ...fields, unitPrice: fields.unit_price })
      );
      problems.push(`line ${line}: ${reasons.join("; ")}`);
    } else if (products.has(result.data.sku)) {
      problems.push(`line ${line}: SKU "${result.data.sku}" is listed twice`);
    } else {
      products.set(result.data.sku, result.data);
    }
  }
  const currencies = new Set([...products.values()].map((p) => p.currency));
  if (currencies.size > 1) {
    problems.push(`more than one currency: ${[...currencies].join(", ")}`);
  }
  if (problems.length > 0) {
    throw new ContractError(`Catalog "${source}": ${problems.join("; ")}`);
  }
  if (products.size === 0) {
    throw new ContractError(`Catalog "${source}" lists no products`);
  }
  return { products, currency: [...currencies][0] };
}

/** Edits (insertions, deletions, substitutions) from `a` to `b`. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}

/**
 * Up to three SKUs of the catalog close to `sku`, nearest first: a typo
 * or two away, or the same but for case, or one containing the other.
 */
export function nearSkus(catalog: Catalog, sku: string): string[] {
  const wanted = sku.toUpperCase();
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  return [...catalog.products.keys()]
    .map((candidate) => {
      const upper = candidate.toUpperCase();
      const near = upper.includes(wanted) || wanted.includes(upper)
        ? 1
        : distance(wanted, upper);
      return { candidate, near };
    })
    .filter(({ near }) => near <= limit)
    .sort((a, b) => a.near - b.near || a.candidate.localeCompare(b.candidate))
    .slice(0, 3)
    .map(({ candidate }) => candidate);
}
