/**
 * How a consuming service runs: connected for as long as it is wanted,
 * consuming its queue, relaying its outbox, and stopping cleanly on SIGINT
 * or SIGTERM.
 *
 * @module
 */
import type { Channel, ConsumeMessage } from "amqplib";
import type { Config, QueueType } from "../config/mod.ts";
import {
  bindingKeys,
  Consumer,
  type ConsumerOptions,
  declareQueue,
  errorQueuePolicy,
  type QueueTopology,
  runSession,
  serverVersion,
  stayConnected,
} from "../messaging/mod.ts";
import {
  DeliveryCount,
  isStoreFailure,
  pruneEvery,
  Relay,
  reportSetAside,
} from "../store/mod.ts";
import { BrokerError, describeError, replyCodeOf } from "../core/mod.ts";
import {
  Monitor,
  serveIfAsked,
  type TraceBatch,
  type Traced,
  withTraceBatch,
} from "../observability/mod.ts";
import type { Outbox, Store } from "../store/mod.ts";
import { onShutdown } from "../cli/mod.ts";

/**
 * A queue a service consumes: its topology, how a body is read, and how a
 * batch of deliveries is committed.
 */
export interface ConsumedQueue<T extends Traced>
  extends QueueTopology, Pick<ConsumerOptions<T>, "decode"> {
  /**
   * Commits the work for a batch, as the consumer's `handle`; given the
   * batch's spans (undefined when tracing is off), for the events it makes
   * to carry the trace on.
   */
  handle(values: T[], trace: TraceBatch<T> | undefined): Promise<void>;
  /** The attributes of a delivery's span. */
  spanAttributes?(value: T): Record<string, string | number | undefined>;
}

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions<T extends Traced> extends ConsumedQueue<T> {
  /**
   * Other queues consumed on the same connection, with the same store and
   * outbox: a service's commands apart from the events it takes.
   *
   * @default {[]}
   */
  also?: ConsumedQueue<Traced>[];
  /**
   * Queues it sends commands to, declared as their consumer declares
   * them: a command waits there while its consumer is away.
   *
   * @default {[]}
   */
  sendsTo?: QueueTopology[];
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
  /** Told of each message set aside in an error queue. */
  onSetAside?(reason: string, message: ConsumeMessage): void;
}

/**
 * Declares a consumed queue's topology; a queue there already with other
 * arguments is said in the words of QUEUE_TYPE.
 */
async function declare(
  channel: Channel,
  spec: QueueTopology,
  options: { queueType: QueueType; brokerVersion: string },
): Promise<void> {
  try {
    await declareQueue(channel, spec, options);
  } catch (error) {
    if (replyCodeOf(error) !== 406) throw error;
    const words = /with message "(.*)"/.exec(describeError(error));
    throw new BrokerError(
      `"${spec.queue}" exists with other arguments than QUEUE_TYPE=${options.queueType} declares (every service and the .NET ones must agree): ${
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
export async function runConsumer<T extends Traced>(
  options: RunConsumerOptions<T>,
): Promise<void> {
  const { name, config, store } = options;
  const queues: ConsumedQueue<Traced>[] = [options, ...(options.also ?? [])];
  const monitor = options.monitor ?? new Monitor(name);
  const { log } = monitor;
  const consuming = queues.map(({ queue }) => `"${queue}"`).join(" and ");
  monitor.work = `consuming ${consuming}`;
  const started = performance.now();
  let handled = 0;
  let setAside = 0;
  // Said once when the store fails, once when it works again, across
  // reconnections.
  let storeFailing = false;
  const handlerOf = (spec: ConsumedQueue<Traced>) => {
    const labels = { ...monitor.labels, queue: spec.queue };
    monitor.handled.inc(labels, 0);
    return async (values: Traced[]) => {
      const began = performance.now();
      await withTraceBatch(name, values, {
        attributes: (value) => spec.spanAttributes?.(value) ?? {},
        work: (trace) => spec.handle(values, trace),
      });
      monitor.handleSeconds.observe(
        monitor.labels,
        (performance.now() - began) / 1000,
      );
      handled += values.length;
      monitor.handled.inc(labels, values.length);
      if (storeFailing) {
        storeFailing = false;
        monitor.setStoreFailing(false);
        log.warn(`${name}: its store works again; consuming ${consuming}`);
      }
    };
  };
  const handlers = queues.map(handlerOf);
  const deliveryCount = await DeliveryCount.open(store);
  const stop = new AbortController();
  let consumers: Consumer<Traced>[] = [];
  // Signals are taken from the start: deliveries may come before "running".
  const removeHandlers = onShutdown(async () => {
    monitor.setDraining();
    stop.abort();
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  });
  const { outbox } = options;
  const relay = outbox
    ? new Relay(outbox, {
      onUnroutable: (error) => log.error(`${name}: ${error.message}`),
      onSetAside: reportSetAside(log),
      onConfirm: (seconds) =>
        monitor.confirmSeconds.observe(monitor.labels, seconds),
      storeFailing: isStoreFailure,
    })
    : undefined;
  if (outbox) monitor.watchOutbox(outbox);
  const server = serveIfAsked(config, monitor);
  const stopPruning = pruneEvery(store, {
    retentionMs: config.retentionMs,
    tables: outbox ? ["inbox", "outbox"] : ["inbox"],
  });
  try {
    await stayConnected({
      url: config.url,
      name,
      signal: stop.signal,
      onRetry: monitor.onRetry(),
      session: (connection, ready) => {
        const broker = monitor.watchConnection(connection);
        return runSession(connection, {
          signal: stop.signal,
          relay,
          declare: async (channel) => {
            for (const spec of [...queues, ...options.sendsTo ?? []]) {
              await declare(channel, spec, {
                queueType: config.queueType,
                brokerVersion: serverVersion(connection),
              });
            }
          },
          work: async (publisher) => {
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
                  onRetry: () =>
                    monitor.retries.inc({
                      ...monitor.labels,
                      kind: "message",
                    }),
                  failure: errorQueuePolicy({
                    publisher,
                    queue: spec.queue,
                    onSetAside: (reason, message) => {
                      setAside++;
                      options.onSetAside?.(reason, message);
                    },
                  }),
                });
                consumers.push(consumer);
              }
              if (stop.signal.aborted) {
                await Promise.all(consumers.map((c) => c.stop()));
              }
              ready();
              monitor.setWorking(true);
              log.info(
                `${name} running on ${
                  queues.map(describeQueue).join(" and ")
                } at ${broker}, RabbitMQ ${
                  serverVersion(connection)
                }, ${config.queueType} queue; store ${store.where}. Press Ctrl+C to exit.`,
              );
              const finished = consumers.map((c) => c.finished);
              try {
                // Only a stop ends one consumer without an error, and it
                // stops them all.
                await Promise.race(finished);
                await Promise.all(finished);
              } catch (error) {
                // One ended (cancelled, its channel closed): the session
                // ends, the others go with its connection, and all start
                // again together on the next.
                for (const c of consumers) c.stop().catch(() => {});
                throw error;
              }
            } finally {
              consumers = [];
              monitor.setWorking(false);
            }
          },
        });
      },
    });
  } finally {
    removeHandlers();
    await server?.close();
    await stopPruning();
    await store.close();
  }
  log.info(
    `${name} stopped: ${handled} handled, ${setAside} set aside, up ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s.`,
  );
}
