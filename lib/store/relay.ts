/**
 * The relay: publishes an outbox's pending messages, oldest first, with many
 * in flight at once, and marks a message sent only after the broker's
 * confirm. It lives as long as its service, across connections, so that
 * whoever waits for a message or for the outbox to drain waits on a promise
 * that outlasts a reconnect.
 *
 * @module
 */
import {
  backoff,
  delay,
  errorMessage,
  replyCodeOf,
  UnpublishableError,
  UnroutableError,
} from "../core/mod.ts";
import type { Outbox, OutboxEntry } from "./outbox.ts";
import type { Publisher } from "../messaging/mod.ts";
import {
  contextOf,
  endSpan,
  SpanKind,
  startSpan,
  TRACEPARENT,
} from "../observability/mod.ts";

/** How long a floor of the pending count stands in for a count, in ms. */
const RECOUNT_MS = 250;

/** How long a relay may go without reading its outbox from the first id, in ms. */
const RESCAN_MS = 1000;

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
  /** Told of the seconds from each publish to its confirm. */
  onConfirm?(seconds: number): void;
  /** Told of a message that no queue took; it stays pending. */
  onUnroutable?(error: UnroutableError): void;
  /** Told of a message set aside in the outbox, since it can never be published. */
  onSetAside?(entry: OutboxEntry, reason: string): void;
  /**
   * Whether an error is the outbox's own store failing (a database server
   * restarting): the relay then waits and tries again, instead of ending.
   */
  storeFailing?(error: unknown): boolean;
  /**
   * Failures of the same message, alone on its channel, with a reply code
   * from the broker, before it is set aside.
   *
   * @default {3}
   */
  maxStrikes?: number;
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
  /**
   * The pending count last read, less what this relay has marked sent
   * since: a floor, as adds only raise it. While it is above every
   * waiter's limit, no count can let one go.
   */
  #pendingFloor = 0;
  #countedAt = -Infinity;
  /** {@linkcode Outbox.committedAdds} when the count was taken. */
  #addsAtCount = 0;
  #recount: ReturnType<typeof setTimeout> | undefined;
  /** The last id of a pass that ended without a failure; 0 after one that did not. */
  #resumeAfter = 0;
  #scannedAt = -Infinity;
  #publisher: Publisher | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  /**
   * After the broker closed the channel over a publish, messages go one at
   * a time until the one it refuses is known: a message that the broker
   * refuses alone `maxStrikes` times is set aside, not retried forever.
   */
  #careful = false;
  readonly #strikes = new Map<number, number>();

  /** Creates a relay for `outbox`; nothing is sent before {@linkcode Relay.run}. */
  constructor(outbox: Outbox, options: RelayOptions = {}) {
    this.#outbox = outbox;
    this.#options = options;
  }

  /**
   * Resolves once the message is confirmed; rejects with
   * {@linkcode UnroutableError} when no queue took it, and with the reason
   * when it was set aside as one that can never be published.
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
   * {@linkcode UnroutableError} when a pending message came back unroutable,
   * and with the reason when one was set aside.
   */
  async drained(): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#drained.add({ resolve, reject });
    // Registered first, so that a settle while this counts is not missed.
    if (await this.#outbox.countPending() === 0) resolve();
    return await promise;
  }

  /** Resolves once at most `limit` messages are pending: backpressure for a producer. */
  async pendingAtMost(limit: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    const waiter = { limit, resolve };
    this.#below.add(waiter);
    await this.#releaseBelow();
    return await promise;
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
    let storeFailures = 0;
    try {
      while (!signal.aborted) {
        const added = this.#outbox.nextAdd();
        let wait = idleMs;
        try {
          await this.#flush();
          storeFailures = 0;
        } catch (error) {
          if (this.#options.storeFailing?.(error)) {
            wait = backoff(storeFailures++, { initial: 500, max: 10_000 });
          } else if (error instanceof UnroutableError) {
            this.#options.onUnroutable?.(error);
            wait = unroutableMs;
          } else {
            throw error;
          }
        }
        // Woken by an add, the idle timer is cancelled rather than left
        // behind; stopped during the flush, it does not start.
        await delay(wait, { signal, until: added });
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
    await this.#settleDrained();
  }

  /**
   * A sliding window: up to `window` publishes await their confirms while
   * more are sent; confirmed messages are marked sent in batches.
   */
  async #sendPending(): Promise<void> {
    const publisher = this.#publisher;
    if (!publisher) return;
    const window = this.#careful ? 1 : this.#options.window ?? 256;
    const inFlight = new Set<Promise<void>>();
    let confirmed: OutboxEntry[] = [];
    let failure: unknown;
    // The store's writes, one after another, in the order of the confirms.
    let writes = Promise.resolve();
    const write = (work: () => Promise<void>) => {
      writes = writes.then(work);
      writes.catch(() => {}); // Awaited below; not unhandled meanwhile.
    };
    const markConfirmed = () => {
      if (confirmed.length === 0) return;
      const entries = confirmed;
      confirmed = [];
      write(async () => {
        await this.#outbox.markSent(entries.map((entry) => entry.id));
        this.#options.onSent?.(entries);
        await this.#settleSent(entries);
      });
    };
    // Where this process is the outbox's one writer (SQLite), a pass starts
    // after what the one before published without a failure: every message
    // up to there is confirmed. A pass from the first id, at least every
    // RESCAN_MS, finds what others made pending again (a replay).
    const now = performance.now();
    const resume = this.#outbox.commitsInOrder &&
      now - this.#scannedAt < RESCAN_MS;
    if (!resume) this.#scannedAt = now;
    let lastId = resume ? this.#resumeAfter : 0;
    // Until this pass ends without a failure, the next starts from the first.
    this.#resumeAfter = 0;
    while (failure === undefined) {
      // Refill when half the window is free: one query per many messages.
      if (inFlight.size > window / 2) {
        await Promise.race(inFlight);
        continue;
      }
      // Taken before the read, so that an add during it is not missed.
      const added = this.#outbox.nextAdd();
      const batch = await this.#outbox.pending(
        window - inFlight.size,
        lastId,
      );
      if (batch.length === 0) {
        // Where ids may commit out of order (PostgreSQL), a later read starts
        // again from the first id, so as not to pass over one for long.
        if (inFlight.size === 0 || !this.#outbox.commitsInOrder) break;
        // What is added while these await their confirms goes out now, not
        // after them: a confirm waits for the broker's disk.
        markConfirmed();
        await Promise.race([added, Promise.all(inFlight)]);
        continue;
      }
      lastId = batch[batch.length - 1].id;
      for (const entry of batch) {
        const began = performance.now();
        const traced = entry.headers?.[TRACEPARENT];
        const span = typeof traced !== "string"
          ? undefined
          : startSpan(`publish ${entry.routingKey}`, {
            parent: contextOf(traced),
            kind: SpanKind.PRODUCER,
            attributes: {
              "messaging.system": "rabbitmq",
              "messaging.destination.name": entry.exchange,
              "messaging.rabbitmq.destination.routing_key": entry.routingKey,
              "messaging.message.id": entry.messageId,
            },
          });
        const sent: Promise<void> = publisher.publish(entry).then(
          () => {
            endSpan(span);
            this.#options.onConfirm?.((performance.now() - began) / 1000);
            confirmed.push(entry);
            if (this.#strikes.delete(entry.id)) this.#careful = false;
            if (confirmed.length >= window / 2) markConfirmed();
          },
          (error) => {
            endSpan(span, error);
            if (
              error instanceof UnpublishableError ||
              (this.#careful && this.#struckOut(entry, error))
            ) {
              write(() => this.#setAside(entry, error));
              return;
            }
            if (replyCodeOf(error) !== undefined) this.#careful = true;
            failure ??= error;
            if (error instanceof UnroutableError) {
              this.#reject(entry.messageId, error);
            }
          },
        ).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
      }
      // Out before whatever else this turn does (the next sale rung up).
      publisher.flush();
    }
    await Promise.all(inFlight);
    markConfirmed();
    await writes;
    if (failure !== undefined) throw failure;
    this.#resumeAfter = lastId;
  }

  async #settleSent(entries: OutboxEntry[]): Promise<void> {
    if (this.#sent.size > 0) {
      for (const entry of entries) {
        this.#sent.get(entry.messageId)?.resolve();
        this.#sent.delete(entry.messageId);
      }
    }
    this.#pendingFloor -= entries.length;
    await this.#releaseBelow();
  }

  /** Lets go the producers waiting for at most their limit to be pending. */
  async #releaseBelow(): Promise<void> {
    if (this.#below.size === 0) return;
    const highest = Math.max(...[...this.#below].map((w) => w.limit));
    const known = this.#knownPending();
    // A floor above every limit lets no one go; where adds are known too
    // (SQLite), it stands for a count.
    const pending = known !== undefined &&
        (known > highest || this.#outbox.commitsInOrder)
      ? known
      : await this.#countPending();
    for (const waiter of this.#below) {
      if (pending > waiter.limit) continue;
      this.#below.delete(waiter);
      waiter.resolve();
    }
    if (this.#below.size === 0) {
      clearTimeout(this.#recount);
      this.#recount = undefined;
    } else {
      this.#recountLater();
    }
  }

  /**
   * What is known of the pending count without counting, while the last
   * count is recent: a floor (that count, less what this relay marked sent
   * since; others may mark rows too, as relays that share a PostgreSQL
   * outbox do, so it is trusted only a while). A count reads every pending
   * row: after each confirm round it was 6% of the POS's time at full
   * speed. Where this process is the one that writes the outbox (SQLite),
   * what it added since is known too, and the floor is the count: another
   * process adding to the same file would make it low for a while, letting
   * a producer run a little ahead; one marking would make it high until the
   * next count.
   */
  #knownPending(): number | undefined {
    if (performance.now() - this.#countedAt >= RECOUNT_MS) return undefined;
    return this.#pendingFloor +
      (this.#outbox.commitsInOrder
        ? this.#outbox.committedAdds - this.#addsAtCount
        : 0);
  }

  /** Counts once the floor is no longer trusted, if no confirm does first. */
  #recountLater(): void {
    if (this.#recount !== undefined) return;
    const wait = this.#countedAt + RECOUNT_MS - performance.now();
    this.#recount = setTimeout(() => {
      this.#recount = undefined;
      // A store that fails now is tried again at the next confirm or count.
      this.#releaseBelow().catch(() => this.#recountLater());
    }, Math.max(0, wait));
  }

  async #countPending(): Promise<number> {
    this.#countedAt = performance.now();
    // Taken first: an add that commits during the count is counted twice
    // at worst, which only makes a producer wait for the next count.
    this.#addsAtCount = this.#outbox.committedAdds;
    this.#pendingFloor = await this.#outbox.countPending();
    return this.#pendingFloor;
  }

  async #settleDrained(): Promise<void> {
    if (this.#drained.size === 0) return;
    if (await this.#outbox.countPending() > 0) return;
    for (const waiter of this.#drained) waiter.resolve();
    this.#drained.clear();
  }

  /** Counts a refusal of `entry` alone; whether it has had enough. */
  #struckOut(entry: OutboxEntry, error: unknown): boolean {
    if (replyCodeOf(error) === undefined) return false;
    const strikes = (this.#strikes.get(entry.id) ?? 0) + 1;
    this.#strikes.set(entry.id, strikes);
    return strikes >= (this.#options.maxStrikes ?? 3);
  }

  async #setAside(entry: OutboxEntry, error: unknown): Promise<void> {
    const reason = errorMessage(error);
    await this.#outbox.setAside(entry.id, reason);
    this.#strikes.delete(entry.id);
    this.#careful = false;
    this.#options.onSetAside?.(entry, reason);
    this.#reject(
      entry.messageId,
      error instanceof Error ? error : new UnpublishableError(reason),
    );
  }

  #reject(messageId: string, error: Error): void {
    this.#sent.get(messageId)?.reject(error);
    this.#sent.delete(messageId);
    for (const waiter of this.#drained) waiter.reject(error);
    this.#drained.clear();
  }
}
