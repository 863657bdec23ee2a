/**
 * Work on a store that may be away for a while (a database server
 * restarting): tried again with backoff while the store fails, said once
 * when it starts failing and once when it works again.
 *
 * @module
 */
import {
  backoff,
  type BackoffOptions,
  delay,
  describeError,
} from "../core/mod.ts";
import type { Log } from "../log/mod.ts";
import { isStoreFailure } from "./database.ts";

/** Options of {@linkcode whileStoreFails}. */
export interface PatientOptions {
  /** Where the lines go. */
  log: Log;
  /** Who waits, for the lines: `pos`. */
  name: string;
  /** What waits, for the line: `the sales wait until it works`. */
  waiting: string;
  /**
   * The backoff between tries.
   *
   * @default {{ initial: 500, max: 10_000 }}
   */
  retry?: BackoffOptions;
}

/**
 * Runs `work` until it does not fail for the store; any other failure is
 * thrown at once.
 *
 * @example
 * ```ts
 * import { whileStoreFails } from "./patient.ts";
 * import { createLog } from "../log/mod.ts";
 *
 * await whileStoreFails(async () => {}, {
 *   log: createLog("pos"),
 *   name: "pos",
 *   waiting: "the sales wait until it works",
 * });
 * ```
 */
export async function whileStoreFails<T>(
  work: () => Promise<T>,
  options: PatientOptions,
): Promise<T> {
  const { log, name } = options;
  for (let attempt = 0;; attempt++) {
    try {
      const result = await work();
      if (attempt > 0) log.warn(`${name}: its store works again`);
      return result;
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      if (attempt === 0) {
        log.error(
          `${name}: its store is failing (${
            describeError(error)
          }); ${options.waiting}`,
        );
      }
      await delay(
        backoff(attempt, options.retry ?? { initial: 500, max: 10_000 }),
      );
    }
  }
}
