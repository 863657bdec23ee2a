/**
 * Consuming with manual acks, a batch at a time: the deliveries at hand are
 * handled in one commit and acked with one `multiple` ack, only after the
 * commit or after the failed ones are safe where the failure policy puts them.
 *
 * @module
 */
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import {
  backoff,
  BrokerError,
  delay,
  describeError,
  RejectedError,
} from "../core/mod.ts";
import {
  BatchFailed,
  type FailurePolicy,
  type HandlingFailure,
} from "./failure_policy.ts";

/** What a consumer does with the messages it receives. */
export interface ConsumerOptions<T> {
  /** The connection to consume on. */
  connection: ChannelModel;
  /** The queue, declared already. */
  queue: string;
  /**
   * The largest body read; a larger one is set aside unread.
   *
   * @default {262144}
   */
  maxMessageBytes?: number;
  /**
   * Unacked messages the broker may send ahead.
   *
   * @default {200}
   */
  prefetch?: number;
  /**
   * Reads a body; what it throws makes the message invalid, and an invalid
   * message is set aside at once.
   */
  decode(body: Uint8Array, message: ConsumeMessage): T;
  /**
   * Commits the work for a batch of messages. A {@linkcode BatchFailed} it
   * throws names the messages that failed for good (its retry tried them
   * alone, as the failure policy says): those are set aside, the batch
   * acked. Anything else it throws sets aside every message of the batch.
   */
  handle(values: T[]): void | Promise<void>;
  /** Where messages that failed for good are set aside, and after how many deliveries. */
  failure: FailurePolicy;
  /**
   * Resolves once what the handler committed is on disk, when its commit
   * resolves before that (`waitForSync: false`): a batch is acked only
   * then, and the next batch is handled meanwhile. What it throws is the
   * store failing.
   *
   * @default {every commit is on disk when the handler resolves}
   */
  synced?(): Promise<void>;
  /**
   * Whether an error is the service's own store failing (a full disk), not
   * the message: then nothing is set aside; the deliveries at hand go back
   * to the queue, consuming pauses, and resumes after a backoff.
   */
  storeFailing?(error: unknown): boolean;
  /** Told once when consuming pauses for a failing store, and once when it works again. */
  onStore?(state: "failing" | "working", error?: unknown): void;
  /**
   * How many times a message has been delivered, this time included;
   * counted where it survives a crash, since a message that kills the
   * process is delivered again and again. Above `failure.maxDeliveries`
   * it is set aside.
   */
  deliveries?(message: ConsumeMessage): number | Promise<number>;
  /** Told of each message set aside, once it is safe, with why in one word. */
  onSetAside?(kind: FailureKind, message: ConsumeMessage): void;
}

/**
 * Why a message was set aside, in one word, for metrics: delivered too often,
 * too large to read, not a valid message, refused by the handler (a
 * {@linkcode RejectedError}), or failed on every try.
 */
export type FailureKind =
  | "redelivered"
  | "too_large"
  | "invalid"
  | "rejected"
  | "failed";

/**
 * The messages of a batch whose handler failed: those a
 * {@linkcode BatchFailed} names (its retry found them), or, from a handler
 * that does not retry, every message of the batch with what it threw.
 */
function failuresOf<T>(
  error: unknown,
  batch: { message: ConsumeMessage; value: T }[],
): Failed[] {
  if (!(error instanceof BatchFailed)) {
    return batch.map(({ message }) => ({
      message,
      kind: error instanceof RejectedError ? "rejected" : "failed",
      reason: describeError(error),
      attempts: 1,
    }));
  }
  const messages = new Map(batch.map(({ message, value }) => [value, message]));
  return (error.failures as HandlingFailure<T>[]).flatMap((failure) => {
    const message = messages.get(failure.value);
    return message ? [{ ...failure, message }] : [];
  });
}

/** Thrown inside a batch when the store fails: the batch goes back whole. */
class StoreFailure extends Error {}

/** A message of a batch that failed, and why. */
interface Failed {
  message: ConsumeMessage;
  kind: FailureKind;
  reason: string;
  attempts: number;
}

/**
 * Consumes with manual acks and handles the deliveries at hand as one batch:
 * one commit, then one ack with `multiple`.
 */
