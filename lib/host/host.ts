/**
 * What every service runs on, assembled once: its store and outbox, the
 * relay that publishes the outbox with confirms, a connection kept up with
 * backoff and a session on each, its health server and the pruning of its
 * bookkeeping. A consumer adds its queues ({@linkcode runConsumer}); the POS
 * its till.
 *
 * @module
 */
import type { Channel, ChannelModel } from "amqplib";
import { DeferredError, delay, type UnroutableError } from "../core/mod.ts";
import { brokerUrls, type Config, vhostOf } from "../config/mod.ts";
import type { Log, LogLine } from "../log/mod.ts";
import { printable } from "../../contracts/text.ts";
import {
  type Publisher,
  runSession,
  serverVersion,
  stayConnected,
} from "../messaging/mod.ts";
import { Monitor, serveIfAsked } from "../observability/mod.ts";
import {
  isStoreFailure,
  type Outbox,
  type OutboxEntry,
  pruneEvery,
  Relay,
  type Store,
} from "../store/mod.ts";

/** What a service does on each session, apart from relaying its outbox. */
export interface HostSession {
  /** Declares the exchanges and queues it uses. */
  declare(channel: Channel, connection: ChannelModel): Promise<void>;
  /**
   * Its own work (consuming) until it stops or the connection is lost;
   * calls `ready` once it works. Without it, the session relays until the
   * host stops, and is ready once declared.
   */
  work?(
    connection: ChannelModel,
    publisher: Publisher,
    ready: () => void,
  ): Promise<void>;
  /**
   * Told each time a session is ready, with where it runs (`at
   * 127.0.0.1:5672, RabbitMQ 3.10.0`), and whether it is the first.
   */
  onReady?(where: string, first: boolean): void;
}

/** Options of {@linkcode Host}. */
export interface HostOptions {
  /** The service, for lines and the connection's name. */
  name: string;
  /** The service's configuration. */
  config: Config;
  /** The service's store, closed when the host closes. */
  store: Store;
  /** Its outbox, relayed with confirms while connected. */
  outbox?: Outbox;
  /**
   * Its log, metrics and health.
   *
   * @default {new Monitor(name)}
   */
  monitor?: Monitor;
  /**
   * The tables pruned of what is older than the retention.
   *
   * @default {["inbox"], and "outbox" with an outbox}
   */
  pruned?: ("inbox" | "outbox")[];
  /**
   * Told of a message the broker returned unroutable (it stays pending).
   *
   * @default {a line in the log}
   */
  onUnroutable?(error: UnroutableError): void;
  /**
   * The line for each entry the broker confirmed; none when it, or what it
   * returns, is undefined.
   */
  sentLine?(entry: OutboxEntry): LogLine | undefined;
  /**
   * What its outbox holds, for lines: `sale` (`3 sale(s) waiting`). A
   * producer's retries say how many wait; a consumer's, without it, do not.
   *
   * @default {"event"}
   */
  item?: string;
  /**
   * Milliseconds without a broker after which {@linkcode Host.failed}
   * rejects with a {@linkcode DeferredError}; none when undefined.
   */
  timeoutMs?: number;
}

/**
 * A service's machinery. {@linkcode Host.start} connects in the background;
 * {@linkcode Host.close} stops after the work under way and closes
 * everything it opened, the store last.
 *
 * @example
 * ```ts
 * import { Host } from "./mod.ts";
 * import { resolveConfig } from "../config/mod.ts";
 * import { openStore, Outbox } from "../store/mod.ts";
 *
 * const config = resolveConfig({}, (name) => Deno.env.get(name));
 * const store = await openStore({ name: "example", dataDir: config.dataDir });
 * const host = await Host.open({ name: "example", config, store, outbox: await Outbox.open(store) });
 * host.start({ declare: async () => {} });
 * await host.ready;
 * await host.close();
 * ```
 */
export class Host {
  /** Its log, metrics and health. */
  readonly monitor: Monitor;
  /** Its log. */
  readonly log: Log;
  /** The relay of its outbox, when it has one. */
  readonly relay: Relay | undefined;
  readonly #options: HostOptions;
  readonly #stop = new AbortController();
  readonly #first = Promise.withResolvers<void>();
  readonly #started = performance.now();
  #sessions = 0;
  #sentCount = 0;
  readonly #gaveUp = Promise.withResolvers<never>();
  readonly #server: { close(): Promise<void> } | undefined;
  readonly #stopPruning: () => Promise<void>;
  #running: Promise<void> = Promise.resolve();
  /** Resolves once a session first works. */
  readonly ready: Promise<void>;
  /**
   * Rejects when the host cannot go on: credentials refused, a host not
   * permitted, or no broker within `timeoutMs`.
   */
  readonly failed: Promise<never>;

