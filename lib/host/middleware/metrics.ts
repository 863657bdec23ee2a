/**
 * Metrics as middleware: how long each batch took and how many deliveries
 * were handled, per queue.
 *
 * @module
 */
import type { Monitor } from "../../observability/mod.ts";
import type { Middleware } from "../handler.ts";

/** Counts what `queue`'s handler did into `monitor`; `onHandled` after each batch. */
export function measured<T>(
  monitor: Monitor,
  queue: string,
  onHandled?: (count: number) => void,
): Middleware<T> {
  const labels = { ...monitor.labels, queue };
  monitor.handled.inc(labels, 0);
  return (next) => async (batch) => {
    const began = performance.now();
    await next(batch);
    monitor.handleSeconds.observe(
      monitor.labels,
      (performance.now() - began) / 1000,
    );
    monitor.handled.inc(labels, batch.deliveries.length);
    onHandled?.(batch.deliveries.length);
  };
}
