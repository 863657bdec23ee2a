/**
 * A program's main: runs it, and turns what it throws into one line on
 * stderr and an exit code. The only place that decides how a program exits.
 *
 * @module
 */
import { describeError, UsageError } from "./errors.ts";
import { HelpRequested } from "./program.ts";

/**
 * Runs `main` and returns the exit code: 0 when it returns, 0 after
 * printing the help it was asked for, 2 after a {@linkcode UsageError},
 * and 1 after anything else. Failures are
 * printed as `<name>: <first line>`, without a stack trace.
 */
export async function runMain(
  name: string,
  main: () => Promise<void> | void,
): Promise<number> {
  try {
    await main();
    return 0;
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(error.text);
      return 0;
    }
    console.error(`${name}: ${describeError(error)}`);
    return error instanceof UsageError ? 2 : 1;
  }
}
