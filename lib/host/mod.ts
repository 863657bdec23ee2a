/**
 * How a service runs: its store, outbox and relay, a connection kept up,
 * its consumers, its health server and pruning, assembled once, stopping
 * cleanly on SIGINT or SIGTERM; and the `outbox` command every service has.
 *
 * @example
 * ```ts
 * import { runConsumer } from "./mod.ts";
 * ```
 *
 * @module
 */
export * from "./run_consumer.ts";
export * from "./outbox_command.ts";
