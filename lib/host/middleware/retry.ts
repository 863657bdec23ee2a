/**
 * The failure policy's retry as middleware: a batch that fails is handled
 * again one delivery at a time, each as often as the policy says, so that
 * one bad message does not spoil the others. What fails for good is named
 * in a {@linkcode BatchFailed}, for the consumer to set aside.
 *
 * @module
 */
import { delay, describeError, RejectedError } from "../../core/mod.ts";
import {
  BatchFailed,
  type HandlingFailure,
  type RetryPolicy,
} from "../../messaging/mod.ts";
import type { Delivery } from "../../store/mod.ts";
import type { Middleware } from "../handler.ts";

/** Options of {@linkcode retried}. */
export interface RetriedOptions {
  /** Whether an error is the store failing: never retried, it pauses the consumer. */
  storeFailing?(error: unknown): boolean;
  /** Told of each try of a delivery alone. */
  onRetry?(): void;
}

/**
 * Retries a failed batch a delivery at a time, as `policy` says; a
 * {@linkcode RejectedError} of a delivery alone fails it at once.
 *
 * @throws {BatchFailed} naming the deliveries that failed for good.
 */
export function retried<T>(
  policy: RetryPolicy,
  options: RetriedOptions = {},
): Middleware<T> {
  const rethrowIfStore = (error: unknown) => {
    if (options.storeFailing?.(error)) throw error;
  };
  return (next) => async (batch) => {
    try {
      await next(batch);
      return;
    } catch (error) {
      rethrowIfStore(error);
    }
    const failures: HandlingFailure<Delivery<T>>[] = [];
    for (const delivery of batch.deliveries) {
      let reason = "";
      let handled = false;
      let failure: HandlingFailure<Delivery<T>> | undefined;
      for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
        options.onRetry?.();
        try {
          await next({ ...batch, deliveries: [delivery] });
          handled = true;
          break;
        } catch (error) {
          if (error instanceof RejectedError) {
            failure = {
              value: delivery,
              kind: "rejected",
              reason: error.message,
              attempts: attempt,
            };
            break;
          }
          rethrowIfStore(error);
          reason = describeError(error);
        }
        if (attempt < policy.maxAttempts) {
          await delay(policy.retryDelay(attempt));
        }
      }
      if (!failure && !handled) {
        failure = {
          value: delivery,
          kind: "failed",
          reason: `Handling failed ${policy.maxAttempts} times: ${reason}`,
          attempts: policy.maxAttempts,
        };
      }
      if (failure) failures.push(failure);
    }
    if (failures.length > 0) throw new BatchFailed(failures);
  };
}
