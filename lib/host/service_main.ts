/**
 * A service's main: its command line parsed from its declaration, then the
 * service itself, or one of its commands (`outbox`, which every service
 * has, and its own such as `billing invoices`). The only place that exits.
 *
 * @module
 */
import {
  type CommandLine,
  parseCommandLine,
  type Program,
  runMain,
} from "../cli/mod.ts";
import { UsageError } from "../core/mod.ts";
import { outboxCommand } from "./outbox_command.ts";

/** What a service runs, by the first argument. */
export interface ServiceMainOptions {
  /** The service itself, when no command is named. */
  serve(commandLine: CommandLine): Promise<void>;
  /**
   * Its own commands, by name, given the arguments after the name.
   *
   * @default {{}}
   */
  commands?: Record<
    string,
    (commandLine: CommandLine, args: string[]) => Promise<void>
  >;
}

/**
 * Runs the service `program` declares with this process's arguments; the
 * exit code (0, 1, 2 for a usage error, 75 for no broker in time).
 *
 * @example
 * ```ts
 * import { serviceMain } from "./service_main.ts";
 * import { program } from "../programs/billing.ts";
 *
 * if (import.meta.main) {
 *   Deno.exit(await serviceMain(program, { serve: async () => {} }));
 * }
 * ```
 */
export function serviceMain(
  program: Program,
  options: ServiceMainOptions,
): Promise<number> {
  return runMain(program.name, async () => {
    const commandLine = parseCommandLine(program);
    const [command, ...args] = commandLine.positionals;
    if (command === undefined) return await options.serve(commandLine);
    if (command === "outbox") {
      return await outboxCommand(program.name, commandLine);
    }
    const run = options.commands?.[command];
    if (!run || !Object.hasOwn(options.commands ?? {}, command)) {
      throw new UsageError(`Unknown command "${command}": see --help`);
    }
    await run(commandLine, args);
  });
}
