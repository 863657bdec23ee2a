/**
 * Key presses, the article's way of driving the POS: single keys from a
 * terminal in raw mode, or lines from a pipe or a file, so that the same
 * loop can be scripted.
 *
 * @module
 */

/**
 * Keys one at a time from a terminal (Ctrl+C and Ctrl+D as `q`), or
 * lowercased lines from a pipe or a file. The terminal is left as it was
 * found when the loop ends.
 */
export async function* keys(): AsyncGenerator<string> {
  if (Deno.stdin.isTerminal()) {
    Deno.stdin.setRaw(true);
    try {
      const buffer = new Uint8Array(64);
      while (true) {
        const n = await Deno.stdin.read(buffer);
        if (n === null) return;
        for (const byte of buffer.subarray(0, n)) {
          // Ctrl+C and Ctrl+D arrive as bytes in raw mode: treat them as q.
          yield byte === 3 || byte === 4 ? "q" : String.fromCharCode(byte);
        }
      }
    } finally {
      Deno.stdin.setRaw(false);
    }
  }
  let pending = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).trim().toLowerCase();
      pending = pending.slice(newline + 1);
    }
  }
  if (pending.trim()) yield pending.trim().toLowerCase();
}
