/**
 * The till's business day: which sales belong to it, its close (the
 * `till.closed` event, added to the outbox in the transaction that marks
 * the day closed), and sending stored sales again, as the same messages.
 *
 * @module
 */
import { Decimal } from "../../contracts/decimal.ts";
import { saleKey, SALES_EXCHANGE } from "../../contracts/sale.ts";
import {
  ANSWERING,
  closeKey,
  decodeTillClosed,
  encodeTillClosed,
  type IdRanges,
  idsOf,
  TILL_CLOSED,
  type TillClosed,
  toRanges,
} from "../../contracts/till.ts";
import {
  addColumn,
  openStore,
  type Outbox,
  type Sql,
  type Store,
  tableNames,
} from "../../lib/store/mod.ts";
import { errorMessage } from "../../lib/core/mod.ts";

/** Makes the day's columns and table in the till's store, moving an older one on. */
export async function makeDayTables(store: Store): Promise<void> {
  await addColumn(store, "sales", "till_id TEXT");
  await addColumn(store, "sales", "business_day TEXT");
  await store.exec(
    "CREATE INDEX IF NOT EXISTS sales_open_day ON sales (till_id) WHERE business_day IS NULL",
  );
  await store.exec(`CREATE TABLE IF NOT EXISTS till_day (
    till_id TEXT NOT NULL,
    business_day TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    close_key TEXT NOT NULL,
    PRIMARY KEY (till_id, business_day)
  )`);
}

/**
 * The condition on `sales` for this till's rows: on SQLite, the till has
 * the file to itself, and rows from before tills were kept are its own.
 */
function ofTill(store: Pick<Store, "dialect">): string {
  return store.dialect === "sqlite"
    ? "(till_id = ? OR till_id IS NULL)"
    : "till_id = ?";
}

/** The last sale of the till's open day, if any: the next one's predecessor. */
export async function lastOpenSale(
  sql: Sql,
  store: Pick<Store, "dialect">,
  tillId: string,
): Promise<number | undefined> {
  const row = await sql.get(
    `SELECT max(sale_id) AS id FROM sales WHERE ${
      ofTill(store)
    } AND business_day IS NULL`,
    tillId,
  );
  return row?.id === null || row?.id === undefined ? undefined : Number(row.id);
}

/** What closing did: the close, and whether it was one made before, sent again. */
export interface Closed {
  close: TillClosed;
  again: boolean;
}

/**
 * Closes the till's business day in `tx`: its open sales become the day's,
 * and the close goes into the outbox in the same transaction. With nothing
 * sold since the last close, that close is sent again (the same message:
 * its consumers take it once).
 */
export async function closeDay(
  tx: Sql,
  options: {
    store: Pick<Store, "dialect">;
    outbox: Outbox;
    tillId: string;
    storeId: string;
    now?: Date;
  },
): Promise<Closed> {
  const { store, outbox, tillId, storeId } = options;
  const now = (options.now ?? new Date()).toISOString();
  const rows = await tx.all(
    `SELECT sale_id, total, created_at FROM sales WHERE ${
      ofTill(store)
    } AND business_day IS NULL ORDER BY sale_id`,
    tillId,
  );
  if (rows.length === 0) {
    const last = await tx.get(
      "SELECT close_key FROM till_day WHERE till_id = ? ORDER BY closed_at DESC LIMIT 1",
      tillId,
    );
    const again = last &&
      (await outbox.latest(tx, [String(last.close_key)])).get(
        String(last.close_key),
      );
    if (again) {
      await outbox.add(tx, { ...again, mandatory: false });
      return { close: decodeTillClosed(again.body), again: true };
    }
  }
  const openedAt = rows.length > 0 ? String(rows[0].created_at) : now;
  const date = openedAt.slice(0, 10);
  const taken = new Set(
    (await tx.all(
      "SELECT business_day FROM till_day WHERE till_id = ? AND business_day LIKE ?",
      tillId,
      `${date}%`,
    )).map((row) => String(row.business_day)),
  );
  let day = date;
  for (let n = 2; taken.has(day); n++) day = `${date}-${n}`;
  let total = Decimal.of(0n);
  for (const row of rows) total = total.add(Decimal.parse(String(row.total)));
  const close: TillClosed = {
    StoreId: storeId,
    TillId: tillId,
    BusinessDay: day,
    OpenedAt: openedAt,
    ClosedAt: now,
    SaleIds: toRanges(rows.map((row) => Number(row.sale_id))),
    Count: rows.length,
    TotalAmount: total,
  };
  await tx.run(
    `UPDATE sales SET business_day = ?, till_id = ? WHERE ${
      ofTill(store)
    } AND business_day IS NULL`,
    day,
    tillId,
    tillId,
  );
  await tx.run(
    "INSERT INTO till_day (till_id, business_day, opened_at, closed_at, close_key) VALUES (?, ?, ?, ?, ?)",
    tillId,
    day,
    openedAt,
    now,
    closeKey(close),
  );
  await outbox.add(tx, {
    exchange: SALES_EXCHANGE,
    routingKey: TILL_CLOSED,
    messageId: closeKey(close),
    body: encodeTillClosed(close),
    mandatory: false,
  });
  return { close, again: false };
}

