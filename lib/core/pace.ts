/**
 * Work done in runs of items: as fast as it goes, in chunks, or as the items
 * fall due at a rate. Memory stays flat however many items there are: each
 * run is made when it is done, not all at first.
 *
 * @module
 */
import { delay } from "./delay.ts";

/** Options of {@linkcode paced}. */
export interface PaceOptions {
  /** How many items in all. */
  count: number;
  /** Items a second; as fast as `work` goes when undefined. */
  rate?: number;
  /** The most items in one run. */
  chunk: number;
  /**
   * Awaited after each run when there is no rate: room for what the runs
   * feed (a relay) to catch up.
   */
  between?(): Promise<void>;
}

/**
 * Calls `work(from, to)` for runs of items until `count` are done. At a
 * rate, the items due at once (the worker fell behind) go in one run.
 *
 * @example
 * ```ts
 * import { paced } from "./pace.ts";
 *
 * await paced({ count: 10, rate: 100, chunk: 5 }, async (from, to) => {
 *   console.log(`items ${from} to ${to}`);
 * });
 * ```
 */
export async function paced(
  options: PaceOptions,
  work: (from: number, to: number) => Promise<unknown>,
): Promise<void> {
  const { count, rate, chunk } = options;
  if (rate === undefined) {
    for (let i = 0; i < count; i += chunk) {
      await work(i, Math.min(count, i + chunk));
      await options.between?.();
    }
    return;
  }
  const started = performance.now();
  for (let i = 0; i < count;) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 0) await delay(wait);
    const due = Math.floor((performance.now() - started) * rate / 1000) + 1;
    const to = Math.min(count, Math.max(i + 1, due), i + chunk);
    await work(i, to);
    i = to;
  }
}
