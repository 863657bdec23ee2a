/**
 * Waiting, cancellable with an AbortSignal, in the manner of `@std/async`'s
 * `delay`, except that an abort ends the wait quietly: the callers stop
 * waiting because they are stopping, and check their own signal next.
 *
 * @module
 */

/** Options of {@linkcode delay}. */
export interface DelayOptions {
  /** Ends the wait early. */
  signal?: AbortSignal;
  /**
   * Ends the wait early when it settles: a wake-up, without an
   * AbortController to cancel the timer (whose abort makes a DOMException,
   * stack and all, for every wait cut short).
   */
  until?: Promise<unknown>;
  /**
   * Whether the timer keeps the process alive.
   *
   * @default {true}
   */
  persistent?: boolean;
}

/** Resolves after `ms` milliseconds, or as soon as `options.signal` aborts. */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, until, persistent = true } = options;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (!persistent) Deno.unrefTimer(timer);
    signal?.addEventListener("abort", done, { once: true });
    until?.then(done, done);
  });
}
