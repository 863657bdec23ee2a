/**
 * The durable topology a consumer needs: its topic exchange, its queue bound
 * to it, and the queue where its failed messages are kept.
 *
 * @module
 */
import type { Channel } from "amqplib";
import type { QueueType } from "../config/mod.ts";

/** Options of {@linkcode declareQueue}. */
export interface QueueTopology {
  /** The durable topic exchange to bind to. */
  exchange: string;
  /** The durable queue to declare. */
  queue: string;
  /** The binding key, or keys: a queue may take several kinds of event. */
  routingKey: string | readonly string[];
}

/** The binding keys of a topology, as a list. */
export function bindingKeys(
  topology: Pick<QueueTopology, "routingKey">,
): readonly string[] {
  const { routingKey } = topology;
  return typeof routingKey === "string" ? [routingKey] : routingKey;
}

/** The queue where messages of `queue` that failed are kept. */
export function errorQueueOf(queue: string): string {
  return `${queue}_error`;
}

/** Declares the durable topic exchange that events are published to. */
export async function declareExchange(
  channel: Channel,
  exchange: string,
): Promise<void> {
  await channel.assertExchange(exchange, "topic", { durable: true });
}

/** Options of {@linkcode declareQueue}. */
export interface DeclareOptions {
  /**
   * Classic or quorum queues.
   *
   * @default {"classic"}
   */
  queueType?: QueueType;
  /**
   * The broker's version, as it says in its server properties: RabbitMQ 4
   * gives quorum queues a delivery limit by default, which 3.x does not.
   *
   * @default {"3"}
   */
  brokerVersion?: string;
}

/**
 * Deliveries of a message on a quorum queue before the broker gives up on it
 * and dead-letters it into the error queue: a backstop behind the consumer's
 * own bound (10), so that no message is ever dropped.
 */
export const QUORUM_DELIVERY_LIMIT = 20;

/**
 * The arguments of a service's queue and of its error queue. Classic: none,
 * exactly as the .NET services declare them, so either side may declare
 * first. Quorum: a delivery limit given as an argument (it travels with the
 * service's own declaration; no operator has to set a policy first), with
 * the error queue as dead-letter target, since a quorum queue drops what
 * goes past its limit otherwise; the error queue has no limit, since its
 * tool returns what it lists. RabbitMQ 4 limits every quorum queue to 20
 * deliveries by default and takes -1 for none; 3.x has none by default and
 * would take -1 as "drop at once".
 */
export function queueArguments(
  queue: string,
  options: DeclareOptions = {},
): { queue: Record<string, unknown>; errorQueue: Record<string, unknown> } {
  const { queueType = "classic", brokerVersion = "3" } = options;
  if (queueType === "classic") return { queue: {}, errorQueue: {} };
  const major = Number.parseInt(brokerVersion, 10);
  return {
    queue: {
      "x-queue-type": "quorum",
      "x-delivery-limit": QUORUM_DELIVERY_LIMIT,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": errorQueueOf(queue),
    },
    errorQueue: {
      "x-queue-type": "quorum",
      ...(major >= 4 ? { "x-delivery-limit": -1 } : {}),
    },
  };
}

/**
 * Declares the durable exchange, the durable queue bound to it and its error
 * queue, with the arguments of {@linkcode queueArguments}.
 */
export async function declareQueue(
  channel: Channel,
  topology: QueueTopology,
  options: DeclareOptions = {},
): Promise<void> {
  const { exchange, queue } = topology;
  const args = queueArguments(queue, options);
  await declareExchange(channel, exchange);
  await channel.assertQueue(queue, { durable: true, arguments: args.queue });
  for (const key of bindingKeys(topology)) {
    await channel.bindQueue(queue, exchange, key);
  }
  await channel.assertQueue(errorQueueOf(queue), {
    durable: true,
    arguments: args.errorQueue,
  });
}
