/**
 * Text for people: what reaches a terminal from stored or received data,
 * escaped, so that a store id with ESC sequences cannot retitle the
 * terminal and one with a newline cannot print a fake line; and what was
 * thrown, in one line.
 *
 * @module
 */

/**
 * C0 and C1 controls (NUL, ESC, newlines, DEL), line and paragraph
 * separators, invisible format characters (bidirectional overrides, a
 * zero-width space) and lone surrogates (in Unicode mode a
 * surrogate range matches only one that is not half of a pair).
 */
const UNSAFE =
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\ud800-\udfff]/gu;

/** `text` with every unsafe character written as `\u001b`. */
export function printable(text: string): string {
  return text.replace(
    UNSAFE,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** An error's message, or the thing thrown as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
