/**
 * A service's side of the day close: it records every sale it commits (in
 * the sale's transaction), takes each till's close, and answers through
 * its outbox, `till.reconciled` once it has every sale of the close for its
 * sum, or `till.discrepancy` with the ids it lacks once a grace period
 * passed. A sale that comes late turns a discrepancy into a
 * reconciliation. Gaps in a till's chain of sales show before any close.
 *
 * @module
 */
import { Decimal } from "../../contracts/decimal.ts";
import { SALES_EXCHANGE } from "../../contracts/names.ts";
import {
  closeKey,
  decodeTillClosed,
  encodeTillDiscrepancy,
  encodeTillReconciled,
  type IdRanges,
  TILL_CLOSED,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
  type TillClosed,
  toRanges,
} from "../../contracts/till.ts";
import { delay, describeError } from "../core/mod.ts";
import type { Log } from "../log/mod.ts";
import { Gauge, type Monitor } from "../observability/mod.ts";
import { delivery, type Outbox, type Sql, type Store } from "../store/mod.ts";
import type { ConsumedQueue, WorkMiddleware } from "../host/mod.ts";
import {
  type Gap,
  gapsOf,
  type LedgerHints,
  type LedgerSale,
  makeLedgerTables,
  recordSales,
  seenOf,
} from "./ledger.ts";
import { type HeldClose, heldOf } from "./closes.ts";

/** Options of {@linkcode Reconciler.open}. */
export interface ReconcilerOptions {
  /** The service, as its answers name it. */
  service: string;
  /** Where its answers go, in the same transaction as what they say. */
  outbox: Outbox;
  /** Its metrics: missing sales and gaps, by till. */
  monitor: Monitor;
  /**
   * How long after a close a service waits for its last sales before it
   * says they are missing.
   *
   * @default {60_000}
   */
  graceMs?: number;
  /**
   * How long a gap in a till's sales stays before it is shown.
   *
   * @default {300_000}
   */
  gapAgeMs?: number;
  /**
   * How long ledger rows and settled closes are kept.
   *
   * @default {7 days}
   */
  retentionMs?: number;
}

/** A service's CLOSE_GRACE, GAP_AGE and RETENTION, as a reconciler takes them. */
export function closeSettings(
  config: { closeGraceMs: number; gapAgeMs: number; retentionMs: number },
): Pick<ReconcilerOptions, "graceMs" | "gapAgeMs" | "retentionMs"> {
  return {
    graceMs: config.closeGraceMs,
    gapAgeMs: config.gapAgeMs,
    retentionMs: config.retentionMs,
  };
}

/** Milliseconds between two looks at the open closes. */
const CHECK_MS = 500;
/** Looks at the open closes between two looks at the gaps. */
const CHECKS_PER_SWEEP = 20;
/** Looks at the open closes between two prunings of the ledger: an hour. */
const CHECKS_PER_PRUNE = 7200;

/** A service's reconciliation of the tills' closes. */
export class Reconciler {
  readonly #store: Store;
  readonly #options: Required<ReconcilerOptions>;
  readonly #missing: Gauge;
  readonly #gaps: Gauge;
  readonly #log: Log;
  #gapList: Gap[] = [];
  /** What spares the ledger statements, as this process knows it. */
  readonly #hints: LedgerHints = { last: new Map(), gaps: 0 };
  /** Whether a close is still open or short: new sales may settle it. */
  #waiting = false;
  /** Wakes the checks before their time: sales came that a close waits for. */
  #wake = Promise.withResolvers<void>();

