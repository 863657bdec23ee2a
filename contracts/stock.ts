/**
 * `inventory.stock.low`: a (store, SKU) went below its low-stock threshold.
 * Sent once per crossing, not again until it has been restocked above it.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { z } from "zod";
import { decode, encode } from "./codec.ts";
import { code, tillId } from "./sale.ts";

/** The routing key of a low-stock event. */
export const STOCK_LOW = "inventory.stock.low";

/** A stock level that crossed below its threshold. */
export const StockLowSchema = z.object({
  StoreId: code,
  Sku: code,
  /**
   * The stock now; may be negative, and beyond a 32-bit int: several sales
   * of the largest quantity a sale may carry are taken off all the same.
   */
  Quantity: z.int(),
  Threshold: z.int32().nonnegative(),
  /** The sale that crossed it, when a sale did. */
  SaleId: z.int32().positive().optional(),
  /** The till of that sale. */
  TillId: tillId.optional(),
  At: z.iso.datetime({ offset: true }),
});

/** A low-stock event. */
export type StockLow = z.infer<typeof StockLowSchema>;

/**
 * Reads an `inventory.stock.low` body.
 *
 * @throws {ContractError} when it is not a valid event.
 */
export function decodeStockLow(body: Uint8Array): StockLow {
  return decode(StockLowSchema, body);
}

/**
 * Writes a low-stock event as a message body, after checking it.
 *
 * @throws {ContractError} when it is not valid.
 */
export function encodeStockLow(event: StockLow): Buffer {
  return encode(StockLowSchema, event);
}
