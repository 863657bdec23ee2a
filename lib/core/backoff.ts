/**
 * How long to wait before trying again: exponential, capped, with jitter so
 * that many clients that failed together do not try again together.
 *
 * @module
 */

/** Options of {@linkcode backoff}. */
export interface BackoffOptions {
  /**
   * The ceiling of the first wait, in milliseconds.
   *
   * @default {200}
   */
  initial?: number;
  /**
   * The largest ceiling, in milliseconds.
   *
   * @default {10000}
   */
  max?: number;
}

/**
 * Milliseconds to wait before try `attempt` (0, 1, 2 ...): a ceiling that
 * doubles from `initial` up to `max`, and a wait between half the ceiling
 * and the ceiling.
 */
export function backoff(attempt: number, options: BackoffOptions = {}): number {
  const { initial = 200, max = 10_000 } = options;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}
