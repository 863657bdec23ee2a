/**
 * A consumer's handler in-process: the queue's declaration composed as the
 * service host composes it (middleware, transaction, inbox), consuming from
 * a fake channel into a store of the test's, with a failure policy that
 * keeps what it sets aside. No broker: a handler's test runs in
 * milliseconds.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import type { ConsumeMessage } from "amqplib";
import { composeHandler, type ConsumedQueue } from "../../lib/host/mod.ts";
import { Consumer, type FailurePolicy } from "../../lib/messaging/mod.ts";
import { Monitor } from "../../lib/observability/mod.ts";
import {
  Inbox,
  isStoreFailure,
  SqliteStore,
  type Store,
} from "../../lib/store/mod.ts";
import { FakeChannel, fakeConnection } from "./fake_channel.ts";

/** A message the harness's failure policy set aside, and why. */
export interface SetAside {
  body: string;
  reason: string;
}

/** A queue's handler consuming from a fake channel. */
export class ConsumerHarness<T> {
  /** The store the handler writes to. */
  readonly store: Store;
  /** The channel the deliveries come from. */
  readonly channel: FakeChannel;
  /** What was set aside, in order. */
  readonly setAside: SetAside[];
  readonly #consumer: Consumer<unknown>;

  private constructor(
    store: Store,
    channel: FakeChannel,
    setAside: SetAside[],
    consumer: Consumer<unknown>,
  ) {
    this.store = store;
    this.channel = channel;
    this.setAside = setAside;
    this.#consumer = consumer;
  }

  /**
   * Starts consuming `spec`'s queue into `store` (by default a fresh
   * SQLite store in memory) whose tables the service has made.
   */
  static async start<T>(
    spec: ConsumedQueue<T>,
    options: { store?: Store } = {},
  ): Promise<ConsumerHarness<T>> {
    const store = options.store ??
      new SqliteStore(new DatabaseSync(":memory:"));
    const { connection, channel } = fakeConnection();
    const setAside: SetAside[] = [];
    const failure: FailurePolicy = {
      maxDeliveries: 10,
      setAside: (message: ConsumeMessage, reason: string) => {
        setAside.push({ body: message.content.toString(), reason });
        return Promise.resolve();
      },
    };
    const consumer = await Consumer.start({
      connection,
      queue: spec.queue,
      prefetch: 200,
      decode: spec.decode,
      handle: composeHandler(spec, {
        name: "harness",
        store,
        inbox: await Inbox.open(store),
        monitor: new Monitor("harness"),
        retry: { maxAttempts: 2, retryDelay: () => 0 },
      }),
      storeFailing: isStoreFailure,
      synced: () => store.synced(),
      failure,
    }) as Consumer<unknown>;
    return new ConsumerHarness<T>(store, channel, setAside, consumer);
  }

  /**
   * Delivers `bodies` in one go, as the broker does with prefetch, and
   * waits until each is acked (handled, or set aside).
   */
  async deliver(
    bodies: (string | Uint8Array)[],
    options: { routingKey?: string } = {},
  ): Promise<void> {
    for (const body of bodies) this.channel.send(body, options);
    const last = this.channel.delivered;
    for (let i = 0; i < 500; i++) {
      const acked = Math.max(0, ...this.channel.acks.map((a) => a.deliveryTag));
      if (acked >= last) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`Deliveries up to ${last} were not acked within 1 s`);
  }

  /** Stops consuming and closes the store. */
  async close(): Promise<void> {
    await this.#consumer.stop();
    await this.#consumer.finished;
    await this.store.close();
  }
}
