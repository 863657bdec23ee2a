/**
 * What happens to a message that cannot be handled: how often and how
 * patiently it is tried again (the retry, which the host's retry
 * middleware follows), and where it goes when it fails for good (the
 * consumer's failure policy). Both are data, apart from the consuming.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { ConsumeMessage } from "amqplib";
import { backoff, type BackoffOptions } from "../core/mod.ts";
import type { Publisher } from "./publisher.ts";
import { errorQueueOf, ERRORS_EXCHANGE } from "./topology.ts";

/** A consumer's rule for messages that fail for good. */
export interface FailurePolicy {
  /**
   * Deliveries of a message before it is set aside unhandled: one that
   * stops the process each time would otherwise come back forever.
   */
  readonly maxDeliveries: number;
  /**
   * Keeps a message that failed, with its reason, somewhere safe;
   * resolves once it is (the broker confirmed it), so that it may be acked.
   */
  setAside(
    message: ConsumeMessage,
    reason: string,
    attempts: number,
  ): Promise<void>;
}

/** How a message whose handling failed is tried again, alone. */
export interface RetryPolicy {
  /** Tries of a message whose handling fails, the first included. */
  readonly maxAttempts: number;
  /** Milliseconds to wait before try `attempt` + 1 (`attempt` is 1, 2 ...). */
  retryDelay(attempt: number): number;
}

/**
 * Tries with backoff between them.
 *
 * @example
 * ```ts
 * import { retryPolicy } from "./failure_policy.ts";
 *
 * const patient = retryPolicy({ maxAttempts: 10 });
 * ```
 */
export function retryPolicy(
  options: {
    /**
     * Tries of a message whose handling fails, the first included.
     *
     * @default {5}
     */
    maxAttempts?: number;
    /**
     * The backoff between tries.
     *
     * @default {{ initial: 100, max: 2000 }}
     */
    retry?: BackoffOptions;
  } = {},
): RetryPolicy {
  const { maxAttempts = 5, retry = { initial: 100, max: 2000 } } = options;
  return {
    maxAttempts,
    retryDelay: (attempt) => backoff(attempt - 1, retry),
  };
}

/** A message of a batch that failed for good, by the value it was read as. */
export interface HandlingFailure<T> {
  /** The value the message was read as. */
  value: T;
  /** Refused by the handler at once, or failed on every try. */
  kind: "rejected" | "failed";
  /** Why, in one line. */
  reason: string;
  /** Tries made. */
  attempts: number;
}

/**
 * Thrown by a handler (its retry) for a batch some of whose messages failed
 * for good: the consumer sets those aside and acks the batch, the others
 * being committed.
 */
export class BatchFailed<T> extends Error {
  /** The messages that failed, and why. */
  readonly failures: HandlingFailure<T>[];

  /** Creates the error for `failures`. */
  constructor(failures: HandlingFailure<T>[]) {
    super(
      `${failures.length} message(s) of the batch failed: ${
        failures.map((failure) => failure.reason).join("; ")
      }`,
    );
    this.name = "BatchFailed";
    this.failures = failures;
  }
}

/** Options of {@linkcode errorQueuePolicy}. */
export interface ErrorQueuePolicyOptions {
  /** Publishes to the error queue, with confirms. */
  publisher: Publisher;
  /** The consumer's queue; failures go to `<queue>_error`. */
  queue: string;
  /**
   * Deliveries of a message before it is set aside unhandled.
   *
   * @default {10}
   */
  maxDeliveries?: number;
  /** Told of each message set aside. */
  onSetAside?(reason: string, message: ConsumeMessage): void;
}

/** Headers a message set aside carries, saying why and where from. */
export const ERROR_HEADERS = [
  "x-error-reason",
  "x-attempts",
  "x-original-exchange",
  "x-original-routing-key",
  "x-original-queue",
  "x-failed-at",
] as const;

/**
 * Sets a message that failed for good aside in `<queue>_error`, byte for
 * byte, with its reason and origin in the headers.
 */
export function errorQueuePolicy(
  options: ErrorQueuePolicyOptions,
): FailurePolicy {
  const { publisher, queue, maxDeliveries = 10, onSetAside } = options;
  return {
    maxDeliveries,
    async setAside(message, reason, attempts) {
      const { properties, fields } = message;
      await publisher.publish({
        exchange: ERRORS_EXCHANGE,
        routingKey: errorQueueOf(queue),
        body: Buffer.from(message.content),
        messageId: properties.messageId ?? crypto.randomUUID(),
        contentType: properties.contentType,
        headers: {
          ...properties.headers,
          "x-error-reason": reason.slice(0, 1000),
          "x-attempts": attempts,
          "x-original-exchange": fields.exchange,
          "x-original-routing-key": fields.routingKey,
          "x-original-queue": queue,
          "x-failed-at": new Date().toISOString(),
        },
      });
      onSetAside?.(reason, message);
    },
  };
}