/** What sending sales again did. */
export interface Resent {
  /** The ids sent again. */
  sent: number[];
  /** Ids this till never sold. */
  unknown: number[];
  /** Ids it sold whose message is no longer kept (older than RETENTION). */
  gone: number[];
}

/**
 * Adds the stored messages of the till's sales `ranges` names to the
 * outbox again, in `tx`: the same ids and the same content, so that each
 * consumer's inbox takes each at most once.
 */
export async function resendSales(
  tx: Sql,
  options: {
    store: Pick<Store, "dialect">;
    outbox: Outbox;
    tillId: string;
    ranges: IdRanges;
  },
): Promise<Resent> {
  const { store, outbox, tillId, ranges } = options;
  const result: Resent = { sent: [], unknown: [], gone: [] };
  if (ranges.length === 0) return result;
  const rows = await tx.all(
    `SELECT sale_id, store_id FROM sales WHERE ${
      ofTill(store)
    } AND sale_id BETWEEN ? AND ?`,
    tillId,
    ranges[0][0],
    ranges.at(-1)![1],
  );
  const stores = new Map(
    rows.map((row) => [Number(row.sale_id), String(row.store_id)]),
  );
  const keyOf = (id: number) =>
    saleKey({ StoreId: stores.get(id)!, SaleId: id, TillId: tillId });
  const known = [...idsOf(ranges)].filter((id) => {
    if (stores.has(id)) return true;
    result.unknown.push(id);
    return false;
  });
  const messages = await outbox.latest(tx, known.map(keyOf));
  for (const id of known) {
    const message = messages.get(keyOf(id));
    if (!message) {
      result.gone.push(id);
      continue;
    }
    await outbox.add(tx, message);
    result.sent.push(id);
  }
  return result;
}

/**
 * The ids the open discrepancies of the reconciling services name for
 * `tillId`, read from their stores (read-only), with what each said.
 *
 * @throws {Error} naming a store that cannot be read.
 */
export async function missingOf(
  config: { dataDir: string; databaseUrl?: string },
  tillId: string,
): Promise<{ ranges: IdRanges; said: string[] }> {
  const ids = new Set<number>();
  const said: string[] = [];
  for (const name of ANSWERING) {
    let store: Store;
    try {
      store = await openStore({ name, ...config, readOnly: true });
    } catch {
      continue; // Never ran here.
    }
    try {
      if (!(await tableNames(store)).has("till_close")) continue;
      const rows = await store.all(
        "SELECT business_day, missing FROM till_close WHERE till_id = ? AND state = 'discrepancy'",
        tillId,
      );
      for (const row of rows) {
        const ranges = JSON.parse(String(row.missing)) as IdRanges;
        for (const id of idsOf(ranges)) ids.add(id);
        said.push(
          `${name} lacks ${ranges.length} range(s) of ${row.business_day}`,
        );
      }
    } catch (error) {
      throw new Error(
        `Cannot read the discrepancies of ${name} (${store.where}): ${
          errorMessage(error)
        }; give the ids with --ids instead`,
        { cause: error },
      );
    } finally {
      await store.close();
    }
  }
  return { ranges: toRanges(ids), said };
}
