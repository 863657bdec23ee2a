/**
 * What a service shows of itself: Prometheus metrics, health, the HTTP
 * server for `/health` and `/metrics`, and OpenTelemetry traces carried on
 * `traceparent` from sale to invoice.
 *
 * @example
 * ```ts
 * import { Monitor } from "./mod.ts";
 *
 * const monitor = new Monitor("billing");
 * monitor.handled.inc(monitor.labels, 1);
 * console.log(await monitor.registry.expose());
 * ```
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./monitor.ts";
export * from "./http_server.ts";
export * from "./bounded_server.ts";
export * from "./tracing.ts";
export * from "./trace_batch.ts";
