/**
 * The middleware a consumer's handler is wrapped in, one per file:
 * {@linkcode measured} (metrics), {@linkcode traced} (spans),
 * {@linkcode inTransaction} and {@linkcode inboxed} (each message once).
 *
 * @module
 */
export * from "./inbox.ts";
export * from "./metrics.ts";
export * from "./tracing.ts";
export * from "./transaction.ts";
export * from "./retry.ts";
