/**
 * The sale event, `SaleDetails` and `SaleItem` of the .NET services, and where
 * it travels. The zod schemas are the one source of the types; the JSON is
 * System.Text.Json's: PascalCase names, numbers for `int` and `decimal`.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { z } from "zod";
import { decimal, decode, encode } from "./codec.ts";
import { Decimal } from "./decimal.ts";

/** The durable topic exchange every sale is published to. */
export const SALES_EXCHANGE = "sales_exchange";
/** The routing key of a new sale. */
export const SALE_CREATED = "sale.created";
/** The demo shop's store, where a command names none. */
export const DEFAULT_STORE = "NEPAL-01";

/** Longest store id or SKU accepted: room for real codes, not for abuse. */
const MAX_CODE_LENGTH = 64;
/** Most items on one sale; a body of that size stays far below the limit. */
const MAX_ITEMS = 1000;

/** A store id or a SKU. */
export const code = z.string().trim().min(1).max(MAX_CODE_LENGTH);

/** A zod schema for a price: an exact decimal of zero or more. */
export function price(): z.ZodType<Decimal> {
  return decimal().refine((amount) => !amount.isNegative(), {
    error: "must not be negative",
  });
}

/**
 * One line of a sale: `SaleItem(string Sku, int Quantity)`, and the unit
 * price the POS charged (optional: the .NET POS sends none, and .NET
 * readers ignore it).
 */
export const SaleItemSchema = z.object({
  Sku: code,
  Quantity: z.int32().positive(),
  UnitPrice: price().optional(),
});

/** A sale: `SaleDetails(int SaleId, string StoreId, List<SaleItem> Items, DateTime Timestamp, decimal TotalAmount)`. */
export const SaleDetailsSchema = z.object({
  SaleId: z.int32().positive(),
  StoreId: code,
  Items: z.array(SaleItemSchema).min(1).max(MAX_ITEMS),
  // Kept as written: .NET sends up to 7 fractional digits, more than a Date holds.
  Timestamp: z.iso.datetime({ offset: true, local: true }),
  TotalAmount: price(),
});

/** One line of a sale. */
export type SaleItem = z.infer<typeof SaleItemSchema>;
/** A sale as it travels between the services. */
export type SaleDetails = z.infer<typeof SaleDetailsSchema>;

/**
 * Reads a sale from a message body.
 *
 * @throws {ContractError} when the body is not a valid sale.
 */
export function decodeSale(body: Uint8Array): SaleDetails {
  return decode(SaleDetailsSchema, body);
}

/**
 * Writes a sale as a message body, after checking it.
 *
 * @throws {ContractError} when the sale is not valid.
 */
export function encodeSale(sale: SaleDetails): Buffer {
  return encode(SaleDetailsSchema, sale);
}

/** What makes a sale unique: a store never reuses its sale ids. */
export function saleKey(sale: Pick<SaleDetails, "StoreId" | "SaleId">): string {
  return `${sale.StoreId}:${sale.SaleId}`;
}

export { ContractError } from "./codec.ts";
export { Decimal };
