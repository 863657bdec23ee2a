/**
 * What a service committed of each till, in its own store: one row per sale
 * it handled (till, sale id, store, amount, the till's sale before it),
 * written in the transaction of the sale's effect. A close is checked
 * against it, and a sale whose predecessor never came shows a gap.
 *
 * @module
 */
import { Decimal } from "../../contracts/decimal.ts";
import type { SaleDetails } from "../../contracts/sale.ts";
import type { IdRanges } from "../../contracts/till.ts";
import { createTables, type Sql, type Store } from "../store/mod.ts";

/** A sale as the ledger keeps it. */
export interface LedgerSale {
  tillId: string;
  saleId: number;
  storeId: string;
  amount: Decimal;
  /** The till's sale before it that day, when the sale says. */
  previousId?: number;
}

/** A sale as the ledger keeps it; undefined for a sale of no till (the article's .NET POS). */
export function ledgerSaleOf(sale: SaleDetails): LedgerSale | undefined {
  if (sale.TillId === undefined) return undefined;
  return {
    tillId: sale.TillId,
    saleId: sale.SaleId,
    storeId: sale.StoreId,
    amount: sale.TotalAmount,
    previousId: sale.PreviousSaleId,
  };
}

/** Makes the ledger's and the closes' tables in `store`. */
export async function makeLedgerTables(store: Store): Promise<void> {
  await createTables(
    store,
    `CREATE TABLE IF NOT EXISTS till_ledger (
      till_id TEXT NOT NULL,
      sale_id BIGINT NOT NULL,
      store_id TEXT NOT NULL,
      amount TEXT NOT NULL,
      previous_id BIGINT,
      seen_at TEXT NOT NULL,
      PRIMARY KEY (till_id, sale_id)
    ) WITHOUT ROWID`,
    // Sales a till sent before one that came, not seen when that one came:
    // few, and each checked again before it is shown.
    `CREATE TABLE IF NOT EXISTS till_gap (
      till_id TEXT NOT NULL,
      sale_id BIGINT NOT NULL,
      store_id TEXT NOT NULL,
      since TEXT NOT NULL,
      PRIMARY KEY (till_id, sale_id)
    ) WITHOUT ROWID`,
    `CREATE TABLE IF NOT EXISTS till_close (
      close_key TEXT PRIMARY KEY,
      store_id TEXT NOT NULL,
      till_id TEXT NOT NULL,
      business_day TEXT NOT NULL,
      sale_ids TEXT NOT NULL,
      sale_count BIGINT NOT NULL,
      total TEXT NOT NULL,
      closed_at TEXT NOT NULL,
      received_at TEXT NOT NULL,
      state TEXT NOT NULL,
      seen_count BIGINT NOT NULL DEFAULT 0,
      seen_total TEXT NOT NULL DEFAULT '0',
      missing TEXT NOT NULL DEFAULT '[]',
      settled_at TEXT
    ) WITHOUT ROWID`,
  );
}

/** Rows a statement inserts at most: SQLite takes 32,766 parameters. */
const ROWS_PER_INSERT = 500;

/**
 * Records `sales` in `tx`; a sale recorded already is left as it is. A
 * sale's predecessor that is not here becomes a gap to look at; a sale that
 * was one is a gap no longer.
 */
export async function recordSales(
  tx: Sql,
  sales: readonly LedgerSale[],
  seenAt: string = new Date().toISOString(),
  hints?: LedgerHints,
): Promise<void> {
  await insertSales(tx, sales, seenAt);
  const byTill = Map.groupBy(sales, (sale) => sale.tillId);
  for (const [tillId, tillSales] of byTill) {
    const ids = new Set(tillSales.map((sale) => sale.saleId));
    const last = hints?.last.get(tillId);
    const before = [
      ...new Set(
        tillSales.map((sale) => sale.previousId).filter((id): id is number =>
          id !== undefined && !ids.has(id) && id !== last
        ),
      ),
    ];
    if (before.length > 0) {
      const found = new Set(
        (await tx.all(
          `SELECT sale_id FROM till_ledger WHERE till_id = ? AND sale_id IN (${
            before.map(() => "?").join(", ")
          })`,
          tillId,
          ...before,
        )).map((row) => Number(row.sale_id)),
      );
      const storeId = tillSales[0].storeId;
      for (const id of before.filter((id) => !found.has(id))) {
        await tx.run(
          "INSERT INTO till_gap (till_id, sale_id, store_id, since) VALUES (?, ?, ?, ?) ON CONFLICT (till_id, sale_id) DO NOTHING",
          tillId,
          id,
          storeId,
          seenAt,
        );
        if (hints) tx.onCommit(() => hints.gaps++);
      }
    }
    // With no gap known, none to fill: the common case costs no statement.
    if (!hints || hints.gaps > 0) {
      await tx.run(
        `DELETE FROM till_gap WHERE till_id = ? AND sale_id IN (${
          [...ids].map(() => "?").join(", ")
        })`,
        tillId,
        ...ids,
      );
    }
    if (hints) {
      const newest = Math.max(...ids);
      tx.onCommit(() => {
        if (newest > (hints.last.get(tillId) ?? 0)) {
          hints.last.set(tillId, newest);
        }
      });
    }
  }
}

