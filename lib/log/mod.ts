/**
 * A service's log: one line per event, as text for people or JSON for
 * machines (`LOG_FORMAT`), with its fields.
 *
 * @example
 * ```ts
 * import { createLog } from "./mod.ts";
 *
 * const log = createLog("billing");
 * log.info("Invoice #1 created.", { saleId: 10000 });
 * ```
 *
 * @module
 */
export * from "./log.ts";