  /**
   * Opens the health server when HTTP_PORT asks for one, and starts
   * pruning; {@linkcode Host.start} connects.
   *
   * @throws {Error} when the health server cannot listen (its port taken).
   */
  static async open(options: HostOptions): Promise<Host> {
    const monitor = options.monitor ?? new Monitor(options.name);
    const server = await serveIfAsked(options.config, monitor);
    return new Host(options, monitor, server);
  }

  private constructor(
    options: HostOptions,
    monitor: Monitor,
    server: { close(): Promise<void> } | undefined,
  ) {
    this.#options = options;
    const { name, config, store, outbox } = options;
    this.monitor = monitor;
    this.log = monitor.log;
    this.ready = this.#first.promise;
    this.relay = outbox
      ? new Relay(outbox, {
        onUnroutable: options.onUnroutable ??
          ((error) => this.log.error(`${name}: ${error.message}`)),
        onSetAside: reportSetAside(this.log),
        onConfirm: (seconds) =>
          monitor.confirmSeconds.observe(monitor.labels, seconds),
        storeFailing: isStoreFailure,
        onSent: (entries) => {
          this.#sentCount += entries.length;
          if (options.sentLine) {
            this.log.lines(
              "info",
              entries.map(options.sentLine).filter((line): line is LogLine =>
                line !== undefined
              ),
            );
          }
        },
      })
      : undefined;
    if (outbox) monitor.watchOutbox(outbox);
    this.#server = server;
    this.#stopPruning = pruneEvery(store, {
      retentionMs: config.retentionMs,
      tables: options.pruned ?? (outbox ? ["inbox", "outbox"] : ["inbox"]),
    });
    this.failed = this.#gaveUp.promise;
    this.failed.catch(() => {});
  }

  /** Messages of the outbox the broker confirmed since the host was made. */
  get sent(): number {
    return this.#sentCount;
  }

  /** Seconds since the host was made, for the last line: `12.3`. */
  get upSeconds(): string {
    return ((performance.now() - this.#started) / 1000).toFixed(1);
  }

  /** Settles once the sessions end: after a stop, or a failure for good. */
  get finished(): Promise<void> {
    return this.#running;
  }

  get #item(): string {
    return this.#options.item ?? "event";
  }

  /** Aborted once {@linkcode Host.stop} is called. */
  get stopping(): AbortSignal {
    return this.#stop.signal;
  }

  /** Connects, again and again with backoff, and runs `session` on each connection. */
  start(session: HostSession): void {
    const { name, config } = this.#options;
    const { monitor, log } = this;
    this.#running = stayConnected({
      url: config.url,
      tls: config,
      name,
      signal: this.#stop.signal,
      // A producer's retry says how much of what it made waits.
      onRetry: monitor.onRetry(
        this.#options.item === undefined ? undefined : async () => {
          // Nothing made yet is not news: the count only once there is one.
          const waiting = await this.#options.outbox?.countPending() ?? 0;
          return waiting > 0 ? `${waiting} ${this.#item}(s) waiting` : "";
        },
      ),
      session: (connection, ready) => {
        const broker = monitor.watchConnection(connection);
        connection.on("blocked", (reason: string) =>
          log.warn(
            `${name}: the broker blocked publishing (${reason}); ${this.#item}s wait in the outbox`,
          ));
        connection.on(
          "unblocked",
          () => log.warn(`${name}: the broker unblocked publishing`),
        );
        const working = () => {
          ready();
          monitor.setWorking(true);
          session.onReady?.(
            `at ${broker}${vhostWords(config.url)}, RabbitMQ ${
              serverVersion(connection)
            }`,
            this.#sessions++ === 0,
          );
          this.#first.resolve();
        };
        const { work } = session;
        return runSession(connection, {
          signal: this.#stop.signal,
          relay: this.relay,
          declare: (channel) => session.declare(channel, connection),
          ready: work ? undefined : working,
          work: work && (async (publisher) => {
            try {
              await work(connection, publisher, working);
            } finally {
              monitor.setWorking(false);
            }
          }),
        });
      },
    });
    this.#running.then(
      () => {},
      (error) => this.#gaveUp.reject(error),
    );
    const { timeoutMs } = this.#options;
    if (timeoutMs !== undefined) this.#watchTimeout(timeoutMs);
  }

  #watchTimeout(timeoutMs: number): void {
    let awaySince: number | undefined = performance.now();
    const watch = setInterval(() => {
      if (this.monitor.isConnected()) {
        awaySince = undefined;
      } else if (awaySince === undefined) {
        awaySince = performance.now();
      } else if (performance.now() - awaySince >= timeoutMs) {
        clearInterval(watch);
        this.#gaveUp.reject(
          new DeferredError(`No broker answered within ${timeoutMs / 1000} s`),
        );
      }
    }, Math.min(250, timeoutMs));
    this.#running.finally(() => clearInterval(watch)).catch(() => {});
  }

  /** Resolves once a session works, or after `ms` at most. */
  async readyWithin(ms: number): Promise<void> {
    await delay(ms, { until: this.ready });
  }

  /**
   * Waits up to `timeoutMs` for the broker's word on the outbox's message
   * `key`.
   *
   * @throws {UnroutableError} when no queue took it (it stays pending).
   */
  async waitSent(key: string, timeoutMs: number): Promise<void> {
    const relay = this.#relay();
    const timeout = new AbortController();
    try {
      await Promise.race([
        relay.sent(key),
        delay(timeoutMs, { signal: timeout.signal }),
        this.failed,
      ]);
    } finally {
      timeout.abort();
      relay.forget(key);
    }
  }

  /**
   * Resolves once nothing is pending in the outbox.
   *
   * @throws {UnroutableError} when a message came back unroutable.
   */
  async drain(): Promise<void> {
    await Promise.race([this.#relay().drained(), this.failed]);
  }

  /** Resolves once at most `limit` messages are pending. */
  async pendingAtMost(limit: number): Promise<void> {
    await Promise.race([this.#relay().pendingAtMost(limit), this.failed]);
  }

  #relay(): Relay {
    if (!this.relay) throw new TypeError("The host has no outbox to relay");
    return this.relay;
  }

  /** Stops after the work under way; what is pending stays for the next start. */
  stop(): void {
    this.monitor.setDraining();
    this.#stop.abort();
  }

  /**
   * Runs `work` (a producer's: ringing up sales), then closes, saying what
   * is left in the outbox for the next start. A {@linkcode DeferredError}
   * (no broker in time) is thrown again with that count.
   *
   * @throws {Error} what `work` failed with, or what ended the connection
   * for good.
   */
  async runThenClose(work: () => Promise<void>): Promise<void> {
    let deferred: DeferredError | undefined;
    let failed: { error: unknown } | undefined;
    try {
      await work();
    } catch (error) {
      if (error instanceof DeferredError) deferred = error;
      else failed = { error };
    }
    const item = this.#item;
    try {
      await this.close(async (failure) => {
        // After a failure that ends the service, its one line says it all.
        const waiting = failure
          ? 0
          : await this.#options.outbox?.countPending() ?? 0;
        if (deferred) {
          deferred = new DeferredError(
            `${deferred.message}: ${waiting} ${item}(s) are kept in the outbox and sent at the next start`,
          );
        } else if (waiting > 0) {
          this.log.warn(
            `${waiting} ${item}(s) are waiting in the outbox; they are sent on the next start.`,
          );
        }
      });
    } catch (error) {
      if (!failed) throw error;
    }
    if (failed) throw failed.error;
    if (deferred) throw deferred;
  }

  /**
   * Stops, waits for the sessions to end, runs `last` (given what ended
   * the connection for good, if anything), and closes the health server,
   * the pruning and the store.
   *
   * @throws {Error} what ended the connection for good (credentials
   * refused), once everything is closed.
   */
  async close(last?: (failure: unknown) => Promise<void>): Promise<void> {
    this.stop();
    const failure = await this.#running.then(
      () => undefined,
      (error) => ({ error }),
    );
    try {
      await last?.(failure?.error);
    } finally {
      await this.#server?.close();
      await this.#stopPruning();
      await this.#options.store.close();
    }
    if (failure) throw failure.error;
  }
}

/** An `onSetAside` that prints one line naming the message, why, and what to do. */
function reportSetAside(
  log: Log,
): (entry: OutboxEntry, reason: string) => void {
  return (entry, reason) =>
    log.error(
      `${log.service}: set aside "${
        printable(entry.messageId)
      }" in the outbox: ${
        printable(reason)
      } (see: deno task ${log.service} -- outbox)`,
    );
}

/** ` (vhost shop)` for a URL list that names a vhost; nothing for the default. */
function vhostWords(url: string): string {
  try {
    const [first] = brokerUrls(url);
    const vhost = first ? vhostOf(first) : "/";
    return vhost === "/" ? "" : ` (vhost ${vhost})`;
  } catch {
    return "";
  }
}
