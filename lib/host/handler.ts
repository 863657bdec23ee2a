/**
 * A consumer's handler and the middleware around it. The handler writes
 * only its effect, inside the transaction it is given, for the deliveries
 * its inbox has not seen; middleware does the rest around it: the
 * transaction, the inbox, tracing, metrics.
 *
 * @example
 * ```ts
 * import { compose, type Middleware, type WorkHandler } from "./handler.ts";
 *
 * const count: Middleware<number> = (next) => async (batch) => {
 *   console.log(`${batch.deliveries.length} deliveries`);
 *   await next(batch);
 * };
 * ```
 *
 * @module
 */
import type { TraceBatch } from "../observability/mod.ts";
import type { Delivery, Sql } from "../store/mod.ts";

/** Deliveries as they go through the middleware. */
export interface Batch<T> {
  /** The deliveries, in the order they came (or a middleware set). */
  deliveries: Delivery<T>[];
  /** Their spans, when tracing is on. */
  trace?: TraceBatch<Delivery<T>>;
}

/** Deliveries inside their transaction. */
export interface Work<T> extends Batch<T> {
  /** The transaction the effect and the inbox's keys commit in. */
  tx: Sql;
}

/** Handles a batch outside a transaction. */
export type BatchHandler<T> = (batch: Batch<T>) => Promise<void>;

/** Writes a batch's effect inside its transaction. */
export type WorkHandler<T> = (work: Work<T>) => Promise<void>;

/** Wraps a handler outside the transaction. */
export type Middleware<T> = (next: BatchHandler<T>) => BatchHandler<T>;

/** Wraps a handler inside the transaction. */
export type WorkMiddleware<T> = (next: WorkHandler<T>) => WorkHandler<T>;

/** `handler` wrapped in `middleware`, the first outermost. */
export function compose<H>(handler: H, ...middleware: ((next: H) => H)[]): H {
  return middleware.reduceRight((next, wrap) => wrap(next), handler);
}
