/**
 * The inbox as middleware: inside the handler's transaction, each delivery's
 * key is claimed in the inbox; the handler gets only those not handled
 * before, and their keys commit with its effect.
 *
 * @module
 */
import type { Delivery, Inbox } from "../../store/mod.ts";
import type { WorkMiddleware } from "../handler.ts";

/**
 * Passes on only the deliveries `inbox` admits, by `keyOf`.
 *
 * @throws {RejectedError} (from the inbox) for different content under a
 * key handled before.
 */
export function inboxed<T>(
  inbox: Inbox,
  keyOf: (delivery: Delivery<T>) => string,
): WorkMiddleware<T> {
  return (next) => async (work) => {
    const admitted: Delivery<T>[] = [];
    for (const delivery of work.deliveries) {
      if (await inbox.admit(work.tx, keyOf(delivery), delivery.digest)) {
        admitted.push(delivery);
      }
    }
    await next({ ...work, deliveries: admitted });
  };
}
