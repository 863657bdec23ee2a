/**
 * The launcher's one terminal for several services.
 *
 * @module
 */

/**
 * The one terminal the services share: each line starts with its service's
 * name, and a line left open (a prompt) is ended before another service's.
 */
export class SharedTerminal {
  readonly #encoder = new TextEncoder();
  #openLine: string | undefined;

  /** Copies `stream` to `output`, each line prefixed with `[name]`. */
  async copy(
    name: string,
    stream: ReadableStream<Uint8Array>,
    output: { writeSync(data: Uint8Array): number },
  ): Promise<void> {
    const prefix = `[${name.padEnd(9)}] `;
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      let out = "";
      for (const char of text) {
        if (this.#openLine !== prefix) {
          if (this.#openLine !== undefined) out += "\n";
          out += prefix;
          this.#openLine = prefix;
        }
        out += char;
        if (char === "\n") this.#openLine = undefined;
      }
      output.writeSync(this.#encoder.encode(out));
    }
  }
}
