/**
 * What the back office's pages read from its model: a store's day, the day's
 * summary, a line of the feed, a row of the invoices and a search over them.
 *
 * @module
 */

/** One store's day. */
export interface StoreDay {
  StoreId: string;
  Sales: number;
  Invoices: number;
  /** Exact: the sum of the sales' TotalAmount. */
  Revenue: string;
}

/** The totals of a day, as `GET /api/summary` answers and the Today page shows. */
export interface Summary {
  /** The day, `2026-11-27` (UTC). */
  Day: string;
  Sales: number;
  Invoices: number;
  /** Exact: the sum of the sales' TotalAmount, before tax. */
  Revenue: string;
  Stores: StoreDay[];
  /** SKUs below their threshold and not below zero. */
  LowStock: number;
  /** SKUs below zero. */
  NegativeStock: number;
  /** Sales per minute over the last hour, oldest first; empty minutes are 0. */
  PerMinute: { Minute: string; Sales: number }[];
}

/** A line of the event feed. */
export interface FeedEntry {
  Id: number;
  At: string;
  RoutingKey: string;
  Text: string;
}

/** An invoice in a list. */
export interface InvoiceRow {
  Number: string;
  StoreId: string;
  TillId: string;
  SaleId: number;
  Total: string;
  CreatedAt: string;
}

/** Which invoices to list. */
export interface InvoiceSearch {
  store?: string;
  sale?: number;
  /** Made on or after this day, `2026-11-27`. */
  from?: string;
  /** Made on or before this day. */
  to?: string;
  /**
   * The page, from 1.
   *
   * @default {1}
   */
  page?: number;
  /**
   * Invoices per page.
   *
   * @default {25}
   */
  pageSize?: number;
}
