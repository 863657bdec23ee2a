/**
 * How a consuming service runs: connected for as long as it is wanted,
 * consuming its queue, relaying its outbox, and stopping cleanly on SIGINT
 * or SIGTERM.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { ConsumeMessage } from "amqplib";
import type { Config } from "./config.ts";
import { reportRetry, stayConnected } from "./connection.ts";
import { Consumer, type ConsumerOptions } from "./consumer.ts";
import { errorQueuePolicy } from "./failure_policy.ts";
import type { Outbox } from "./outbox.ts";
import { Relay } from "./relay.ts";
import { runSession } from "./session.ts";
import { onShutdown } from "./shutdown.ts";
import { declareQueue, type QueueTopology } from "./topology.ts";

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions<T>
  extends QueueTopology, Pick<ConsumerOptions<T>, "decode" | "handle"> {
  /** The service, for messages and the connection's name. */
  name: string;
  /** The service's configuration. */
  config: Config;
  /** The service's database, closed on the way out. */
  db: DatabaseSync;
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
  const { name, config, db, exchange, queue, routingKey } = options;
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
    })
    : undefined;
  try {
    await stayConnected({
      url: config.url,
      name,
      signal: stop.signal,
      onRetry: reportRetry(name),
      session: (connection) =>
        runSession(connection, {
          signal: stop.signal,
          relay,
          declare: (channel) =>
            declareQueue(channel, { exchange, queue, routingKey }),
          work: async (publisher) => {
            try {
              consumer = await Consumer.start({
                connection,
                queue,
                prefetch: config.prefetch,
                decode: options.decode,
                handle: options.handle,
                failure: errorQueuePolicy({
                  publisher,
                  queue,
                  onSetAside: options.onSetAside,
                }),
              });
              if (stop.signal.aborted) await consumer.stop();
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
    db.close();
  }
}
