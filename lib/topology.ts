/**
 * The durable topology a consumer needs: its topic exchange, its queue bound
 * to it, and the queue where its failed messages are kept.
 *
 * @module
 */
import type { Channel } from "amqplib";

/** Options of {@linkcode declareQueue}. */
export interface QueueTopology {
  /** The durable topic exchange to bind to. */
  exchange: string;
  /** The durable queue to declare. */
  queue: string;
  /** The binding key. */
  routingKey: string;
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

/**
 * Declares the durable exchange, the durable queue bound to it and its error
 * queue. The queues take no arguments, exactly as the .NET services declare
 * them, so either side may declare first.
 */
export async function declareQueue(
  channel: Channel,
  topology: QueueTopology,
): Promise<void> {
  const { exchange, queue, routingKey } = topology;
  await declareExchange(channel, exchange);
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, routingKey);
  await channel.assertQueue(errorQueueOf(queue), { durable: true });
}
