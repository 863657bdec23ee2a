/**
 * A bound on work that costs much, such as checking a password: a few at a
 * time, a few more waiting, and the rest turned away at once.
 *
 * @module
 */

/** Thrown when the gate's queue is full: nothing was run. */
export class GateFull extends Error {
  override name = "GateFull";
}

/** Options of {@linkcode Gate}. */
export interface GateOptions {
  /**
   * How many run at once.
   *
   * @default {1}
   */
  running?: number;
  /**
   * How many may wait for a turn.
   *
   * @default {8}
   */
  waiting?: number;
}

/**
 * Runs work a few at a time, in the order it came.
 *
 * @example
 * ```ts
 * import { Gate } from "./gate.ts";
 *
 * const gate = new Gate({ running: 1, waiting: 8 });
 * const answer = await gate.run(async () => 42);
 * ```
 */
export class Gate {
  readonly #running: number;
  readonly #waiting: number;
  #busy = 0;
  readonly #queue: (() => void)[] = [];

  constructor(options: GateOptions = {}) {
    this.#running = options.running ?? 1;
    this.#waiting = options.waiting ?? 8;
  }

  /**
   * Runs `work` when its turn comes.
   *
   * @throws {GateFull} at once, when as many wait already as may.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#running) {
      if (this.#queue.length >= this.#waiting) {
        throw new GateFull("Too many at once");
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#busy++;
    }
    try {
      return await work();
    } finally {
      // The turn passes on as it is: the next one runs in this one's place.
      const next = this.#queue.shift();
      if (next) next();
      else this.#busy--;
    }
  }
}
