/**
 * The inbox as middleware: inside the handler's transaction, each delivery's
 * key is claimed in the inbox; the handler gets only those not handled
 * before, and their keys commit with its effect.
 *
 * @module
 */
import { RejectedError } from "../../core/mod.ts";
import type { Delivery, Inbox } from "../../store/mod.ts";
import type { WorkMiddleware } from "../handler.ts";

/**
 * Passes on only the deliveries `inbox` admits, by `keyOf`. With `timeOf`
 * (when a message was made), a message from before the inbox's horizon
 * (what pruning forgot) is refused, not taken as new: it may have been
 * handled already.
 *
 * @throws {RejectedError} for different content under a key handled
 * before, or a message from before the horizon.
 */
export function inboxed<T>(
  inbox: Inbox,
  keyOf: (delivery: Delivery<T>) => string,
  timeOf?: (delivery: Delivery<T>) => string | undefined,
): WorkMiddleware<T> {
  return (next) => async (work) => {
    const admitted: Delivery<T>[] = [];
    const horizon = timeOf && await inbox.horizon(work.tx);
    for (const delivery of work.deliveries) {
      const key = keyOf(delivery);
      if (!await inbox.admit(work.tx, key, delivery.digest)) continue;
      const made = horizon && timeOf?.(delivery);
      if (made && Date.parse(made) < Date.parse(horizon)) {
        throw new RejectedError(
          `"${key}" was made at ${made}, before what the inbox remembers (keys handled before ${horizon} are pruned, RETENTION): it may have been handled already, so it is not applied`,
        );
      }
      admitted.push(delivery);
    }
    await next({ ...work, deliveries: admitted });
  };
}
