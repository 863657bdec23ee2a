/**
 * What every other package builds on: the typed errors the plumbing throws
 * (and how to say them in one line), delays that an AbortSignal ends, and
 * the backoff between attempts.
 *
 * @example
 * ```ts
 * import { backoff, delay, UsageError } from "./mod.ts";
 *
 * await delay(backoff(2, { initial: 10, max: 100 }));
 * const error = new UsageError("Invalid count \"x\": use a whole number");
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./delay.ts";
export * from "./backoff.ts";
export * from "./pace.ts";
export * from "./money.ts";
