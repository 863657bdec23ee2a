/**
 * Least privilege on the broker, derived: a program's user may configure,
 * write and read what its declaration says it consumes, publishes and
 * tends, and publish and bind only the routing keys it uses (topic
 * permissions). `deno task broker -- setup` grants exactly this.
 *
 * @module
 */
import {
  bindingKeys,
  errorQueueOf,
  ERRORS_EXCHANGE,
  type QueueTopology,
} from "./topology.ts";

/** What a program does on the broker, as its declaration says. */
export interface BrokerNeeds {
  /** The topic exchange its events go through. */
  exchange: string;
  /**
   * The routing keys it publishes to `exchange`.
   *
   * @default {[]}
   */
  publishes?: readonly string[];
  /**
   * The queues it consumes, each bound to `exchange` with its keys; their
   * error queues with them.
   *
   * @default {[]}
   */
  consumes?: readonly QueueTopology[];
  /**
   * Queues of other programs whose error queues it lists, replays (back to
   * their queue, through the default exchange) and purges.
   *
   * @default {[]}
   */
  tendsErrorsOf?: readonly string[];
}

/** A topic permission: the routing keys a user may publish and bind on one exchange. */
export interface TopicGrant {
  exchange: string;
  write: string;
  read: string;
}

/** A user's permissions on its vhost, as RabbitMQ takes them. */
export interface Grants {
  configure: string;
  write: string;
  read: string;
  topics: TopicGrant[];
}

/** The default exchange, as RabbitMQ names it in permissions. */
export const DEFAULT_EXCHANGE = "amq.default";

/** A pattern matching exactly `names`; `^$` (nothing) for none. */
export function exactly(names: Iterable<string>): string {
  const unique = [...new Set(names)];
  if (unique.length === 0) return "^$";
  const escaped = unique.map((name) =>
    name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  );
  return escaped.length === 1 ? `^${escaped[0]}$` : `^(${escaped.join("|")})$`;
}

/**
 * The narrowest permissions that let a program do what `needs` says. It
 * configures nothing: the setup declares the topology and a service finds
 * it there (`declareTopology`), so no credential can delete a
 * queue and the sales waiting in it. It writes to the exchange it
 * publishes to and, to set failures aside, to the errors exchange; binds
 * its own queues (write on them, read on the exchange); reads the queues it
 * consumes and the error queues it tends; and publishes and binds only
 * its own routing keys.
 *
 * @example
 * ```ts
 * import { grantsOf } from "./grants.ts";
 *
 * const pos = grantsOf({ exchange: "sales_exchange", publishes: ["sale.created"] });
 * // pos.write === "^sales_exchange$", pos.read === "^$"
 * ```
 */
export function grantsOf(needs: BrokerNeeds): Grants {
  const { exchange, publishes = [], consumes = [], tendsErrorsOf = [] } = needs;
  const own = consumes.flatMap(({ queue }) => [queue, errorQueueOf(queue)]);
  const errorQueues = consumes.map(({ queue }) => errorQueueOf(queue));
  const tended = tendsErrorsOf.map(errorQueueOf);
  const keys = consumes.flatMap(bindingKeys);
  const consuming = consumes.length > 0;
  const topics: TopicGrant[] = [];
  if (publishes.length > 0 || consuming) {
    topics.push({ exchange, write: exactly(publishes), read: exactly(keys) });
  }
  if (consuming) {
    topics.push({
      exchange: ERRORS_EXCHANGE,
      write: exactly(errorQueues),
      read: exactly(errorQueues),
    });
  }
  return {
    configure: exactly([]),
    write: exactly([
      ...publishes.length > 0 ? [exchange] : [],
      ...consuming ? [ERRORS_EXCHANGE] : [],
      // Binding a queue takes write on it.
      ...own,
      ...tended.length > 0 ? [DEFAULT_EXCHANGE] : [],
    ]),
    read: exactly([
      // Binding to an exchange takes read on it.
      ...consuming ? [exchange, ERRORS_EXCHANGE] : [],
      ...consumes.map(({ queue }) => queue),
      ...tended,
    ]),
    topics,
  };
}
