/**
 * The till's day close and what each service answers: `till.closed` (the
 * till states what it sold in its business day), `till.reconciled` (a
 * service has every one of those sales, for the same sum) and
 * `till.discrepancy` (a service lacks some, once a grace period passed).
 * Published to `sales_exchange`; the article's .NET services neither send
 * nor read them.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { z } from "zod";
import { decimal, decode, encode } from "./codec.ts";
import { code, tillId } from "./sale.ts";

export { TILL_CLOSED, TILL_DISCREPANCY, TILL_RECONCILED } from "./names.ts";

/** Most ranges a message may carry: a day of a till whose ids interleave with others'. */
export const MAX_RANGES = 100_000;

/** Sale ids as ranges, `[from, to]` both included, ascending, apart. */
export type IdRanges = [number, number][];

const saleId = z.int32().positive();

/** A list of {@linkcode IdRanges}, checked ascending and apart. */
export const IdRangesSchema = z.array(z.tuple([saleId, saleId])).max(
  MAX_RANGES,
).refine(
  (ranges) =>
    ranges.every(([from, to], i) =>
      from <= to && (i === 0 || from > ranges[i - 1][1] + 1)
    ),
  {
    error: "must be ascending ranges [from, to] that neither touch nor overlap",
  },
);

/** Ids as ranges: `[10000, 10001, 10002, 10005]` → `[[10000, 10002], [10005, 10005]]`. */
export function toRanges(ids: Iterable<number>): IdRanges {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: IdRanges = [];
  for (const id of sorted) {
    const last = ranges.at(-1);
    if (last && id === last[1] + 1) last[1] = id;
    else ranges.push([id, id]);
  }
  return ranges;
}

/** How many ids `ranges` hold. */
export function countOf(ranges: IdRanges): number {
  return ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
}

/** Every id of `ranges`, ascending. */
export function* idsOf(ranges: IdRanges): Generator<number> {
  for (const [from, to] of ranges) {
    for (let id = from; id <= to; id++) yield id;
  }
}

/** Ranges as people write them: `10041-10043,10050`. */
export function formatRanges(ranges: IdRanges): string {
  return ranges.map(([from, to]) => from === to ? `${from}` : `${from}-${to}`)
    .join(",");
}

/**
 * Ranges from `10041-10043,10050` (spaces allowed, in any order).
 *
 * @throws {RangeError} naming the part that is not an id or a range.
 */
export function parseRanges(text: string): IdRanges {
  const ids: number[] = [];
  for (const part of text.split(",").map((piece) => piece.trim())) {
    const match = /^(\d{1,10})(?:\s*-\s*(\d{1,10}))?$/.exec(part);
    const from = Number(match?.[1]);
    const to = Number(match?.[2] ?? match?.[1]);
    if (
      !match || from < 1 || to < from || to > 2_147_483_647 ||
      to - from >= 1_000_000
    ) {
      throw new RangeError(
        `"${part}" is not a sale id or a range of them (e.g. 10041-10043,10050)`,
      );
    }
    for (let id = from; id <= to; id++) ids.push(id);
  }
  return toRanges(ids);
}

/** A business day of a till: the date it opened, `-2` after it for a second day opened that date. */
export const businessDay = z.string().regex(/^\d{4}-\d{2}-\d{2}(-\d{1,4})?$/, {
  error: "must be a date YYYY-MM-DD, with -N for a later day of that date",
});

/** `till.closed`: the till's business day, as the till sold it. */
export const TillClosedSchema = z.object({
  StoreId: code,
  TillId: tillId,
  BusinessDay: businessDay,
  OpenedAt: z.iso.datetime({ offset: true }),
  ClosedAt: z.iso.datetime({ offset: true }),
  /** The ids of the sales it sold that day (ids skip where a sale rolled back). */
  SaleIds: IdRangesSchema,
  Count: z.int().nonnegative(),
  /** The exact sum of their TotalAmount. */
  TotalAmount: decimal(),
}).refine((close) => countOf(close.SaleIds) === close.Count, {
  error: "Count must be the number of SaleIds",
  path: ["Count"],
});

/** A till's day close. */
export type TillClosed = z.infer<typeof TillClosedSchema>;

/**
 * The services that answer a close, each with `till.reconciled` or
 * `till.discrepancy`: what a close waits for.
 */
export const ANSWERING = ["billing", "inventory", "office"] as const;

/** What a close is known by: one per till and business day. */
export function closeKey(
  close: Pick<TillClosed, "StoreId" | "TillId" | "BusinessDay">,
): string {
  return `close:${close.StoreId}:${close.TillId}:${close.BusinessDay}`;
}

/** The services that answer a close. */
export const service = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, {
  error: "must be a service's name",
});

/** `till.reconciled`: a service has every sale of the close, for its sum. */
export const TillReconciledSchema = z.object({
  Service: service,
  StoreId: code,
  TillId: tillId,
  BusinessDay: businessDay,
  Count: z.int().nonnegative(),
  TotalAmount: decimal(),
  At: z.iso.datetime({ offset: true }),
});

/** A service's reconciliation of a close. */
export type TillReconciled = z.infer<typeof TillReconciledSchema>;

/** `till.discrepancy`: a service lacks sales of the close, or has another sum. */
export const TillDiscrepancySchema = z.object({
  Service: service,
  StoreId: code,
  TillId: tillId,
  BusinessDay: businessDay,
  /** What the till said. */
  Count: z.int().nonnegative(),
  TotalAmount: decimal(),
  /** What the service has of it. */
  SeenCount: z.int().nonnegative(),
  SeenAmount: decimal(),
  MissingSaleIds: IdRangesSchema,
  At: z.iso.datetime({ offset: true }),
});

/** A service's discrepancy with a close. */
export type TillDiscrepancy = z.infer<typeof TillDiscrepancySchema>;

/**
 * Reads a `till.closed` body.
 *
 * @throws {ContractError} when it is not a valid close.
 */
export function decodeTillClosed(body: Uint8Array): TillClosed {
  return decode(TillClosedSchema, body);
}

/** Writes a close, after checking it. */
export function encodeTillClosed(close: TillClosed): Buffer {
  return encode(TillClosedSchema, close);
}

/** Reads a `till.reconciled` body. */
export function decodeTillReconciled(body: Uint8Array): TillReconciled {
  return decode(TillReconciledSchema, body);
}

/** Writes a reconciliation, after checking it. */
export function encodeTillReconciled(value: TillReconciled): Buffer {
  return encode(TillReconciledSchema, value);
}

/** Reads a `till.discrepancy` body. */
export function decodeTillDiscrepancy(body: Uint8Array): TillDiscrepancy {
  return decode(TillDiscrepancySchema, body);
}

/** Writes a discrepancy, after checking it. */
export function encodeTillDiscrepancy(value: TillDiscrepancy): Buffer {
  return encode(TillDiscrepancySchema, value);
}
