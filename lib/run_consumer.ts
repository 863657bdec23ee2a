/**
 * How a consuming service runs: connected for as long as it is wanted,
 * consuming its queue, relaying its outbox, and stopping cleanly on SIGINT
 * or SIGTERM.
 *
 * @module
 */
import type { ConsumeMessage } from "amqplib";
import type { Config } from "./config.ts";
import { serverVersion, stayConnected } from "./connection.ts";
import { Consumer, type ConsumerOptions } from "./consumer.ts";
import { isStoreFailure } from "./database.ts";
import { DeliveryCount } from "./delivery_count.ts";
import { BrokerError, describeError, replyCodeOf } from "./errors.ts";
import { errorQueuePolicy } from "./failure_policy.ts";
import { serveIfAsked } from "./http_server.ts";
import { Monitor } from "./monitor.ts";
import type { Outbox } from "./outbox.ts";
import { Relay, reportSetAside } from "./relay.ts";
import { pruneEvery } from "./prune.ts";
import { runSession } from "./session.ts";
import { type TraceBatch, type Traced, withTraceBatch } from "./trace_batch.ts";
import type { Store } from "./store.ts";
import { onShutdown } from "./shutdown.ts";
import { declareQueue, type QueueTopology } from "./topology.ts";

/** The settings a consuming service reads, for its program declaration. */
export const CONSUMER_SETTINGS: readonly (keyof Config)[] = [
  "url",
  "dataDir",
  "databaseUrl",
  "prefetch",
  "maxMessageBytes",
  "queueType",
  "httpPort",
  "httpHost",
  "retentionMs",
];

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions<T extends Traced>
  extends QueueTopology, Pick<ConsumerOptions<T>, "decode"> {
  /**
   * Commits the work for a batch, as the consumer's `handle`; given the
   * batch's spans (undefined when tracing is off), for the events it makes
   * to carry the trace on.
   */
  handle(values: T[], trace: TraceBatch<T> | undefined): Promise<void>;
  /** The attributes of a delivery's span. */
  spanAttributes?(value: T): Record<string, string | number | undefined>;
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
  /** Told of each message set aside in the error queue. */
  onSetAside?(reason: string, message: ConsumeMessage): void;
}

/**
 * Consumes until SIGINT or SIGTERM, then finishes the deliveries at hand and
 * closes. A lost connection or a consumer the broker cancelled is noticed:
 * it connects again with backoff, declares the queue again and goes on.
 *
 * @throws {BrokerError} for what retrying cannot mend.
 */
export async function runConsumer<T extends Traced>(
  options: RunConsumerOptions<T>,
): Promise<void> {
  const { name, config, store, exchange, queue, routingKey } = options;
  const monitor = options.monitor ?? new Monitor(name);
  const { log } = monitor;
  monitor.work = `consuming "${queue}"`;
  const labels = { ...monitor.labels, queue };
  monitor.handled.inc(labels, 0);
  const started = performance.now();
  let handled = 0;
  let setAside = 0;
  // Said once when the store fails, once when it works again, across
  // reconnections.
  let storeFailing = false;
  const handle = async (values: T[]) => {
    const began = performance.now();
    await withTraceBatch(name, values, {
      attributes: options.spanAttributes ?? (() => ({})),
      work: (trace) => options.handle(values, trace),
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
      log.warn(`${name}: its store works again; consuming "${queue}"`);
    }
  };
  const deliveryCount = await DeliveryCount.open(store);
  const stop = new AbortController();
  let consumer: Consumer<T> | undefined;
  // Signals are taken from the start: deliveries may come before "running".
  const removeHandlers = onShutdown(async () => {
    monitor.setDraining();
    stop.abort();
    await consumer?.stop();
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
          declare: (channel) =>
            declareQueue(channel, { exchange, queue, routingKey }, {
              queueType: config.queueType,
              brokerVersion: serverVersion(connection),
            }).catch((error) => {
              if (replyCodeOf(error) !== 406) throw error;
              const words = /with message "(.*)"/.exec(describeError(error));
              throw new BrokerError(
                `"${queue}" exists with other arguments than QUEUE_TYPE=${config.queueType} declares (every service and the .NET ones must agree): ${
                  words?.[1] ?? describeError(error)
                }`,
                { replyCode: 406, cause: error },
              );
            }),
          work: async (publisher) => {
            try {
              consumer = await Consumer.start({
                connection,
                queue,
                prefetch: config.prefetch,
                maxMessageBytes: config.maxMessageBytes,
                decode: options.decode,
                handle,
                storeFailing: isStoreFailure,
                onStore: (state, error) => {
                  if (state !== "failing" || storeFailing) return;
                  storeFailing = true;
                  monitor.setStoreFailing(true);
                  log.error(
                    `${name}: its store is failing (${
                      describeError(error)
                    }): deliveries go back to "${queue}" and are taken again once it works`,
                  );
                },
                deliveries: (message) => deliveryCount.count(message),
                onSetAside: (kind) =>
                  monitor.rejected.inc({ ...labels, reason: kind }),
                onRetry: () =>
                  monitor.retries.inc({ ...monitor.labels, kind: "message" }),
                failure: errorQueuePolicy({
                  publisher,
                  queue,
                  onSetAside: (reason, message) => {
                    setAside++;
                    options.onSetAside?.(reason, message);
                  },
                }),
              });
              if (stop.signal.aborted) await consumer.stop();
              ready();
              monitor.setWorking(true);
              log.info(
                `${name} running on "${queue}" (${routingKey} from ${exchange}) at ${broker}, RabbitMQ ${
                  serverVersion(connection)
                }, ${config.queueType} queue; store ${store.where}. Press Ctrl+C to exit.`,
              );
              await consumer.finished;
            } finally {
              consumer = undefined;
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
