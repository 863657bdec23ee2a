/**
 * How a consuming service runs: connected for as long as it is wanted,
 * consuming its queue, relaying its outbox, and stopping cleanly on SIGINT
 * or SIGTERM.
 *
 * @module
 */
import type { ChannelModel, ConsumeMessage } from "amqplib";
import type { Config } from "./config.ts";
import { reportRetry, stayConnected } from "./connection.ts";
import { Consumer, type ConsumerOptions } from "./consumer.ts";
import { isStoreFailure } from "./database.ts";
import { DeliveryCount } from "./delivery_count.ts";
import { BrokerError, describeError, replyCodeOf } from "./errors.ts";
import { errorQueuePolicy } from "./failure_policy.ts";
import type { Outbox } from "./outbox.ts";
import { Relay, reportSetAside } from "./relay.ts";
import { runSession } from "./session.ts";
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
];

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions<T>
  extends QueueTopology, Pick<ConsumerOptions<T>, "decode" | "handle"> {
  /** The service, for messages and the connection's name. */
  name: string;
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
export async function runConsumer<T>(
  options: RunConsumerOptions<T>,
): Promise<void> {
  const { name, config, store, exchange, queue, routingKey } = options;
  const started = performance.now();
  let handled = 0;
  let setAside = 0;
  // Said once when the store fails, once when it works again, across
  // reconnections.
  let storeFailing = false;
  const handle = async (values: T[]) => {
    await options.handle(values);
    handled += values.length;
    if (storeFailing) {
      storeFailing = false;
      console.error(`${name}: its store works again; consuming "${queue}"`);
    }
  };
  const deliveryCount = await DeliveryCount.open(store);
  const stop = new AbortController();
  let consumer: Consumer<T> | undefined;
  // Signals are taken from the start: deliveries may come before "running".
  const removeHandlers = onShutdown(async () => {
    stop.abort();
    await consumer?.stop();
  });
  const relay = options.outbox
    ? new Relay(options.outbox, {
      onUnroutable: (error) => console.error(`${name}: ${error.message}`),
      onSetAside: reportSetAside(name),
      storeFailing: isStoreFailure,
    })
    : undefined;
  try {
    await stayConnected({
      url: config.url,
      name,
      signal: stop.signal,
      onRetry: reportRetry(name),
      session: (connection, ready) =>
        runSession(connection, {
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
                  console.error(
                    `${name}: its store is failing (${
                      describeError(error)
                    }): deliveries go back to "${queue}" and are taken again once it works`,
                  );
                },
                deliveries: (message) => deliveryCount.count(message),
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
              console.log(
                `${name} running on "${queue}". Press Ctrl+C to exit.`,
              );
              await consumer.finished;
            } finally {
              consumer = undefined;
            }
          },
        }),
    });
  } finally {
    removeHandlers();
    await store.close();
  }
  console.log(
    `${name} stopped: ${handled} handled, ${setAside} set aside, up ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s.`,
  );
}

/** The broker's version from its server properties, e.g. "3.10.8". */
export function serverVersion(connection: ChannelModel): string {
  const properties = (connection.connection as unknown as {
    serverProperties?: { version?: unknown };
  }).serverProperties;
  return String(properties?.version ?? "");
}
