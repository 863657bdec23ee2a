/**
 * The durable topology a consumer needs: its topic exchange, its queue bound
 * to it, and the queue where its failed messages are kept.
 *
 * @module
 */
import type { Channel, ChannelModel } from "amqplib";
import type { QueueType } from "../config/mod.ts";
import { BrokerError, describeError, replyCodeOf } from "../core/mod.ts";

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

/** A binding of a queue to an exchange. */
export interface QueueBinding {
  exchange: string;
  queue: string;
  key: string;
}

/**
 * The bindings a consumed queue needs: the queue to its exchange with each
 * of its keys, and its error queue to {@linkcode ERRORS_EXCHANGE} under its
 * own name.
 */
export function bindingsOf(topology: QueueTopology): QueueBinding[] {
  const { exchange, queue } = topology;
  const errorQueue = errorQueueOf(queue);
  return [
    ...bindingKeys(topology).map((key) => ({ exchange, queue, key })),
    { exchange: ERRORS_EXCHANGE, queue: errorQueue, key: errorQueue },
  ];
}

/**
 * The durable topic exchange a consumer sets failed messages aside through:
 * each error queue is bound to it under its own name. Not the default
 * exchange, since writing to that reaches every queue of the vhost, while a
 * topic permission on this one lets a service reach its own error queue only.
 */
export const ERRORS_EXCHANGE = "errors_exchange";

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
  await channel.assertQueue(errorQueueOf(queue), {
    durable: true,
    arguments: args.errorQueue,
  });
  await declareExchange(channel, ERRORS_EXCHANGE);
  for (const binding of bindingsOf(topology)) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.key);
  }
}

/** What a program needs on the broker, to declare or to find there. */
export interface TopologyPlan {
  /** Exchanges it publishes to. */
  exchanges?: readonly string[];
  /** Queues it consumes, each with its binding keys and error queue. */
  consumes?: readonly QueueTopology[];
  /** Queues of other programs it sends to: they must exist for nothing to be lost. */
  sendsTo?: readonly QueueTopology[];
}

/**
 * Declares a plan's topology on a channel of its own. A user the broker
 * does not let configure it (a user of `deno task broker -- setup`, with
 * the narrowest permissions) finds it instead: each exchange and queue
 * must be there, and the bindings of the queues it consumes are made,
 * which its permissions allow.
 *
 * @returns `"declared"`, or `"found"` when the user may not declare.
 * @throws {BrokerError} naming what is missing or refused, in one line.
 */
export async function declareTopology(
  connection: ChannelModel,
  plan: TopologyPlan,
  options: DeclareOptions = {},
): Promise<"declared" | "found"> {
  const { exchanges = [], consumes = [], sendsTo = [] } = plan;
  try {
    await onChannel(connection, async (channel) => {
      for (const exchange of exchanges) {
        await declareExchange(channel, exchange);
      }
      for (const queue of [...consumes, ...sendsTo]) {
        await declareQueue(channel, queue, options);
      }
    });
    return "declared";
  } catch (error) {
    if (replyCodeOf(error) !== 403) throw error;
  }
  // One channel: the first refusal closes it, and ends the look.
  await onChannel(connection, async (channel) => {
    const find = async (kind: "exchange" | "queue", name: string) => {
      try {
        await (kind === "exchange"
          ? channel.checkExchange(name)
          : channel.checkQueue(name));
      } catch (error) {
        if (replyCodeOf(error) !== 404) throw error;
        throw new BrokerError(
          `The ${kind} "${name}" is not on the broker, and this user may not declare it: deno task broker -- setup declares the shop's topology`,
          { replyCode: 404, cause: error },
        );
      }
    };
    const queues = [...consumes, ...sendsTo];
    for (
      const exchange of new Set([
        ...exchanges,
        ...queues.map((q) => q.exchange),
      ])
    ) {
      await find("exchange", exchange);
    }
    if (consumes.length > 0) await find("exchange", ERRORS_EXCHANGE);
    for (const { queue } of queues) {
      await find("queue", queue);
      await find("queue", errorQueueOf(queue));
    }
    for (const { queue, exchange, key } of consumes.flatMap(bindingsOf)) {
      try {
        await channel.bindQueue(queue, exchange, key);
      } catch (error) {
        throw new BrokerError(
          `This user may not bind "${queue}" to "${exchange}" with "${key}" (${
            describeError(error)
          }): deno task broker -- setup grants what each service needs`,
          { replyCode: replyCodeOf(error), cause: error },
        );
      }
    }
  });
  return "found";
}

/**
 * Runs `work` on a channel of its own: an error the broker answers with
 * closes only that channel.
 */
async function onChannel(
  connection: ChannelModel,
  work: (channel: Channel) => Promise<unknown>,
): Promise<void> {
  const channel = await connection.createChannel();
  // The failure is thrown by `work`; the channel's own event says it again.
  channel.on("error", () => {});
  try {
    await work(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}
