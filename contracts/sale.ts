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
import {
  CONTROL,
  FORMAT,
  formatTest,
  isCode,
  isPositiveInt32,
  isRecord,
  isTillId,
  MAX_CODE_BYTES,
  MAX_ITEMS,
  priceOf,
} from "./fast_check.ts";

export {
  BILLING_CLOSE_QUEUE,
  BILLING_QUEUE,
  CONSUMER_QUEUES,
  DEFAULT_STORE,
  INVENTORY_CLOSE_QUEUE,
  INVENTORY_COMMAND_QUEUE,
  INVENTORY_QUEUE,
  OFFICE_QUEUE,
  SALE_CREATED,
  SALES_EXCHANGE,
} from "./names.ts";

/**
 * Longest store id or SKU accepted, in UTF-8 bytes: room for real codes, and
 * every AMQP short string made from codes (message ids such as
 * `invoice:<store>-000042`, at most 255 bytes) stays in bounds.
 */
export { MAX_CODE_BYTES };

const encoder = new TextEncoder();

/**
 * A store id or a SKU: well-formed text (no lone surrogate, which a
 * database would store as U+FFFD and so merge two codes), no control
 * characters (NUL, ESC, newlines), 1 to {@linkcode MAX_CODE_BYTES} bytes.
 */
export const code = z.string().trim().min(1, { error: "must not be empty" })
  .refine(
    (text) => text.isWellFormed(),
    { error: "must be well-formed text (a lone surrogate is not)" },
  ).refine((text) => !CONTROL.test(text), {
    error: "must not contain control characters",
  }).refine((text) => !FORMAT.test(text), {
    error:
      "must not contain invisible format characters (a zero-width space, a direction override)",
  }).refine((text) => encoder.encode(text).byteLength <= MAX_CODE_BYTES, {
    error: `must be at most ${MAX_CODE_BYTES} bytes of UTF-8`,
  });

/**
 * A till's id: letters, digits, `-` and `_`, 1 to 32 of them. It is part of
 * a sale's key, so the tills of one store never make the same key.
 */
export const tillId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, {
  error: "must be 1 to 32 letters, digits, - or _",
});

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

/**
 * A sale: `SaleDetails(int SaleId, string StoreId, List<SaleItem> Items,
 * DateTime Timestamp, decimal TotalAmount)`, and the till that rang it up
 * (optional: the .NET POS has no tills, and .NET readers ignore it).
 */
export const SaleDetailsSchema = z.object({
  SaleId: z.int32().positive(),
  StoreId: code,
  TillId: tillId.optional(),
  /**
   * The till's sale before this one in its business day (absent for the
   * day's first): a consumer that has not seen it knows of a gap before
   * the day's close says so.
   */
  PreviousSaleId: z.int32().positive().optional(),
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
  return decode(SaleDetailsSchema, body, fastSale);
}

const TimestampFormat = formatTest(SaleDetailsSchema.shape.Timestamp);

/**
 * The sale zod would make of `value`, by plain checks; undefined when that
 * takes zod (something to trim, something wrong).
 */
export function fastSale(value: unknown): SaleDetails | undefined {
  if (!isRecord(value)) return undefined;
  const { SaleId, StoreId, TillId, PreviousSaleId, Items, Timestamp } = value;
  if (
    !isPositiveInt32(SaleId) || !isCode(StoreId) ||
    (TillId !== undefined && !isTillId(TillId)) ||
    (PreviousSaleId !== undefined && !isPositiveInt32(PreviousSaleId)) ||
    !Array.isArray(Items) ||
    Items.length < 1 || Items.length > MAX_ITEMS ||
    typeof Timestamp !== "string" ||
    !TimestampFormat(Timestamp)
  ) return undefined;
  const TotalAmount = priceOf(value.TotalAmount);
  if (!TotalAmount) return undefined;
  const items: SaleItem[] = [];
  for (const item of Items) {
    if (
      !isRecord(item) || !isCode(item.Sku) || !isPositiveInt32(item.Quantity)
    ) {
      return undefined;
    }
    if (item.UnitPrice === undefined) {
      items.push({ Sku: item.Sku, Quantity: item.Quantity });
      continue;
    }
    const UnitPrice = priceOf(item.UnitPrice);
    if (!UnitPrice) return undefined;
    items.push({ Sku: item.Sku, Quantity: item.Quantity, UnitPrice });
  }
  return {
    SaleId,
    StoreId,
    ...(TillId === undefined ? {} : { TillId }),
    ...(PreviousSaleId === undefined ? {} : { PreviousSaleId }),
    Items: items,
    Timestamp,
    TotalAmount,
  };
}

/**
 * Writes a sale as a message body, after checking it.
 *
 * @throws {ContractError} when the sale is not valid.
 */
export function encodeSale(sale: SaleDetails): Buffer {
  return encode(SaleDetailsSchema, sale, { fast: fastSale, write: writeSale });
}

/** A checked sale as JSON text, key for key as `JSON.stringify` writes it. */
export function writeSale(sale: SaleDetails): string {
  let items = "";
  for (const item of sale.Items) {
    items += `${items ? "," : ""}{"Sku":${
      JSON.stringify(item.Sku)
    },"Quantity":${item.Quantity}${
      item.UnitPrice === undefined ? "" : `,"UnitPrice":${item.UnitPrice}`
    }}`;
  }
  return `{"SaleId":${sale.SaleId},"StoreId":${JSON.stringify(sale.StoreId)}${
    sale.TillId === undefined ? "" : `,"TillId":${JSON.stringify(sale.TillId)}`
  }${
    sale.PreviousSaleId === undefined
      ? ""
      : `,"PreviousSaleId":${sale.PreviousSaleId}`
  },"Items":[${items}],"Timestamp":${
    JSON.stringify(sale.Timestamp)
  },"TotalAmount":${sale.TotalAmount}}`;
}

/**
 * What makes a sale unique: `<store>:<sale id>`, and `@<till>` after it when
 * a till rang it up. A till id has no `:` or `@` and a sale id is digits, so
 * no two different (store, till, sale id) make the same key.
 */
export function saleKey(
  sale: Pick<SaleDetails, "StoreId" | "SaleId" | "TillId">,
): string {
  const key = `${sale.StoreId}:${sale.SaleId}`;
  return sale.TillId === undefined ? key : `${key}@${sale.TillId}`;
}

/** What a span about a sale names: its id and its store. */
export function saleSpanAttributes(
  sale: Pick<SaleDetails, "SaleId" | "StoreId">,
): Record<string, string | number> {
  return {
    "shoppingapp.sale_id": sale.SaleId,
    "shoppingapp.store_id": sale.StoreId,
  };
}

export { ContractError } from "./codec.ts";
export { Decimal };
