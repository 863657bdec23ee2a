/**
 * The back office's view of the day closes: each till's close as the till
 * stated it, and each service's answer (reconciled, or the ids it lacks),
 * from the events; the sales that came with no till (the article's .NET
 * POS), which no close covers.
 *
 * @module
 */
import {
  closeKey,
  type IdRanges,
  type TillClosed,
  type TillDiscrepancy,
  type TillReconciled,
} from "../../contracts/till.ts";
import { createTables, type Sql, type Store } from "../../lib/store/mod.ts";

/** A service's answer to a close. */
export interface CloseAnswer {
  Service: string;
  State: "reconciled" | "discrepancy";
  SeenCount: number;
  SeenAmount: string;
  Missing: IdRanges;
  At: string;
}

/** A close, with the answers so far. */
export interface DayClose {
  Key: string;
  StoreId: string;
  TillId: string;
  BusinessDay: string;
  Count: number;
  TotalAmount: string;
  ClosedAt: string;
  Answers: CloseAnswer[];
}

/** A till's business day that is still open: sales since its last close. */
export interface OpenDay {
  StoreId: string;
  TillId: string;
  Sales: number;
  LastSaleId: number;
}

/** Sales with no till, by day and store: no close covers them. */
export interface Untilled {
  Day: string;
  StoreId: string;
  Sales: number;
}

/** Makes the tables in `store`. */
export async function makeCloseTables(store: Store): Promise<void> {
  await createTables(
    store,
    `CREATE TABLE IF NOT EXISTS office_close (
      close_key TEXT PRIMARY KEY,
      store_id TEXT NOT NULL,
      till_id TEXT NOT NULL,
      business_day TEXT NOT NULL,
      sale_count BIGINT NOT NULL,
      total TEXT NOT NULL,
      last_sale_id BIGINT NOT NULL,
      closed_at TEXT NOT NULL
    ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS office_close_answer (
      close_key TEXT NOT NULL,
      service TEXT NOT NULL,
      state TEXT NOT NULL,
      seen_count BIGINT NOT NULL,
      seen_total TEXT NOT NULL,
      missing TEXT NOT NULL,
      at TEXT NOT NULL,
      PRIMARY KEY (close_key, service)
    ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS office_untilled (
      day TEXT NOT NULL,
      store_id TEXT NOT NULL,
      sales BIGINT NOT NULL,
      PRIMARY KEY (day, store_id)
    ) WITHOUT ROWID`,
  );
}

/** Keeps a close as the till stated it. */
export async function applyClose(tx: Sql, close: TillClosed): Promise<void> {
  await tx.run(
    `INSERT INTO office_close (close_key, store_id, till_id, business_day,
      sale_count, total, last_sale_id, closed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (close_key) DO NOTHING`,
    closeKey(close),
    close.StoreId,
    close.TillId,
    close.BusinessDay,
    close.Count,
    close.TotalAmount.toString(),
    close.SaleIds.at(-1)?.[1] ?? 0,
    close.ClosedAt,
  );
}

/** Keeps a service's answer, unless it has a later one. */
export async function applyAnswer(
  tx: Sql,
  answer: TillReconciled | TillDiscrepancy,
): Promise<void> {
  const discrepancy = "MissingSaleIds" in answer;
  await tx.run(
    `INSERT INTO office_close_answer
      (close_key, service, state, seen_count, seen_total, missing, at)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (close_key, service) DO UPDATE SET state = excluded.state,
        seen_count = excluded.seen_count, seen_total = excluded.seen_total,
        missing = excluded.missing, at = excluded.at
      WHERE office_close_answer.at <= excluded.at`,
    closeKey(answer),
    answer.Service,
    discrepancy ? "discrepancy" : "reconciled",
    discrepancy ? answer.SeenCount : answer.Count,
    (discrepancy ? answer.SeenAmount : answer.TotalAmount).toString(),
    JSON.stringify(discrepancy ? answer.MissingSaleIds : []),
    answer.At,
  );
}

/** Counts a sale with no till. */
export async function applyUntilled(
  tx: Sql,
  day: string,
  storeId: string,
): Promise<void> {
  await tx.run(
    `INSERT INTO office_untilled (day, store_id, sales) VALUES (?, ?, 1)
      ON CONFLICT (day, store_id) DO UPDATE SET sales = office_untilled.sales + 1`,
    day,
    storeId,
  );
}

/** The latest closes, newest first, each with its answers. */
export function latestCloses(sql: Sql, limit = 50): Promise<DayClose[]> {
  return closesWhere(sql, "", limit);
}

/** The closes some service answered with a discrepancy it has not mended. */
export function openDiscrepancies(sql: Sql): Promise<DayClose[]> {
  return closesWhere(
    sql,
    `WHERE close_key IN (SELECT close_key FROM office_close_answer
      WHERE state = 'discrepancy')`,
    500,
  );
}

/** The closes `where` picks, newest first, each with its answers. */
async function closesWhere(
  sql: Sql,
  where: string,
  limit: number,
): Promise<DayClose[]> {
  const closes = await sql.all(
    `SELECT * FROM office_close ${where} ORDER BY closed_at DESC LIMIT ?`,
    limit,
  );
  if (closes.length === 0) return [];
  const answers = Map.groupBy(
    await sql.all(
      `SELECT * FROM office_close_answer WHERE close_key IN (${
        closes.map(() => "?").join(", ")
      }) ORDER BY service`,
      ...closes.map((row) => row.close_key),
    ),
    (answer) => String(answer.close_key),
  );
  return closes.map((row) => ({
    Key: String(row.close_key),
    StoreId: String(row.store_id),
    TillId: String(row.till_id),
    BusinessDay: String(row.business_day),
    Count: Number(row.sale_count),
    TotalAmount: String(row.total),
    ClosedAt: String(row.closed_at),
    Answers: (answers.get(String(row.close_key)) ?? []).map((answer) => ({
      Service: String(answer.service),
      State: String(answer.state) as CloseAnswer["State"],
      SeenCount: Number(answer.seen_count),
      SeenAmount: String(answer.seen_total),
      Missing: JSON.parse(String(answer.missing)),
      At: String(answer.at),
    })),
  }));
}

/**
 * Tills with sales since their last close (from the office's own ledger of
 * the sales it took).
 */
export async function openDays(sql: Sql): Promise<OpenDay[]> {
  const rows = await sql.all(
    `SELECT l.store_id, l.till_id, count(*) AS sales, max(l.sale_id) AS last
       FROM till_ledger l
      WHERE l.sale_id > COALESCE((SELECT max(c.last_sale_id) FROM office_close c
                                   WHERE c.till_id = l.till_id), 0)
      GROUP BY l.store_id, l.till_id ORDER BY l.store_id, l.till_id`,
  );
  return rows.map((row) => ({
    StoreId: String(row.store_id),
    TillId: String(row.till_id),
    Sales: Number(row.sales),
    LastSaleId: Number(row.last),
  }));
}

/** The sales with no till, newest day first. */
export async function untilled(sql: Sql, limit = 14): Promise<Untilled[]> {
  return (await sql.all(
    "SELECT day, store_id, sales FROM office_untilled ORDER BY day DESC, store_id LIMIT ?",
    limit,
  )).map((row) => ({
    Day: String(row.day),
    StoreId: String(row.store_id),
    Sales: Number(row.sales),
  }));
}
