/**
 * How a service runs: its store, outbox and relay, a connection kept up,
 * its health server and pruning, assembled once ({@linkcode Host}); a
 * consumer's queues with its handler wrapped in middleware
 * ({@linkcode runConsumer}); and the `outbox` command every service has.
 *
 * @example
 * ```ts
 * import { runConsumer } from "./mod.ts";
 * import { resolveConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 *
 * const config = resolveConfig({}, (name) => Deno.env.get(name));
 * await runConsumer({
 *   name: "example",
 *   config,
 *   store: await openStore({ name: "example", dataDir: config.dataDir }),
 *   queues: [{
 *     exchange: "sales_exchange",
 *     queue: "example_queue",
 *     routingKey: "sale.created",
 *     decode: (body) => ({ value: body.length, digest: "" }),
 *     keyOf: (delivery) => String(delivery.value),
 *     handle: async ({ tx, deliveries }) => {
 *       tx.onCommit(() => console.log(`${deliveries.length} handled`));
 *     },
 *   }],
 * });
 * ```
 *
 * @module
 */
export * from "./handler.ts";
export * from "./host.ts";
export * from "./middleware/mod.ts";
export * from "./outbox_command.ts";
export * from "./run_consumer.ts";
export * from "./service_main.ts";