  private constructor(store: Store, options: Required<ReconcilerOptions>) {
    this.#store = store;
    this.#options = options;
    const { registry } = options.monitor;
    this.#missing = registry.add(
      new Gauge(
        "shoppingapp_close_missing_sales",
        "Sales a till's day close names that this service lacks, once the grace period passed.",
      ),
    );
    this.#gaps = registry.add(
      new Gauge(
        "shoppingapp_sale_gaps",
        "Sales this service lacks though it has the till's next one, older than GAP_AGE.",
      ),
    );
    this.#missing.set(options.monitor.labels, 0);
    this.#gaps.set(options.monitor.labels, 0);
    this.#log = options.monitor.log;
  }

  /** The reconciler of `store`, its tables made. */
  static async open(
    store: Store,
    options: ReconcilerOptions,
  ): Promise<Reconciler> {
    await makeLedgerTables(store);
    return new Reconciler(store, {
      graceMs: 60_000,
      gapAgeMs: 300_000,
      retentionMs: 7 * 86_400_000,
      ...options,
    });
  }

  /**
   * A handler's middleware that records, after the handler's own effect,
   * each admitted delivery that is a till's sale (`saleOf` says which, and
   * how); a delivery of no till is not recorded.
   */
  recorded<T>(
    saleOf: (value: T) => LedgerSale | undefined,
  ): WorkMiddleware<T> {
    return (next) => async (work) => {
      await next(work);
      const sales = work.deliveries.map((delivery) => saleOf(delivery.value))
        .filter((sale): sale is LedgerSale => sale !== undefined);
      if (sales.length === 0) return;
      await recordSales(work.tx, sales, undefined, this.#hints);
      // A close waiting for sales is looked at again as soon as they are in.
      if (this.#waiting) work.tx.onCommit(() => this.#wake.resolve());
    };
  }

  /** The queue `queue`, bound to `till.closed`, whose closes this takes. */
  closeQueue(queue: string): ConsumedQueue<TillClosed> {
    return {
      exchange: SALES_EXCHANGE,
      queue,
      routingKey: TILL_CLOSED,
      decode: (body, message) => delivery(body, decodeTillClosed, message),
      keyOf: ({ value }) => closeKey(value),
      handle: async ({ tx, deliveries }) => {
        for (const { value } of deliveries) await this.take(tx, value);
      },
    };
  }

  /**
   * Takes a close in `tx`: kept, and answered at once when every sale is
   * here already; otherwise the checks answer it later.
   */
  async take(tx: Sql, close: TillClosed): Promise<void> {
    const key = closeKey(close);
    const now = new Date().toISOString();
    const added = await tx.run(
      `INSERT INTO till_close (close_key, store_id, till_id, business_day,
        sale_ids, sale_count, total, closed_at, received_at, state)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')
        ON CONFLICT (close_key) DO NOTHING`,
      key,
      close.StoreId,
      close.TillId,
      close.BusinessDay,
      JSON.stringify(close.SaleIds),
      close.Count,
      close.TotalAmount.toString(),
      close.ClosedAt,
      now,
    );
    if (added === 0) return;
    const held = await this.#held(tx, key);
    if (held && !await this.#settle(tx, held, Date.now())) this.#waiting = true;
  }

  /** Looks at every open close and discrepancy once; `now` for tests. */
  async check(now: number = Date.now()): Promise<void> {
    const open = await this.#store.all(
      "SELECT close_key FROM till_close WHERE state <> 'reconciled' ORDER BY received_at",
    );
    if (open.length === 0) {
      // Nothing open, nothing missing: one statement while all is well.
      this.#waiting = false;
      this.#missing.set(this.#options.monitor.labels, 0);
      return;
    }
    for (const row of open) {
      await this.#store.transaction(async (tx) => {
        const held = await this.#held(tx, String(row.close_key));
        if (held && held.state !== "reconciled") {
          await this.#settle(tx, held, now);
        }
      });
    }
    const left = await this.#store.get(
      `SELECT count(*) AS open, COALESCE(SUM(CASE WHEN state = 'discrepancy'
        THEN sale_count - seen_count ELSE 0 END), 0) AS missing
        FROM till_close WHERE state <> 'reconciled'`,
    );
    this.#waiting = Number(left?.open ?? 0) > 0;
    this.#missing.set(this.#options.monitor.labels, Number(left?.missing ?? 0));
  }

  /** Looks at the gaps, and drops what is older than the retention. */
  async sweep(now: number = Date.now()): Promise<Gap[]> {
    const gaps = await gapsOf(
      this.#store,
      new Date(now - this.#options.gapAgeMs).toISOString(),
    );
    const before = gaps.length;
    this.#gaps.set(this.#options.monitor.labels, before);
    const known = new Set(this.#gapList.map(gapName));
    for (const gap of gaps) {
      if (!known.has(gapName(gap))) {
        this.#log.warn(
          `${this.#options.service}: sale #${gap.saleId} of till ${gap.tillId} (${gap.storeId}) has not come, though the till's next one came at ${gap.since}`,
          { saleId: gap.saleId, store: gap.storeId },
        );
      }
    }
    this.#gapList = gaps;
    // Gaps filled by an instance that did not see them open.
    await this.#store.run(
      `DELETE FROM till_gap WHERE EXISTS (SELECT 1 FROM till_ledger l
        WHERE l.till_id = till_gap.till_id AND l.sale_id = till_gap.sale_id)`,
    );
    const open = await this.#store.get("SELECT count(*) AS n FROM till_gap");
    this.#hints.gaps = Number(open?.n ?? 0);
    return gaps;
  }

  /**
   * Drops ledger rows and settled closes older than the retention, a chunk
   * at a time: rarely, since it reads the whole ledger.
   */
  async prune(now: number = Date.now()): Promise<void> {
    const old = new Date(now - this.#options.retentionMs).toISOString();
    for (;;) {
      const deleted = await this.#store.run(
        `DELETE FROM till_ledger WHERE (till_id, sale_id) IN
          (SELECT till_id, sale_id FROM till_ledger WHERE seen_at < ? LIMIT 5000)`,
        old,
      );
      if (deleted < 5000) break;
    }
    await this.#store.run(
      "DELETE FROM till_close WHERE state = 'reconciled' AND settled_at < ?",
      old,
    );
  }

  /** Checks every half second, and sweeps every ten, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failing = false;
    for (let i = 0; !signal.aborted; i++) {
      // Made before the look: sales that come during it wake the next.
      const wake = this.#wake = Promise.withResolvers<void>();
      try {
        await this.check();
        if (i % CHECKS_PER_SWEEP === 0) await this.sweep();
        if (i % CHECKS_PER_PRUNE === CHECKS_PER_PRUNE - 1) await this.prune();
        failing = false;
      } catch (error) {
        // Said once while it fails: the next look tries again.
        if (!failing) {
          this.#log.warn(
            `${this.#options.service}: the closes cannot be checked now (${
              describeError(error)
            }); trying again`,
          );
        }
        failing = true;
      }
      // Until the next look, or sooner when sales a close waits for came.
      await Promise.race([delay(CHECK_MS, { signal }), wake.promise]);
    }
  }

  /** The closes held, newest first: for status and the office. */
  async closes(sql: Sql = this.#store): Promise<HeldClose[]> {
    return (await sql.all(
      "SELECT * FROM till_close ORDER BY received_at DESC",
    )).map(heldOf);
  }

  async #held(tx: Sql, key: string): Promise<HeldClose | undefined> {
    const row = await tx.get(
      "SELECT * FROM till_close WHERE close_key = ?",
      key,
    );
    return row && heldOf(row);
  }

  /**
   * Reconciles `held` when it may, says a discrepancy once the grace passed.
   *
   * @returns whether it is reconciled now.
   */
  async #settle(tx: Sql, held: HeldClose, now: number): Promise<boolean> {
    const { service, outbox, graceMs } = this.#options;
    const seen = await seenOf(tx, held.tillId, held.saleIds);
    const total = Decimal.parse(held.total);
    const at = new Date(now).toISOString();
    const base = {
      Service: service,
      StoreId: held.storeId,
      TillId: held.tillId,
      BusinessDay: held.businessDay,
      Count: held.count,
      TotalAmount: total,
      At: at,
    };
    if (seen.missing.length === 0 && seen.amount.equals(total)) {
      const changed = await tx.run(
        `UPDATE till_close SET state = 'reconciled', seen_count = ?,
          seen_total = ?, missing = '[]', settled_at = ?
          WHERE close_key = ? AND state = ?`,
        seen.count,
        seen.amount.toString(),
        at,
        held.key,
        held.state,
      );
      if (changed === 0) return true;
      await outbox.add(tx, {
        exchange: SALES_EXCHANGE,
        routingKey: TILL_RECONCILED,
        messageId: `reconciled:${service}:${held.key}`,
        body: encodeTillReconciled(base),
        mandatory: false,
      });
      tx.onCommit(() =>
        this.#log.info(
          `${service}: till ${held.tillId} of ${held.storeId}, day ${held.businessDay}: reconciled, ${seen.count} sale(s), Rs.${seen.amount}`,
        )
      );
      return true;
    }
    const missing = toRanges(seen.missing);
    if (held.state === "discrepancy") {
      // Still short: what is missing now is kept for status and the pages.
      if (seen.count === held.seenCount) return false;
      await tx.run(
        "UPDATE till_close SET seen_count = ?, seen_total = ?, missing = ? WHERE close_key = ?",
        seen.count,
        seen.amount.toString(),
        JSON.stringify(missing),
        held.key,
      );
      return false;
    }
    if (now - Date.parse(held.receivedAt) < graceMs) return false;
    const changed = await tx.run(
      `UPDATE till_close SET state = 'discrepancy', seen_count = ?,
        seen_total = ?, missing = ?, settled_at = ?
        WHERE close_key = ? AND state = 'open'`,
      seen.count,
      seen.amount.toString(),
      JSON.stringify(missing),
      at,
      held.key,
    );
    if (changed === 0) return false;
    await outbox.add(tx, {
      exchange: SALES_EXCHANGE,
      routingKey: TILL_DISCREPANCY,
      messageId: `discrepancy:${service}:${held.key}`,
      body: encodeTillDiscrepancy({
        ...base,
        SeenCount: seen.count,
        SeenAmount: seen.amount,
        MissingSaleIds: missing,
      }),
      mandatory: false,
    });
    tx.onCommit(() =>
      this.#log.warn(
        `${service}: till ${held.tillId} of ${held.storeId}, day ${held.businessDay}: ${seen.missing.length} sale(s) missing (${
          formatShort(missing)
        }), Rs.${seen.amount} of Rs.${total}; deno task pos -- resend --missing sends them again`,
      )
    );
    return false;
  }
}

/** A gap, as a name. */
function gapName(gap: Gap): string {
  return `${gap.tillId}:${gap.saleId}`;
}

/** Ranges for a line: the first few, and how many more. */
function formatShort(ranges: IdRanges): string {
  const shown = ranges.slice(0, 5).map(([from, to]) =>
    from === to ? `#${from}` : `#${from}-${to}`
  ).join(", ");
  return ranges.length > 5 ? `${shown} and ${ranges.length - 5} more` : shown;
}