/**
 * What one process knows that spares it statements: each till's newest
 * sale it recorded (the next one's predecessor, known present), and how
 * many gaps its store may hold (refreshed at each sweep: another instance
 * may have found some).
 */
export interface LedgerHints {
  last: Map<string, number>;
  gaps: number;
}

async function insertSales(
  tx: Sql,
  sales: readonly LedgerSale[],
  seenAt: string,
): Promise<void> {
  for (let i = 0; i < sales.length; i += ROWS_PER_INSERT) {
    const chunk = sales.slice(i, i + ROWS_PER_INSERT);
    await tx.run(
      `INSERT INTO till_ledger
        (till_id, sale_id, store_id, amount, previous_id, seen_at)
        VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}
        ON CONFLICT (till_id, sale_id) DO NOTHING`,
      ...chunk.flatMap((sale) => [
        sale.tillId,
        sale.saleId,
        sale.storeId,
        sale.amount.toString(),
        sale.previousId ?? null,
        seenAt,
      ]),
    );
  }
}

/** What a service has of a close's sales. */
export interface Seen {
  /** How many of them it has. */
  count: number;
  /** The sum of their amounts. */
  amount: Decimal;
  /** The ids it lacks, ascending. */
  missing: number[];
}

/** What `sql` holds of the sales `ranges` name for `tillId`. */
export async function seenOf(
  sql: Sql,
  tillId: string,
  ranges: IdRanges,
): Promise<Seen> {
  if (ranges.length === 0) {
    return { count: 0, amount: Decimal.of(0n), missing: [] };
  }
  const rows = await sql.all(
    "SELECT sale_id, amount FROM till_ledger WHERE till_id = ? AND sale_id BETWEEN ? AND ?",
    tillId,
    ranges[0][0],
    ranges.at(-1)![1],
  );
  const amounts = new Map<number, string>();
  for (const row of rows) amounts.set(Number(row.sale_id), String(row.amount));
  let count = 0;
  let amount = Decimal.of(0n);
  const missing: number[] = [];
  for (const [from, to] of ranges) {
    for (let id = from; id <= to; id++) {
      const found = amounts.get(id);
      if (found === undefined) {
        missing.push(id);
      } else {
        count++;
        amount = amount.add(Decimal.parse(found));
      }
    }
  }
  return { count, amount, missing };
}

/** A sale a till made that a service has not seen, though it saw the next. */
export interface Gap {
  tillId: string;
  storeId: string;
  /** The id it lacks. */
  saleId: number;
  /** When it saw the sale after it. */
  since: string;
}

/**
 * The gaps `sql` holds that are older than `before` (ISO time): each
 * checked against the ledger again, since two instances may record a sale
 * and the one before it at once.
 */
export async function gapsOf(sql: Sql, before: string): Promise<Gap[]> {
  const rows = await sql.all(
    `SELECT g.till_id, g.store_id, g.sale_id, g.since FROM till_gap g
      WHERE g.since < ?
        AND NOT EXISTS (SELECT 1 FROM till_ledger l
                         WHERE l.till_id = g.till_id AND l.sale_id = g.sale_id)
      ORDER BY g.till_id, g.sale_id`,
    before,
  );
  return rows.map((row) => ({
    tillId: String(row.till_id),
    storeId: String(row.store_id),
    saleId: Number(row.sale_id),
    since: String(row.since),
  }));
}
