/**
 * Stopping on SIGINT or SIGTERM, or when the process that started this one
 * is gone: the first asks the program to finish what it holds; a signal that
 * comes later again is the user insisting.
 *
 * @module
 */

import { readEnv } from "../config/mod.ts";

/** The variable in which the launcher gives a program its own pid. */
export const LAUNCHER_PID = "LAUNCHER_PID";

/**
 * Set by `deno task start` for the programs it runs together: one
 * instruction (the till's) says how to stop them all.
 */
export const TOGETHER = "SHOP_TOGETHER";

/** Whether this program runs with the others under `deno task start`. */
export function runsTogether(): boolean {
  return readEnv(TOGETHER) === "1";
}

/** Options of {@linkcode onShutdown}. */
export interface ShutdownOptions {
  /**
   * What a second signal does, once the grace period has passed, while the
   * first one's stop runs.
   *
   * @default {() => Deno.exit(130)}
   */
  onForce?(): void;
  /** Told when the stop itself fails. */
  onError?(error: unknown): void;
  /**
   * Milliseconds after the first signal in which another is the same one
   * again: Ctrl+C reaches a program both from the terminal and through the
   * launcher that forwards it.
   *
   * @default {1500}
   */
  graceMs?: number;
  /**
   * Milliseconds between looks at the parent process; when it is gone (a
   * launcher killed with SIGKILL), the program stops as on SIGTERM rather
   * than run on orphaned. 0 to not look.
   *
   * @default {1000}
   */
  parentCheckMs?: number;
}

/**
 * Runs `stop` once, on the first SIGINT or SIGTERM or when the parent is
 * gone. Returns a function that removes the handlers.
 */
export function onShutdown(
  stop: (reason: string) => Promise<void>,
  options: ShutdownOptions = {},
): () => void {
  const {
    // The user asked again, later: waiting longer is not what they want.
    onForce = () => Deno.exit(130),
    onError = (error) => console.error(String(error)),
    graceMs = 1500,
    parentCheckMs = 1000,
  } = options;
  let stoppedAt: number | undefined;
  const begin = (reason: string) => {
    if (stoppedAt !== undefined) {
      if (performance.now() - stoppedAt > graceMs) onForce();
      return;
    }
    stoppedAt = performance.now();
    stop(reason).catch(onError);
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const listener = () => begin(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  // The launcher names itself: by the time this runs, it may be gone already.
  const launcher = Number(readEnv(LAUNCHER_PID) || NaN);
  const parent = Number.isInteger(launcher) ? launcher : Deno.ppid;
  const watcher = parentCheckMs > 0
    ? setInterval(() => {
      if (Deno.ppid !== parent) {
        clearInterval(watcher);
        begin("parent gone");
      }
    }, parentCheckMs)
    : undefined;
  if (watcher !== undefined) Deno.unrefTimer(watcher);
  return () => {
    clearInterval(watcher);
    for (const [signal, listener] of handlers) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}
