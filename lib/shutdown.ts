/**
 * Stopping on SIGINT or SIGTERM: the first signal asks the program to finish
 * what it holds; a second one is the user insisting.
 *
 * @module
 */

/** Options of {@linkcode onShutdown}. */
export interface ShutdownOptions {
  /**
   * What a second signal does while the first one's stop runs.
   *
   * @default {() => Deno.exit(130)}
   */
  onForce?(): void;
  /** Told when the stop itself fails. */
  onError?(error: unknown): void;
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM. Returns a function that
 * removes the handlers.
 */
export function onShutdown(
  stop: (signal: string) => Promise<void>,
  options: ShutdownOptions = {},
): () => void {
  const {
    // The user asked twice: waiting longer is not what they want.
    onForce = () => Deno.exit(130),
    onError = (error) => console.error(String(error)),
  } = options;
  let stopping = false;
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) return onForce();
    stopping = true;
    stop(signal).catch(onError);
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const listener = handler(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of handlers) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}
