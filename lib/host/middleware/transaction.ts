/**
 * The transaction as middleware: the handler and what runs inside it
 * commit together, under the batch's `commit` spans when tracing is on.
 *
 * @module
 */
import type { Store, TransactionOptions } from "../../store/mod.ts";
import type { BatchHandler, WorkHandler } from "../handler.ts";

/**
 * Runs `next` in one transaction of `store`. By default the commit is
 * synced in place, and the next batch begins after it: what a batch says it
 * did is said as soon as it is on disk, not after the next batch's work.
 */
export function inTransaction<T>(
  store: Store,
  options: TransactionOptions = { waitForSync: true, syncInPlace: true },
): (next: WorkHandler<T>) => BatchHandler<T> {
  return (next) => async (batch) => {
    const commit = () =>
      store.transaction((tx) => next({ ...batch, tx }), options);
    await (batch.trace ? batch.trace.commit(commit) : commit());
  };
}
