/**
 * The relay: publishes an outbox's pending messages, oldest first, with many
 * in flight at once, and marks a message sent only after the broker's
 * confirm. It lives as long as its service, across connections, so that
 * whoever waits for a message or for the outbox to drain waits on a promise
 * that outlasts a reconnect.
 *
 * @module
 */
import { delay } from "./delay.ts";
import { UnroutableError } from "./errors.ts";
import type { Outbox, OutboxEntry } from "./outbox.ts";
import type { Publisher } from "./publisher.ts";

/** Options of {@linkcode Relay}. */
export interface RelayOptions {
  /**
   * Messages in flight at once, awaiting their confirms.
   *
   * @default {256}
   */
  window?: number;
  /** Told of the messages the broker confirmed, in order. */
  onSent?(entries: OutboxEntry[]): void;
  /** Told of a message that no queue took; it stays pending. */
  onUnroutable?(error: UnroutableError): void;
}

/** Options of {@linkcode Relay.run}. */
export interface RelayRunOptions {
  /** Publishes with confirms, on this connection. */
  publisher: Publisher;
  /** Ends the run. */
  signal: AbortSignal;
  /**
   * Milliseconds between looks at the outbox when nothing wakes the relay.
   *
   * @default {1000}
   */
  idleMs?: number;
  /**
   * Milliseconds before an unroutable message is tried again.
   *
   * @default {5000}
   */
  unroutableMs?: number;
}

type Waiter = { resolve(): void; reject(error: Error): void };

/**
 * Publishes an outbox's pending messages, oldest first, with a sliding window
 * of unconfirmed publishes; confirmed messages are marked sent in batches.
 */
export class Relay {
  readonly #outbox: Outbox;
  readonly #options: RelayOptions;
  readonly #sent = new Map<string, Waiter>();
  readonly #drained = new Set<Waiter>();
  readonly #below = new Set<{ limit: number; resolve(): void }>();
  #publisher: Publisher | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  /** Creates a relay for `outbox`; nothing is sent before {@linkcode Relay.run}. */
  constructor(outbox: Outbox, options: RelayOptions = {}) {
    this.#outbox = outbox;
    this.#options = options;
  }

  /** The outbox this relay empties. */
  get outbox(): Outbox {
    return this.#outbox;
  }

  /**
   * Resolves once the message is confirmed; rejects with
   * {@linkcode UnroutableError} when no queue took it.
   */
  sent(messageId: string): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#sent.set(messageId, { resolve, reject });
    return promise;
  }

  /** Stops waiting for a message (it stays in the outbox all the same). */
  forget(messageId: string): void {
    this.#sent.delete(messageId);
  }

  /**
   * Resolves once nothing is pending in the outbox; rejects with
   * {@linkcode UnroutableError} when a pending message came back unroutable.
   */
  drained(): Promise<void> {
    if (this.#outbox.countPending() === 0) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#drained.add({ resolve, reject });
    return promise;
  }

  /** Resolves once at most `limit` messages are pending: backpressure for a producer. */
  pendingAtMost(limit: number): Promise<void> {
    if (this.#outbox.countPending() <= limit) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#below.add({ limit, resolve });
    return promise;
  }

  /**
   * Publishes what is pending now, and again at every add or every
   * `idleMs`, until `signal` aborts. An unroutable message is reported and
   * tried again after `unroutableMs`; any other failure ends the run (the
   * connection is gone) and what failed stays pending.
   */
  async run(options: RelayRunOptions): Promise<void> {
    const { publisher, signal, idleMs = 1000, unroutableMs = 5000 } = options;
    this.#publisher = publisher;
    try {
      while (!signal.aborted) {
        const added = this.#outbox.nextAdd();
        let wait = idleMs;
        try {
          await this.#flush();
        } catch (error) {
          if (!(error instanceof UnroutableError)) throw error;
          this.#options.onUnroutable?.(error);
          wait = unroutableMs;
        }
        // Stopped during the flush: the listener below would never fire.
        if (signal.aborted) break;
        // Woken by an add, the idle timer is cancelled rather than left behind.
        const idle = new AbortController();
        const stop = () => idle.abort();
        signal.addEventListener("abort", stop, { once: true });
        await Promise.race([added, delay(wait, { signal: idle.signal })]);
        idle.abort();
        signal.removeEventListener("abort", stop);
      }
    } finally {
      if (this.#publisher === publisher) this.#publisher = undefined;
    }
  }

  /**
   * Publishes until nothing is pending. Calls made while a flush runs join
   * it, and it looks once more for what they added.
   */
  #flush(): Promise<void> {
    this.#again = true;
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#again) {
      this.#again = false;
      await this.#sendPending();
    }
    this.#settleDrained();
  }

  /**
   * A sliding window: up to `window` publishes await their confirms while
   * more are sent; confirmed messages are marked sent in batches.
   */
  async #sendPending(): Promise<void> {
    const publisher = this.#publisher;
    if (!publisher) return;
    const { window = 256 } = this.#options;
    const inFlight = new Set<Promise<void>>();
    let confirmed: OutboxEntry[] = [];
    let failure: unknown;
    const markConfirmed = () => {
      if (confirmed.length === 0) return;
      const entries = confirmed;
      confirmed = [];
      this.#outbox.markSent(entries.map((entry) => entry.id));
      this.#options.onSent?.(entries);
      this.#settleSent(entries);
    };
    let lastId = 0;
    while (failure === undefined) {
      // Refill when half the window is free: one query per many messages.
      if (inFlight.size > window / 2) {
        await Promise.race(inFlight);
        continue;
      }
      const batch = this.#outbox.pending(window - inFlight.size, lastId);
      if (batch.length === 0) break;
      lastId = batch[batch.length - 1].id;
      for (const entry of batch) {
        const sent: Promise<void> = publisher.publish(entry).then(
          () => {
            confirmed.push(entry);
            if (confirmed.length >= window / 2) markConfirmed();
          },
          (error) => {
            failure ??= error;
            if (error instanceof UnroutableError) {
              this.#rejectUnroutable(entry.messageId, error);
            }
          },
        ).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
    }
    await Promise.all(inFlight);
    markConfirmed();
    if (failure !== undefined) throw failure;
  }

  #settleSent(entries: OutboxEntry[]): void {
    if (this.#sent.size > 0) {
      for (const entry of entries) {
        this.#sent.get(entry.messageId)?.resolve();
        this.#sent.delete(entry.messageId);
      }
    }
    if (this.#below.size > 0) {
      const pending = this.#outbox.countPending();
      for (const waiter of this.#below) {
        if (pending > waiter.limit) continue;
        this.#below.delete(waiter);
        waiter.resolve();
      }
    }
  }

  #settleDrained(): void {
    if (this.#drained.size === 0 || this.#outbox.countPending() > 0) return;
    for (const waiter of this.#drained) waiter.resolve();
    this.#drained.clear();
  }

  #rejectUnroutable(messageId: string, error: UnroutableError): void {
    this.#sent.get(messageId)?.reject(error);
    this.#sent.delete(messageId);
    for (const waiter of this.#drained) waiter.reject(error);
    this.#drained.clear();
  }
}
