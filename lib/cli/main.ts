/**
 * A program's main: runs it, and turns what it throws into one line on
 * stderr and an exit code. The only place that decides how a program exits.
 *
 * @module
 */
import { DeferredError, describeError, UsageError } from "../core/mod.ts";
import { createLog, type LogFormat, logFormat } from "../log/mod.ts";
import { HelpRequested } from "./program.ts";

/** The exit code after a {@linkcode DeferredError}: EX_TEMPFAIL. */
export const EXIT_DEFERRED = 75;

/**
 * Runs `main` and returns the exit code: 0 when it returns, 0 after
 * printing the help it was asked for, 2 after a {@linkcode UsageError},
 * 75 after a {@linkcode DeferredError}, and 1 after anything else. Failures are
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
    let format: LogFormat = "text";
    try {
      format = logFormat();
    } catch {
      // An unknown LOG_FORMAT is what is being reported: as text.
    }
    createLog(name, { format }).error(`${name}: ${describeError(error)}`);
    return error instanceof UsageError
      ? 2
      : error instanceof DeferredError
      ? EXIT_DEFERRED
      : 1;
  }
}
