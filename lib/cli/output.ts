/**
 * Writing long listings to stdout as they are read: many lines a write, so
 * a million rows cost a few hundred writes and no more memory than a chunk.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Options of {@linkcode writeLines}. */
export interface WriteLinesOptions {
  /**
   * Characters gathered before a write.
   *
   * @default {65536}
   */
  chunk?: number;
  /** Where to write. @default {Deno.stdout} */
  output?: { writeSync(data: Uint8Array): number };
}

/** Writes each line, followed by a newline; returns how many were written. */
export async function writeLines(
  lines: Iterable<string> | AsyncIterable<string>,
  options: WriteLinesOptions = {},
): Promise<number> {
  const { chunk = 65536, output = Deno.stdout } = options;
  let buffer = "";
  let count = 0;
  const flush = () => {
    let bytes = encoder.encode(buffer);
    while (bytes.byteLength > 0) {
      bytes = bytes.subarray(output.writeSync(bytes));
    }
    buffer = "";
  };
  for await (const line of lines) {
    buffer += line + "\n";
    count++;
    if (buffer.length >= chunk) flush();
  }
  flush();
  return count;
}

/**
 * The lines of a JSON array of documents already in JSON text, one a line,
 * written as they come: `[`, the documents joined by commas, `]`.
 */
export async function* jsonArrayLines(
  documents: Iterable<string> | AsyncIterable<string>,
): AsyncGenerator<string> {
  let previous: string | undefined;
  yield "[";
  for await (const document of documents) {
    if (previous !== undefined) yield `${previous},`;
    previous = document;
  }
  if (previous !== undefined) yield previous;
  yield "]";
}

/** `fn` applied to each item, lazily. */
export async function* mapEach<T, U>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: (item: T) => U,
): AsyncGenerator<U> {
  for await (const item of items) yield fn(item);
}
