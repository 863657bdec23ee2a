/**
 * The transaction as middleware: the handler and what runs inside it
 * commit together, under the batch's `commit` spans when tracing is on.
 *
 * @module
 */
import type { Store, TransactionOptions } from "../../store/mod.ts";
import type { BatchHandler, WorkHandler } from "../handler.ts";

/**
 * Runs `next` in one transaction of `store`. By default the commit does not
 * wait for its sync: the consumer acks only once the store has synced, and
 * the next batch is handled meanwhile.
 */
export function inTransaction<T>(
  store: Store,
  options: TransactionOptions = { waitForSync: false },
): (next: WorkHandler<T>) => BatchHandler<T> {
  return (next) => async (batch) => {
    const commit = () =>
      store.transaction((tx) => next({ ...batch, tx }), options);
    await (batch.trace ? batch.trace.commit(commit) : commit());
  };
}
