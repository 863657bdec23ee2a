/**
 * A prompt driven by key presses: the article's way of working the POS. A
 * terminal gives single keys (echoed), a pipe or a file gives lines, so the
 * same loop can be scripted; SIGINT or SIGTERM ends it at the next key.
 *
 * @module
 */
import { keys } from "./keys.ts";
import { onShutdown } from "./shutdown.ts";

/** Options of {@linkcode keyPrompt}. */
export interface KeyPromptOptions {
  /** The prompt written before each key. */
  prompt(): string | Promise<string>;
  /** Handles a key: false ends the loop. */
  onKey(key: string): boolean | Promise<boolean>;
  /**
   * Awaited before the first prompt, once signals are taken: the line it
   * makes comes first.
   */
  ready?: Promise<unknown>;
}

/**
 * Prompts and handles keys until `onKey` says stop, the input ends, or a
 * signal comes.
 *
 * @example
 * ```ts
 * import { keyPrompt } from "./prompt.ts";
 *
 * await keyPrompt({
 *   prompt: () => "Press a to add, q to stop: ",
 *   onKey: (key) => key !== "q",
 * });
 * ```
 */
export async function keyPrompt(options: KeyPromptOptions): Promise<void> {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  let stop = false;
  const removeHandlers = onShutdown(() => {
    stop = true;
    // Ends the read of the next key or line.
    Deno.stdin.close();
    return Promise.resolve();
  });
  await options.ready;
  write(await options.prompt());
  try {
    for await (const key of keys()) {
      if (Deno.stdin.isTerminal()) write(`${key}\n`);
      if (!await options.onKey(key) || stop) break;
      write(await options.prompt());
    }
  } catch (error) {
    if (!stop) throw error;
  } finally {
    removeHandlers();
    // A terminal echoed the last key and its newline; anything else leaves
    // the prompt open, and the next line would start on it.
    if (!Deno.stdin.isTerminal()) write("\n");
  }
}
