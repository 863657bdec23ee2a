/**
 * Programs on the command line: a program's declaration and how its
 * command line is parsed, the Deno permissions derived from it, how it is
 * invoked, its main (the one place that exits), shutdown on signals, and
 * what it prints for people and machines.
 *
 * Loads no npm package: `tools/exec_line.ts` reads the declarations before
 * every `deno task <service>`.
 *
 * @example
 * ```ts
 * import { parseCommandLine, runMain } from "./mod.ts";
 * import { program } from "../programs/billing.ts";
 *
 * Deno.exit(await runMain("billing", () => {
 *   const { config } = parseCommandLine(program, Deno.args);
 *   console.log(config.prefetch);
 * }));
 * ```
 *
 * @module
 */
export * from "./program.ts";
export * from "./invocation.ts";
export * from "./permissions.ts";
export * from "./main.ts";
export * from "./shutdown.ts";
export * from "./output.ts";
export * from "./read_input.ts";
export * from "./keys.ts";
export * from "./version.ts";
export * from "./prompt.ts";
export * from "./checked.ts";
