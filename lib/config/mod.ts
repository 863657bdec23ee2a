/**
 * A program's settings: what each is called on the command line and in the
 * environment, its default, and how its value is checked; the broker's URL
 * and how it is printed without its password.
 *
 * @example
 * ```ts
 * import { redactUrl, resolveConfig } from "./mod.ts";
 *
 * const config = resolveConfig({}, (name) => Deno.env.get(name));
 * console.log(redactUrl(config.url));
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./amqp_url.ts";
export * from "./whole_number.ts";
export * from "./retention.ts";
