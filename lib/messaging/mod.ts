/**
 * Talking to RabbitMQ: a connection kept up with backoff, a publisher with
 * confirms and returns tied together, a consumer that acks after the store
 * synced, the topology the services share, the failure policy that sets a
 * message aside in its error queue, and the error queues themselves.
 *
 * @example
 * ```ts
 * import { stayConnected } from "./mod.ts";
 *
 * const stop = new AbortController();
 * await stayConnected({
 *   url: "amqp://guest:guest@localhost:5672",
 *   name: "example",
 *   signal: stop.signal,
 *   session: async (connection, ready) => {
 *     ready();
 *     await connection.close();
 *     stop.abort();
 *   },
 * });
 * ```
 *
 * @module
 */
export * from "./connection.ts";
export * from "./publisher.ts";
export * from "./consumer.ts";
export * from "./session.ts";
export * from "./topology.ts";
export * from "./grants.ts";
export * from "./management.ts";
export * from "./broker_setup.ts";
export * from "./password_hash.ts";
export * from "./failure_policy.ts";
export * from "./error_queue.ts";
export * from "./coalesce_writes.ts";
export * from "./ensure_broker.ts";
