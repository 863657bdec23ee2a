/**
 * Consuming with manual acks, a batch at a time: the deliveries at hand are
 * handled in one commit and acked with one `multiple` ack, only after the
 * commit or after the failed ones are safe where the failure policy puts them.
 *
 * @module
 */
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { delay } from "./delay.ts";
import { BrokerError, describeError } from "./errors.ts";
import type { FailurePolicy } from "./failure_policy.ts";

/** What a consumer does with the messages it receives. */
export interface ConsumerOptions<T> {
  /** The connection to consume on. */
  connection: ChannelModel;
  /** The queue, declared already. */
  queue: string;
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
  decode(body: Uint8Array): T;
  /**
   * Commits the work for a batch of messages, all or nothing. What it
   * throws makes each message of the batch be tried alone, again as the
   * failure policy says, and then set aside.
   */
  handle(values: T[]): void | Promise<void>;
  /** How failed messages are retried and where they are set aside. */
  failure: FailurePolicy;
}

/** A message of a batch that failed, and why. */
interface Failed {
  message: ConsumeMessage;
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
  #stopped = false;
  #finish!: (error?: Error) => void;
  /** Settles when consuming ends: resolves after {@linkcode Consumer.stop}, rejects when the broker ends it. */
  readonly finished: Promise<void>;

  private constructor(channel: Channel, options: ConsumerOptions<T>) {
    this.#channel = channel;
    this.#options = options;
    this.finished = new Promise<void>((resolve, reject) => {
      this.#finish = (error) => error ? reject(error) : resolve();
    });
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
    const { consumerTag } = await channel.consume(
      options.queue,
      (message) => consumer.#receive(message),
      { noAck: false },
    );
    consumer.#tag = consumerTag;
    return consumer;
  }

  /** Stops taking deliveries, finishes the ones at hand and closes the channel. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
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
    // Deliveries that arrive together are handled together, after this tick.
    this.#working ??= this.#work();
  }

  async #work(): Promise<void> {
    try {
      await Promise.resolve();
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#waiting.length);
        await this.#handleBatch(batch);
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
    const { decode, handle, failure } = this.#options;
    const valid: { message: ConsumeMessage; value: T }[] = [];
    const failed: Failed[] = [];
    for (const message of batch) {
      try {
        valid.push({ message, value: decode(message.content) });
      } catch (error) {
        failed.push({ message, reason: describeError(error), attempts: 0 });
      }
    }
    if (valid.length > 0) {
      try {
        await handle(valid.map((entry) => entry.value));
      } catch {
        // One message may spoil the batch: find it by handling each alone.
        for (const { message, value } of valid) {
          const failure = await this.#retry(value);
          if (failure) failed.push({ message, ...failure });
        }
      }
    }
    await Promise.all(
      failed.map(({ message, reason, attempts }) =>
        failure.setAside(message, reason, attempts)
      ),
    );
    // Every delivery up to the last of the batch is done: one ack covers them.
    this.#channel.ack(batch[batch.length - 1], true);
  }

  /** Handles one message alone, as the policy says; why, when every try failed. */
  async #retry(
    value: T,
  ): Promise<{ reason: string; attempts: number } | undefined> {
    const { handle, failure } = this.#options;
    const attempts = failure.maxAttempts;
    let reason = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await handle([value]);
        return undefined;
      } catch (error) {
        reason = describeError(error);
      }
      if (attempt < attempts) await delay(failure.retryDelay(attempt));
    }
    return { reason: `Handling failed ${attempts} times: ${reason}`, attempts };
  }
}