export class Consumer<T> {
  readonly #options: ConsumerOptions<T>;
  readonly #channel: Channel;
  readonly #waiting: ConsumeMessage[] = [];
  #tag: string | undefined;
  #working: Promise<void> | undefined;
  /** The acks of the batches handled, each once its commit is on disk, in order. */
  #acks: Promise<void> = Promise.resolve();
  #acksPending = 0;
  /** Why a batch handled could not be acked: its commit is not known to be on disk. */
  #ackFailure: { error: unknown } | undefined;
  /** Resolved by the next delivery, for a consumer waiting on its acks. */
  #arrived: PromiseWithResolvers<void> | undefined;
  #stopped = false;
  /** Pauses in a row for a failing store; 0 once a batch commits. */
  #storeFailures = 0;
  readonly #stop = new AbortController();
  #finish!: (error?: Error) => void;
  /** Settles when consuming ends: resolves after {@linkcode Consumer.stop}, rejects when the broker ends it. */
  readonly finished: Promise<void>;

  private constructor(channel: Channel, options: ConsumerOptions<T>) {
    this.#channel = channel;
    this.#options = options;
    this.finished = new Promise<void>((resolve, reject) => {
      this.#finish = (error) => error ? reject(error) : resolve();
    });
    // The channel may close before anyone waits on it (while it starts, or
    // while the next consumer of a session starts): whoever waits still gets
    // the error, and a process is not ended by it meanwhile.
    this.finished.catch(() => {});
    channel.on("error", () => {});
    channel.on("close", () => {
      if (!this.#stopped) {
        this.#finish(new BrokerError(`Channel of "${options.queue}" closed`));
      }
    });
  }

  /** Starts consuming `options.queue`. */
  static async start<T>(options: ConsumerOptions<T>): Promise<Consumer<T>> {
    const channel = await options.connection.createChannel();
    await channel.prefetch(options.prefetch ?? 200);
    const consumer = new Consumer(channel, options);
    await consumer.#consume();
    return consumer;
  }

