/**
 * The project's version, from deno.json, which `--version` prints.
 *
 * @module
 */
import project from "../../deno.json" with { type: "json" };

/** The version of ShoppingApp, e.g. `0.11.0`. */
export const VERSION: string = project.version;
