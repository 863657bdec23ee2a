/**
 * The closes a service holds, as rows of its `till_close` table are read:
 * by the reconciler, and by `deno task status` for what is still open.
 *
 * @module
 */
import type { IdRanges } from "../../contracts/till.ts";
import type { Sql } from "../store/mod.ts";
import { type Gap, gapsOf } from "./ledger.ts";

/** Where a close stands with a service. */
export type CloseState = "open" | "discrepancy" | "reconciled";

/** A close as a service holds it. */
export interface HeldClose {
  key: string;
  storeId: string;
  tillId: string;
  businessDay: string;
  count: number;
  total: string;
  /** The ids the till said it sold. */
  saleIds: IdRanges;
  state: CloseState;
  seenCount: number;
  seenTotal: string;
  missing: IdRanges;
  closedAt: string;
  receivedAt: string;
}

/** A row of `till_close` as a held close. */
export function heldOf(row: Record<string, unknown>): HeldClose {
  return {
    key: String(row.close_key),
    storeId: String(row.store_id),
    tillId: String(row.till_id),
    businessDay: String(row.business_day),
    count: Number(row.sale_count),
    total: String(row.total),
    saleIds: JSON.parse(String(row.sale_ids ?? "[]")),
    state: String(row.state) as CloseState,
    seenCount: Number(row.seen_count),
    seenTotal: String(row.seen_total),
    missing: JSON.parse(String(row.missing ?? "[]")),
    closedAt: String(row.closed_at),
    receivedAt: String(row.received_at),
  };
}

/** A close a service answered with a discrepancy it has not mended, as status lists it. */
export interface OpenDiscrepancy {
  StoreId: string;
  TillId: string;
  BusinessDay: string;
  Missing: IdRanges;
  SeenAmount: string;
  TotalAmount: string;
}

/** The open discrepancies and the gaps older than `gapsBefore` that `sql` holds. */
export async function closeProblems(
  sql: Sql,
  gapsBefore: string,
): Promise<{ discrepancies: OpenDiscrepancy[]; gaps: Gap[] }> {
  const rows = await sql.all(
    "SELECT * FROM till_close WHERE state = 'discrepancy' ORDER BY received_at",
  );
  return {
    discrepancies: rows.map(heldOf).map((held) => ({
      StoreId: held.storeId,
      TillId: held.tillId,
      BusinessDay: held.businessDay,
      Missing: held.missing,
      SeenAmount: held.seenTotal,
      TotalAmount: held.total,
    })),
    gaps: await gapsOf(sql, gapsBefore),
  };
}
