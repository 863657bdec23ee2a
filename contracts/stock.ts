/**
 * Inventory's messages. Events: `inventory.stock.low`, a (store, SKU) went
 * below its low-stock threshold, sent once per crossing, not again until it
 * has been restocked above it; `inventory.stock.changed`, the new levels
 * after each change. A command: `inventory.stock.adjust`, a delivery or a
 * count that another service asks Inventory to apply.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { z } from "zod";
import { decode, encode } from "./codec.ts";
import {
  formatTest,
  isCode,
  isPositiveInt32,
  isRecord,
  isTillId,
} from "./fast_check.ts";
import { code, tillId } from "./sale.ts";

export { STOCK_ADJUST, STOCK_CHANGED, STOCK_LOW } from "./names.ts";

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

/** What changed a stock: a sale, a delivery (add) or a count (set). */
export const StockCauseSchema = z.enum(["sale", "delivery", "count"]);

/** A threshold: none, or a whole number of zero or more. */
const threshold = z.int32().nonnegative().nullable();

/** The level of one SKU after a change. */
export const StockLevelSchema = z.object({
  Sku: code,
  /** May be negative, and beyond a 32-bit int, as in `inventory.stock.low`. */
  Quantity: z.int(),
  Threshold: threshold,
  /** Whether it is below its threshold. */
  Low: z.boolean(),
});

/** The level of one SKU after a change. */
export type StockLevel = z.infer<typeof StockLevelSchema>;

/**
 * One SKU's stock in one store, as `deno task stock -- --json` prints it
 * and the back office's `/api/stock` serves it.
 */
export interface StoreStockLevel extends StockLevel {
  StoreId: string;
  /** When it last changed. */
  UpdatedAt: string;
}

/** The levels of one store after one change: one sale, one adjustment. */
export const StockChangedSchema = z.object({
  StoreId: code,
  Levels: z.array(StockLevelSchema).min(1),
  Cause: StockCauseSchema,
  /** The sale that changed them, when a sale did. */
  SaleId: z.int32().positive().optional(),
  /** The till of that sale. */
  TillId: tillId.optional(),
  /** The adjustment that changed them, when a command did. */
  AdjustmentId: z.string().optional(),
  At: z.iso.datetime({ offset: true }),
});

/** New stock levels. */
export type StockChanged = z.infer<typeof StockChangedSchema>;

/**
 * Reads an `inventory.stock.changed` body.
 *
 * @throws {ContractError} when it is not a valid event.
 */
export function decodeStockChanged(body: Uint8Array): StockChanged {
  return decode(StockChangedSchema, body, fastStockChanged);
}

const CAUSES: readonly unknown[] = StockCauseSchema.options;
const AtFormat = formatTest(StockChangedSchema.shape.At);

/** A threshold as the schema takes it: null, or a whole 32-bit number of zero or more. */
function isThreshold(value: unknown): value is number | null {
  return value === null || value === 0 || isPositiveInt32(value);
}

/**
 * The event zod would make of `value`, by plain checks; undefined when that
 * takes zod (`fast_check.ts`).
 */
export function fastStockChanged(value: unknown): StockChanged | undefined {
  if (!isRecord(value)) return undefined;
  const { StoreId, Levels, Cause, SaleId, TillId, AdjustmentId, At } = value;
  if (
    !isCode(StoreId) || !Array.isArray(Levels) || Levels.length < 1 ||
    !CAUSES.includes(Cause) ||
    (SaleId !== undefined && !isPositiveInt32(SaleId)) ||
    (TillId !== undefined && !isTillId(TillId)) ||
    (AdjustmentId !== undefined && typeof AdjustmentId !== "string") ||
    typeof At !== "string" || !AtFormat(At)
  ) return undefined;
  const levels: StockLevel[] = [];
  for (const level of Levels) {
    if (
      !isRecord(level) || !isCode(level.Sku) ||
      !Number.isSafeInteger(level.Quantity) || !isThreshold(level.Threshold) ||
      typeof level.Low !== "boolean"
    ) return undefined;
    levels.push({
      Sku: level.Sku,
      Quantity: level.Quantity as number,
      Threshold: level.Threshold,
      Low: level.Low,
    });
  }
  return {
    StoreId,
    Levels: levels,
    Cause: Cause as StockChanged["Cause"],
    ...(SaleId === undefined ? {} : { SaleId }),
    ...(TillId === undefined ? {} : { TillId }),
    ...(AdjustmentId === undefined ? {} : { AdjustmentId }),
    At,
  };
}

/**
 * Writes new stock levels as a message body, after checking them.
 *
 * @throws {ContractError} when they are not valid.
 */
export function encodeStockChanged(event: StockChanged): Buffer {
  return encode(StockChangedSchema, event, { fast: fastStockChanged });
}

/** The largest count a command may set, either way. */
const MAX_COUNT = 2 ** 31 - 1;

/**
 * A delivery (`add`: that many more, at least 1) or a count (`set`: the
 * stock is now that many), as `deno task stock -- add|set` makes by hand.
 */
export const StockAdjustSchema = z.object({
  /** Unique per command: a command sent twice is applied once. */
  AdjustmentId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
    error: "must be 1 to 64 letters, digits, - or _",
  }),
  StoreId: code,
  Sku: code,
  Mode: z.enum(["add", "set"]),
  Quantity: z.int().min(-MAX_COUNT).max(MAX_COUNT),
  Threshold: z.int32().nonnegative().optional(),
  /** Who asked, for the record: `office`. */
  RequestedBy: z.string().max(64).optional(),
  RequestedAt: z.iso.datetime({ offset: true }),
}).refine((command) => command.Mode === "set" || command.Quantity >= 1, {
  error: "a delivery (add) must bring at least 1",
  path: ["Quantity"],
});

/** A command to change a stock. */
export type StockAdjust = z.infer<typeof StockAdjustSchema>;

/**
 * Reads an `inventory.stock.adjust` body.
 *
 * @throws {ContractError} when it is not a valid command.
 */
export function decodeStockAdjust(body: Uint8Array): StockAdjust {
  return decode(StockAdjustSchema, body);
}

/**
 * Writes a command to change a stock as a message body, after checking it.
 *
 * @throws {ContractError} when it is not valid.
 */
export function encodeStockAdjust(command: StockAdjust): Buffer {
  return encode(StockAdjustSchema, command);
}
