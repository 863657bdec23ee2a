/**
 * Tracing as middleware: a `handle` span per delivery, the child of the
 * span its message carries, ended with the batch.
 *
 * @module
 */
import { withTraceBatch } from "../../observability/mod.ts";
import type { Delivery } from "../../store/mod.ts";
import type { Middleware } from "../handler.ts";

/** Spans for the deliveries of `service`, with `attributes` each. */
export function traced<T>(
  service: string,
  attributes: (
    delivery: Delivery<T>,
  ) => Record<string, string | number | undefined> = () => ({}),
): Middleware<T> {
  return (next) => (batch) =>
    withTraceBatch(service, batch.deliveries, {
      attributes,
      work: (trace) => next({ ...batch, trace }),
    });
}
