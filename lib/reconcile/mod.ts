/**
 * The day close, as a consuming service takes it: a ledger of the sales it
 * committed, and the reconciliation of each till's close against it, with
 * gaps shown before any close.
 *
 * @example
 * ```ts ignore
 * import { Reconciler } from "./mod.ts";
 *
 * const reconciler = await Reconciler.open(store, { service: "billing", outbox, monitor });
 * const handle = reconciler.recorded(ledgerSaleOf)(invoiceSales);
 * ```
 *
 * @module
 */
export * from "./closes.ts";
export * from "./ledger.ts";
export * from "./reconciler.ts";
