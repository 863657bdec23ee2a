/**
 * How a consuming service runs: connected for as long as it is wanted,
 * consuming its queue, relaying its outbox, and stopping cleanly on SIGINT
 * or SIGTERM.
 *
 * @module
 */
import type { ChannelModel, ConsumeMessage } from "amqplib";
import { printable } from "../../contracts/text.ts";
import type { Config, QueueType } from "../config/mod.ts";
import { BrokerError, describeError, replyCodeOf } from "../core/mod.ts";
import {
  bindingKeys,
  Consumer,
  declareTopology,
  errorQueuePolicy,
  type QueueTopology,
  type RetryPolicy,
  retryPolicy,
  serverVersion,
} from "../messaging/mod.ts";
import { Monitor } from "../observability/mod.ts";
import { onShutdown, runsTogether } from "../cli/mod.ts";
import {
  type Delivery,
  DeliveryCount,
  Inbox,
  isStoreFailure,
  type Outbox,
  type Store,
  type TransactionOptions,
} from "../store/mod.ts";
import {
  type BatchHandler,
  compose,
  type Middleware,
  type WorkHandler,
  type WorkMiddleware,
} from "./handler.ts";
import { Host } from "./host.ts";
import {
  inboxed,
  inTransaction,
  measured,
  retried,
  traced,
} from "./middleware/mod.ts";

/**
 * A queue a service consumes: its topology, how a body is read, the key
 * each message is known by in the inbox, and the handler that writes its
 * effect.
 */
export interface ConsumedQueue<T> extends QueueTopology {
  /** Reads a body; throws for one that is not of the queue's message. */
  decode(body: Uint8Array, message: ConsumeMessage): Delivery<T>;
  /** What makes a delivery unique in the inbox. */
  keyOf(delivery: Delivery<T>): string;
  /**
   * When a message was made (ISO 8601): one from before what the inbox
   * remembers is refused, not taken as new.
   *
   * @default {no check}
   */
  timeOf?(delivery: Delivery<T>): string | undefined;
  /**
   * Writes the effect of the deliveries the inbox admitted, in their
   * transaction; what it says goes in `tx.onCommit`.
   */
  handle: WorkHandler<T>;
  /**
   * Middleware outside the transaction, inside tracing and metrics.
   *
   * @default {[]}
   */
  middleware?: Middleware<T>[];
  /**
   * Middleware inside the transaction, before the inbox claims the keys:
   * locks taken in a fixed order, so that two instances never wait on
   * each other.
   *
   * @default {[]}
   */
  beforeInbox?: WorkMiddleware<T>[];
  /**
   * How the transaction commits.
   *
   * @default {{ waitForSync: true, syncInPlace: true }}
   */
  transaction?: TransactionOptions;
  /** The attributes of a delivery's span. */
  spanAttributes?(
    delivery: Delivery<T>,
  ): Record<string, string | number | undefined>;
}

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions {
  /** The queues it consumes, on one connection, with one store and outbox. */
  // deno-lint-ignore no-explicit-any -- each queue has its own message type
  queues: ConsumedQueue<any>[];
  /**
   * Queues it sends commands to, declared as their consumer declares
   * them: a command waits there while its consumer is away.
   *
   * @default {[]}
   */
  sendsTo?: QueueTopology[];
  /**
   * Work beside the consuming, from the start until the stop (its signal
   * aborts then, and the stop waits for it): periodic checks.
   */
  background?(signal: AbortSignal): Promise<void>;
  /** The service, for messages and the connection's name. */
  name: string;
  /**
   * Its log, metrics and health.
   *
   * @default {new Monitor(name)}
   */
  monitor?: Monitor;
  /** The service's configuration. */
  config: Config;
  /** The service's store, closed on the way out. */
  store: Store;
  /** Events the handler adds to this outbox are published with confirms. */
  outbox?: Outbox;
  /**
   * Told of each message set aside in an error queue.
   *
   * @default {a line in the log}
   */
  onSetAside?(reason: string, message: ConsumeMessage): void;
}

/**
 * A queue's handler as the consumer calls it: the retry of a failed batch,
 * metrics, tracing, the queue's own middleware, the transaction, what runs
 * before the inbox, the inbox, then the handler.
 */
export function composeHandler<T>(
  spec: ConsumedQueue<T>,
  context: {
    /** The service, for its spans. */
    name: string;
    store: Store;
    inbox: Inbox;
    monitor: Monitor;
    /**
     * How a batch that failed is tried again, a delivery at a time.
     *
     * @default {retryPolicy()}
     */
    retry?: RetryPolicy;
    /** Told of each batch handled, with its size. */
    onHandled?(count: number): void;
  },
): (deliveries: Delivery<T>[]) => Promise<void> {
  const { monitor } = context;
  const handler = compose<BatchHandler<T>>(
    inTransaction<T>(context.store, spec.transaction)(
      compose(
        spec.handle,
        ...spec.beforeInbox ?? [],
        inboxed(context.inbox, spec.keyOf, spec.timeOf?.bind(spec)),
      ),
    ),
    retried(context.retry ?? retryPolicy(), {
      storeFailing: isStoreFailure,
      onRetry: () =>
        monitor.retries.inc({ ...monitor.labels, kind: "message" }),
    }),
    measured(monitor, spec.queue, context.onHandled),
    traced(context.name, spec.spanAttributes),
    ...spec.middleware ?? [],
  );
  return (deliveries) => handler({ deliveries });
}

/**
 * Declares the queues a service consumes and sends to; a queue there
 * already with other arguments is said in the words of QUEUE_TYPE.
 */
