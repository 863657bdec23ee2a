/**
 * `invoice.created`: Billing made an invoice for a sale. Published to
 * `sales_exchange`, so that other services can react.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { z } from "zod";
import { decode, encode } from "./codec.ts";
import { Decimal } from "./decimal.ts";
import {
  formatTest,
  isCode,
  isPositiveInt32,
  isRecord,
  isTillId,
  priceOf,
} from "./fast_check.ts";
import { code, price, tillId } from "./sale.ts";

export { INVOICE_CREATED } from "./names.ts";

/** One line of an invoice; prices are absent for a sale that carried none. */
export const InvoiceLineSchema = z.object({
  Sku: code,
  Quantity: z.int32().positive(),
  UnitPrice: price().optional(),
  LineTotal: price().optional(),
});

/** An invoice, as Billing stores and announces it. */
export const InvoiceCreatedSchema = z.object({
  /** Gapless per store: `NEPAL-01-000042`. */
  InvoiceNumber: z.string().min(1).max(100),
  StoreId: code,
  /** The till of the sale, when it came from one. */
  TillId: tillId.optional(),
  SaleId: z.int32().positive(),
  Lines: z.array(InvoiceLineSchema).min(1),
  /** The sum of the line totals, when every line is priced. */
  Subtotal: price().optional(),
  TaxRate: price().optional(),
  Tax: price().optional(),
  /** What is due: the sale's TotalAmount plus tax. */
  Total: price(),
  /** The sale's TotalAmount, as the POS sent it. */
  TotalAmount: price(),
  /** Whether the priced lines do not add up to TotalAmount. */
  Mismatch: z.boolean(),
  CreatedAt: z.iso.datetime({ offset: true }),
});

/** An invoice. */
export type InvoiceCreated = z.infer<typeof InvoiceCreatedSchema>;

/**
 * Reads an `invoice.created` body.
 *
 * @throws {ContractError} when it is not a valid invoice.
 */
export function decodeInvoice(body: Uint8Array): InvoiceCreated {
  return decode(InvoiceCreatedSchema, body, fastInvoice);
}

const CreatedAtFormat = formatTest(InvoiceCreatedSchema.shape.CreatedAt);

/** An optional price: absent, or a price; null when it is neither. */
function optionalPrice(value: unknown): Decimal | undefined | null {
  if (value === undefined) return undefined;
  return priceOf(value) ?? null;
}

/**
 * The invoice zod would make of `value`, by plain checks; undefined when
 * that takes zod.
 */
export function fastInvoice(value: unknown): InvoiceCreated | undefined {
  if (!isRecord(value)) return undefined;
  const { InvoiceNumber, StoreId, TillId, SaleId, Lines, Mismatch, CreatedAt } =
    value;
  if (
    typeof InvoiceNumber !== "string" || InvoiceNumber.length < 1 ||
    InvoiceNumber.length > 100 || !isCode(StoreId) ||
    (TillId !== undefined && !isTillId(TillId)) || !isPositiveInt32(SaleId) ||
    !Array.isArray(Lines) || Lines.length < 1 ||
    typeof Mismatch !== "boolean" || typeof CreatedAt !== "string" ||
    !CreatedAtFormat(CreatedAt)
  ) return undefined;
  const Subtotal = optionalPrice(value.Subtotal);
  const TaxRate = optionalPrice(value.TaxRate);
  const Tax = optionalPrice(value.Tax);
  const Total = priceOf(value.Total);
  const TotalAmount = priceOf(value.TotalAmount);
  if (
    Subtotal === null || TaxRate === null || Tax === null || !Total ||
    !TotalAmount
  ) return undefined;
  const lines: InvoiceCreated["Lines"] = [];
  for (const line of Lines) {
    if (
      !isRecord(line) || !isCode(line.Sku) || !isPositiveInt32(line.Quantity)
    ) {
      return undefined;
    }
    const UnitPrice = optionalPrice(line.UnitPrice);
    const LineTotal = optionalPrice(line.LineTotal);
    if (UnitPrice === null || LineTotal === null) return undefined;
    lines.push({
      Sku: line.Sku,
      Quantity: line.Quantity,
      ...(UnitPrice === undefined ? {} : { UnitPrice }),
      ...(LineTotal === undefined ? {} : { LineTotal }),
    });
  }
  return {
    InvoiceNumber,
    StoreId,
    ...(TillId === undefined ? {} : { TillId }),
    SaleId,
    Lines: lines,
    ...(Subtotal === undefined ? {} : { Subtotal }),
    ...(TaxRate === undefined ? {} : { TaxRate }),
    ...(Tax === undefined ? {} : { Tax }),
    Total,
    TotalAmount,
    Mismatch,
    CreatedAt,
  };
}

/**
 * Writes an invoice as a message body, after checking it.
 *
 * @throws {ContractError} when it is not valid.
 */
export function encodeInvoice(invoice: InvoiceCreated): Buffer {
  return encode(InvoiceCreatedSchema, invoice, {
    fast: fastInvoice,
    write: writeInvoice,
  });
}

/** `,"Name":value` for a decimal that is there; nothing when absent. */
function optional(name: string, value: Decimal | undefined): string {
  return value === undefined ? "" : `,"${name}":${value}`;
}

/** A checked invoice as JSON text, key for key as `JSON.stringify` writes it. */
export function writeInvoice(invoice: InvoiceCreated): string {
  let lines = "";
  for (const line of invoice.Lines) {
    lines += `${lines ? "," : ""}{"Sku":${
      JSON.stringify(line.Sku)
    },"Quantity":${line.Quantity}${optional("UnitPrice", line.UnitPrice)}${
      optional("LineTotal", line.LineTotal)
    }}`;
  }
  return `{"InvoiceNumber":${JSON.stringify(invoice.InvoiceNumber)},"StoreId":${
    JSON.stringify(invoice.StoreId)
  }${
    invoice.TillId === undefined
      ? ""
      : `,"TillId":${JSON.stringify(invoice.TillId)}`
  },"SaleId":${invoice.SaleId},"Lines":[${lines}]${
    optional("Subtotal", invoice.Subtotal)
  }${optional("TaxRate", invoice.TaxRate)}${
    optional("Tax", invoice.Tax)
  },"Total":${invoice.Total},"TotalAmount":${invoice.TotalAmount},"Mismatch":${invoice.Mismatch},"CreatedAt":${
    JSON.stringify(invoice.CreatedAt)
  }}`;
}

/**
 * The totals under an invoice's lines, as a receipt prints them: with tax,
 * the sale's total, the tax and what is due; without, what is due alone.
 */
export function invoiceTotals(
  invoice: InvoiceCreated,
): { label: string; amount: Decimal; due: boolean }[] {
  if (!invoice.Tax) {
    return [{ label: "Total", amount: invoice.Total, due: true }];
  }
  return [
    { label: "Subtotal", amount: invoice.TotalAmount, due: false },
    {
      label: `Tax at ${percent(invoice.TaxRate)}`,
      amount: invoice.Tax,
      due: false,
    },
    { label: "Total due", amount: invoice.Total, due: true },
  ];
}

/** A rate as a percentage: 0.13 as `13%`, 0.075 as `7.5%`. */
function percent(rate: Decimal | undefined): string {
  if (rate === undefined) return "";
  const text = rate.multiply(Decimal.of(100n)).toString();
  return `${text.includes(".") ? text.replace(/\.?0+$/, "") : text}%`;
}