  async #consume(): Promise<void> {
    const { consumerTag } = await this.#channel.consume(
      this.#options.queue,
      (message) => this.#receive(message),
      { noAck: false },
    );
    this.#tag = consumerTag;
  }

  /** Stops taking deliveries, finishes the ones at hand and closes the channel. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop.abort();
    try {
      if (this.#tag) await this.#channel.cancel(this.#tag);
    } catch {
      // The channel is gone; its unacked deliveries return to the queue.
    }
    while (this.#working) await this.#working;
    try {
      await this.#channel.close();
    } catch {
      // Closed already.
    }
    this.#finish();
  }

  #receive(message: ConsumeMessage | null): void {
    if (message === null) {
      this.#finish(
        new BrokerError(
          `Consumer of "${this.#options.queue}" was cancelled by the broker`,
        ),
      );
      return;
    }
    this.#waiting.push(message);
    this.#arrived?.resolve();
    // Deliveries that arrive together are handled together, after this tick.
    this.#working ??= this.#work();
  }

  async #work(): Promise<void> {
    try {
      await Promise.resolve();
      for (;;) {
        if (this.#ackFailure) {
          const { error } = this.#ackFailure;
          await this.#pause(error);
        } else if (this.#waiting.length > 0) {
          const batch = this.#waiting.splice(0, this.#waiting.length);
          await this.#handleBatch(batch);
        } else if (this.#acksPending > 0) {
          // The next batch comes in while this one's commit syncs.
          this.#arrived = Promise.withResolvers();
          await Promise.race([this.#arrived.promise, this.#acks]);
          this.#arrived = undefined;
        } else {
          break;
        }
      }
    } catch (error) {
      this.#finish(
        error instanceof Error ? error : new Error(String(error)),
      );
    } finally {
      this.#working = undefined;
    }
  }

  async #handleBatch(batch: ConsumeMessage[]): Promise<void> {
    try {
      await this.#handleOrSetAside(batch);
    } catch (error) {
      if (!(error instanceof StoreFailure)) throw error;
      await this.#pause(error.cause);
      return;
    }
    const last = batch[batch.length - 1];
    const synced = this.#options.synced?.();
    synced?.catch(() => {}); // Seen in order, below.
    this.#acksPending++;
    this.#acks = this.#acks.then(async () => {
      try {
        if (this.#ackFailure) return; // Sent back by the pause, not acked.
        try {
          await synced;
        } catch (error) {
          this.#ackFailure = { error };
          return;
        }
        // Every delivery up to the last of the batch is done: one ack
        // covers them.
        try {
          this.#channel.ack(last, true);
        } catch {
          return; // The channel closed: they go back to the queue.
        }
        if (this.#storeFailures > 0) {
          this.#storeFailures = 0;
          this.#options.onStore?.("working");
        }
      } finally {
        this.#acksPending--;
      }
    });
  }

  async #handleOrSetAside(batch: ConsumeMessage[]): Promise<void> {
    const { decode, handle, failure, deliveries } = this.#options;
    const valid: { message: ConsumeMessage; value: T }[] = [];
    const failed: Failed[] = [];
    for (const message of batch) {
      const delivered = message.fields.redelivered || hasDeliveryCount(message)
        ? await this.#guard(async () => await deliveries?.(message) ?? 1)
        : 1;
      if (delivered > failure.maxDeliveries) {
        failed.push({
          message,
          kind: "redelivered",
          reason:
            `Delivered ${delivered} times without being handled: the service may stop on it each time`,
          attempts: delivered - 1,
        });
        continue;
      }
      const { byteLength } = message.content;
      const maxBytes = this.#options.maxMessageBytes ?? 262_144;
      if (byteLength > maxBytes) {
        failed.push({
          message,
          kind: "too_large",
          reason:
            `Message body is ${byteLength} bytes, more than the ${maxBytes} allowed (MAX_MESSAGE_BYTES)`,
          attempts: 0,
        });
        continue;
      }
      try {
        valid.push({ message, value: decode(message.content, message) });
      } catch (error) {
        failed.push({
          message,
          kind: "invalid",
          reason: describeError(error),
          attempts: 0,
        });
      }
    }
    if (valid.length > 0) {
      try {
        await handle(valid.map((entry) => entry.value));
      } catch (error) {
        this.#stopIfStoreFails(error);
        failed.push(...failuresOf(error, valid));
      }
    }
    await Promise.all(
      failed.map(async ({ message, kind, reason, attempts }) => {
        await failure.setAside(message, reason, attempts);
        this.#options.onSetAside?.(kind, message);
      }),
    );
  }

  /** Runs `work`; a failure of the store becomes a {@linkcode StoreFailure}. */
  async #guard<R>(work: () => Promise<R>): Promise<R> {
    try {
      return await work();
    } catch (error) {
      this.#stopIfStoreFails(error);
      throw error;
    }
  }

  /** Throws a {@linkcode StoreFailure} when `error` is the store failing. */
  #stopIfStoreFails(error: unknown): void {
    if (this.#options.storeFailing?.(error)) {
      throw new StoreFailure("The store is failing", { cause: error });
    }
  }

  /**
   * The store fails: the deliveries held go back to the queue, consuming
   * stops and starts again after a backoff; the store gets a batch again.
   */
  async #pause(cause: unknown): Promise<void> {
    // The acks on their way first: none may follow the nack below.
    await this.#acks;
    this.#ackFailure = undefined;
    if (this.#storeFailures++ === 0) this.#options.onStore?.("failing", cause);
    try {
      if (this.#tag) await this.#channel.cancel(this.#tag);
      this.#tag = undefined;
      // Nothing comes after the cancel's reply: what came before is held.
      this.#waiting.length = 0;
      this.#channel.nackAll(true);
    } catch {
      return; // The channel is gone: the broker requeues what it held.
    }
    await delay(
      backoff(this.#storeFailures - 1, { initial: 500, max: 30_000 }),
      { signal: this.#stop.signal },
    );
    if (!this.#stopped) await this.#consume();
  }
}

/** Whether a quorum queue counted this message's deliveries. */
function hasDeliveryCount(message: ConsumeMessage): boolean {
  return message.properties.headers?.["x-delivery-count"] !== undefined;
}