async function declare(
  connection: ChannelModel,
  consumes: readonly QueueTopology[],
  sendsTo: readonly QueueTopology[],
  options: { queueType: QueueType; brokerVersion: string },
): Promise<void> {
  try {
    await declareTopology(connection, { consumes, sendsTo }, options);
  } catch (error) {
    if (replyCodeOf(error) !== 406) throw error;
    const words = /with message "(.*)"/.exec(describeError(error));
    const queue = /for queue '([^']*)'/.exec(words?.[1] ?? "")?.[1];
    throw new BrokerError(
      `${
        queue ? `"${queue}"` : "A queue"
      } exists with other arguments than QUEUE_TYPE=${options.queueType} declares (every service and the .NET ones must agree): ${
        words?.[1] ?? describeError(error)
      }`,
      { replyCode: 406, cause: error },
    );
  }
}

/** `"billing_queue" (sale.created from sales_exchange)`, for lines. */
function describeQueue(spec: QueueTopology): string {
  return `"${spec.queue}" (${
    bindingKeys(spec).join(", ")
  } from ${spec.exchange})`;
}

/**
 * Consumes until SIGINT or SIGTERM, then finishes the deliveries at hand and
 * closes. A lost connection or a consumer the broker cancelled is noticed:
 * it connects again with backoff, declares the queues again and goes on.
 *
 * @throws {BrokerError} for what retrying cannot mend.
 */
export async function runConsumer(options: RunConsumerOptions): Promise<void> {
  const { name, config, store, queues } = options;
  const monitor = options.monitor ?? new Monitor(name);
  const { log } = monitor;
  const onSetAside = options.onSetAside ??
    ((reason: string) => log.error(`Rejected a message: ${printable(reason)}`));
  const consuming = queues.map(({ queue }) => `"${queue}"`).join(" and ");
  monitor.work = `consuming ${consuming}`;
  let handled = 0;
  let setAside = 0;
  // Said once when the store fails, once when it works again, across
  // reconnections.
  let storeFailing = false;
  const inbox = await Inbox.open(store);
  // deno-lint-ignore no-explicit-any -- each queue has its own message type
  const handlerOf = (spec: ConsumedQueue<any>) =>
    composeHandler(spec, {
      name,
      store,
      inbox,
      monitor,
      onHandled: (count) => {
        handled += count;
        if (storeFailing) {
          storeFailing = false;
          monitor.setStoreFailing(false);
          log.warn(`${name}: its store works again; consuming ${consuming}`);
        }
      },
    });
  const handlers = queues.map(handlerOf);
  const deliveryCount = await DeliveryCount.open(store);
  let consumers: Consumer<Delivery<unknown>>[] = [];
  const host = await Host.open({
    name,
    config,
    store,
    outbox: options.outbox,
    monitor,
  });
  // Signals are taken from the start: deliveries may come before "running".
  const removeHandlers = onShutdown(async () => {
    host.stop();
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  });
  host.start({
    declare: (_channel, connection) =>
      declare(connection, queues, options.sendsTo ?? [], {
        queueType: config.queueType,
        brokerVersion: serverVersion(connection),
      }),
    onReady: (where) =>
      log.info(
        `${name} running on ${
          queues.map(describeQueue).join(" and ")
        } ${where}, ${config.queueType} queue; store ${store.where}.${
          runsTogether() ? "" : " Press Ctrl+C to exit."
        }`,
      ),
    work: async (connection, publisher, ready) => {
      try {
        for (const [i, spec] of queues.entries()) {
          const consumer = await Consumer.start({
            connection,
            queue: spec.queue,
            prefetch: config.prefetch,
            maxMessageBytes: config.maxMessageBytes,
            decode: spec.decode,
            handle: handlers[i],
            storeFailing: isStoreFailure,
            synced: () => store.synced(),
            onStore: (state, error) => {
              if (state !== "failing" || storeFailing) return;
              storeFailing = true;
              monitor.setStoreFailing(true);
              log.error(
                `${name}: its store is failing (${
                  describeError(error)
                }): deliveries go back to "${spec.queue}" and are taken again once it works`,
              );
            },
            deliveries: (message) => deliveryCount.count(message),
            onSetAside: (kind) =>
              monitor.rejected.inc({
                ...monitor.labels,
                queue: spec.queue,
                reason: kind,
              }),
            failure: errorQueuePolicy({
              publisher,
              queue: spec.queue,
              onSetAside: (reason, message) => {
                setAside++;
                onSetAside(reason, message);
              },
            }),
          });
          consumers.push(consumer);
        }
        if (host.stopping.aborted) {
          await Promise.all(consumers.map((c) => c.stop()));
        }
        ready();
        const finished = consumers.map((c) => c.finished);
        try {
          // Only a stop ends one consumer without an error, and it stops
          // them all.
          await Promise.race(finished);
          await Promise.all(finished);
        } catch (error) {
          // One ended (cancelled, its channel closed): the session ends,
          // the others go with its connection, and all start again
          // together on the next.
          for (const c of consumers) c.stop().catch(() => {});
          throw error;
        }
      } finally {
        consumers = [];
      }
    },
  });
  const background = new AbortController();
  const besides = options.background?.(background.signal).catch((error) =>
    log.error(`${name}: ${describeError(error)}`)
  );
  try {
    // Until a stop, or what retrying cannot mend (close says it).
    await host.finished.catch(() => {});
  } finally {
    background.abort();
    await besides;
    removeHandlers();
    await host.close();
  }
  log.info(
    `${name} stopped: ${handled} handled, ${setAside} set aside, up ${host.upSeconds} s.`,
  );
}
