/**
 * The back office's pages, rendered on the server: plain HTML that works
 * without script, with headings, labels and a skip link, and `data-` hooks
 * for `/app.js` to keep the numbers live.
 *
 * @module
 */
export * from "./layout.ts";
export * from "./today.ts";
export * from "./invoices.ts";
export * from "./stock.ts";
export * from "./error_queues.ts";
export * from "./audit.ts";
export * from "./day_close.ts";
export * from "./feed_line.ts";
