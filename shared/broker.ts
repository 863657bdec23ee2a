/**
 * Broker plumbing shared by the services: one long-lived connection, a
 * publisher that resolves only on the broker's confirm, durable topology, and
 * a consumer that acks only after the work is committed.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  connect,
  type ConsumeMessage,
  type Options,
} from "amqplib";

/** Where the services find the broker unless AMQP_URL says otherwise. */
export const DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672";

/** A broker that cannot be reached, or refused us; the message is one line. */
export class BrokerError extends Error {
  /** Whether trying again cannot help: refused credentials, a host not permitted, a bad URL. */
  readonly permanent: boolean;

  /** Creates the error; `message` is one line naming the URL without its password. */
  constructor(message: string, options?: { permanent?: boolean }) {
    super(message);
    this.name = "BrokerError";
    this.permanent = options?.permanent ?? false;
  }
}

/** A confirmed publish that no queue took (mandatory, unroutable). */
export class UnroutableError extends Error {
  /** Creates the error for a message returned by the broker. */
  constructor(message: string) {
    super(message);
    this.name = "UnroutableError";
  }
}

/** The URL as it is safe to print: no password, no query. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : "";
    const port = parsed.port ? `:${parsed.port}` : "";
    const vhost = parsed.pathname === "/" ? "" : parsed.pathname;
    return `${parsed.protocol}//${user}${parsed.hostname}${port}${vhost}`;
  } catch {
    return "(an invalid URL)";
  }
}

/**
 * The brokers listed in an AMQP URL: one, or several separated by commas
 * (the nodes of a cluster), each a full `amqp://` or `amqps://` URL.
 *
 * @throws {BrokerError} when an entry is not an AMQP URL.
 */
export function brokerUrls(url: string): URL[] {
  return url.split(",").map((entry) => entry.trim()).filter(Boolean).map(
    (entry) => {
      let parsed: URL;
      try {
        parsed = new URL(entry);
      } catch {
        throw new BrokerError(`Invalid AMQP URL "${redactUrl(entry)}"`, {
          permanent: true,
        });
      }
      if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
        throw new BrokerError(
          `Invalid AMQP URL "${redactUrl(entry)}": use amqp:// or amqps://`,
          { permanent: true },
        );
      }
      return parsed;
    },
  );
}

/** Options of {@linkcode connectBroker}. */
export interface ConnectOptions {
  /** One AMQP URL, or several separated by commas, tried in turn. */
  url: string;
  /** The name the management UI shows for the connection. */
  name: string;
  /** Seconds between heartbeats. Defaults to 30. */
  heartbeat?: number;
  /** Milliseconds to wait for the TCP and TLS handshake. Defaults to 5000. */
  timeout?: number;
}

/**
 * Opens one long-lived connection, with Nagle's algorithm off (it stalls
 * small writes by 40 ms) and heartbeats on.
 *
 * @throws {BrokerError} naming the URL, without its password, and the reason.
 */
export async function connectBroker(
  options: ConnectOptions,
): Promise<ChannelModel> {
  const { name, heartbeat = 30, timeout = 5000 } = options;
  const urls = brokerUrls(options.url);
  if (urls.length === 0) {
    throw new BrokerError("AMQP_URL is empty", { permanent: true });
  }
  const failures: string[] = [];
  let permanent = true;
  for (const url of urls) {
    const secure = url.protocol === "amqps:";
    const config: Options.Connect = {
      protocol: secure ? "amqps" : "amqp",
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : secure ? 5671 : 5672,
      username: decodeURIComponent(url.username || "guest"),
      password: decodeURIComponent(url.password || "guest"),
      vhost: url.pathname.length > 1
        ? decodeURIComponent(url.pathname.slice(1))
        : "/",
      heartbeat: Number(url.searchParams.get("heartbeat") ?? heartbeat),
    };
    try {
      return await connect(config, {
        noDelay: true,
        timeout,
        clientProperties: { connection_name: name },
        ...(secure ? { servername: config.hostname } : {}),
      });
    } catch (error) {
      const reason = describeError(error);
      permanent &&= PERMANENT.test(reason);
      failures.push(`Cannot connect to "${redactUrl(url.href)}": ${reason}`);
    }
  }
  throw new BrokerError(failures.join("; "), { permanent });
}

const PERMANENT = /^(access refused|not permitted)/;

/**
 * Milliseconds to wait before try `attempt` (0, 1, 2 ...): doubling from
 * `initial` up to `max`, with jitter so that many clients do not retry in step.
 */
export function backoff(attempt: number, initial = 200, max = 10_000): number {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

/** Options of {@linkcode stayConnected}. */
export interface StayConnectedOptions extends ConnectOptions {
  /** Ends the loop: no more tries; a session watches it to end its work cleanly. */
  signal: AbortSignal;
  /**
   * Runs on each new connection: declares topology, opens channels, works,
   * and returns when the work is done (the loop ends) or throws when it
   * failed (the loop connects again).
   */
  session(connection: ChannelModel): Promise<void>;
  /** Told of each lost or failed connection and the wait before the next try. */
  onRetry?(message: string, delayMs: number): void;
}

/**
 * Keeps a connection for as long as it is wanted: connects (trying each
 * broker of the URL), runs the session, and when the connection is lost or
 * the session fails, connects again after a backoff with jitter.
 *
 * @throws {BrokerError} at once for what retrying cannot mend (refused
 * credentials, a host not permitted).
 */
export async function stayConnected(
  options: StayConnectedOptions,
): Promise<void> {
  const { signal, session, onRetry } = options;
  let attempt = 0;
  while (!signal.aborted) {
    let connection: ChannelModel;
    try {
      connection = await connectBroker(options);
    } catch (error) {
      if (error instanceof BrokerError && error.permanent) throw error;
      const delay = backoff(attempt++);
      onRetry?.(describeError(error), delay);
      await sleep(delay, signal);
      continue;
    }
    attempt = 0;
    connection.on("error", () => {});
    const lost = new Promise<Error>((resolve) => {
      connection.once("close", (error?: Error) => {
        resolve(
          new BrokerError(
            `Connection lost${error ? `: ${describeError(error)}` : ""}`,
          ),
        );
      });
    });
    try {
      await Promise.race([
        session(connection),
        lost.then((error) => Promise.reject(error)),
      ]);
      await connection.close().catch(() => {});
      return;
    } catch (error) {
      await connection.close().catch(() => {});
      if (signal.aborted) return;
      if (error instanceof BrokerError && error.permanent) throw error;
      const delay = backoff(attempt++);
      onRetry?.(describeError(error), delay);
      await sleep(delay, signal);
    }
  }
}

/** One line for a connection failure, the broker's own words where it gave some. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof Deno.errors.NotCapable) {
    return "not permitted: the service's --allow-net does not list this host";
  }
  const code = (error as { code?: unknown }).code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused (is the broker running?)",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host not found",
    ETIMEDOUT: "timed out",
    ECONNRESET: "connection reset",
    EPERM: "not permitted: the service's --allow-net does not list this host",
  };
  if (typeof code === "string" && code in known) return known[code];
  const message = error.message.split("\n")[0];
  if (/ACCESS.REFUSED/.test(message)) {
    return "access refused: check the user name and password";
  }
  if (/NOT.ALLOWED/.test(message)) {
    return "access refused: the virtual host does not exist or the user may not use it";
  }
  return message.replace(/\s+/g, " ").trim();
}

/** Options of {@linkcode declareQueue}. */
export interface QueueTopology {
  /** The durable topic exchange to bind to. */
  exchange: string;
  /** The durable queue to declare. */
  queue: string;
  /** The binding key. */
  routingKey: string;
}

/**
 * Declares the durable exchange, the durable queue bound to it and its error
 * queue `<queue>_error`. The queues take no arguments, exactly as the .NET
 * services declare them, so either side may declare first.
 */
export async function declareQueue(
  channel: Channel,
  topology: QueueTopology,
): Promise<void> {
  const { exchange, queue, routingKey } = topology;
  await channel.assertExchange(exchange, "topic", { durable: true });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, routingKey);
  await channel.assertQueue(errorQueueOf(queue), { durable: true });
}

/** The queue where messages of `queue` that failed are kept. */
export function errorQueueOf(queue: string): string {
  return `${queue}_error`;
}

/** A message to publish. */
export interface Outgoing {
  /** The exchange; `""` is the default exchange, routing by queue name. */
  exchange: string;
  /** The routing key. */
  routingKey: string;
  /** The body. */
  body: Buffer;
  /** A unique id, also used to match a return with its confirm. */
  messageId: string;
  /** Headers to send along. */
  headers?: Record<string, unknown>;
  /** The content type. Defaults to `application/json`. */
  contentType?: string;
  /**
   * Whether a message no queue takes is an error (a sale), or normal (an
   * event nobody listens to yet). Defaults to true.
   */
  mandatory?: boolean;
}

/**
 * Publishes on a confirm channel: each publish resolves when the broker has
 * taken responsibility for the message and rejects when it refuses it, when
 * no queue takes it (mandatory) or when the channel closes first. Many
 * publishes may be in flight at once; the socket's buffer bounds them.
 */
export class Publisher {
  readonly #channel: ConfirmChannel;
  readonly #returned = new Set<string>();
  readonly #confirmTimeout: number;
  /** Publishes awaiting their confirm, with the time they expire. */
  readonly #unconfirmed = new Set<{ expires: number; expire(): void }>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #drained: Promise<void> | undefined;
  #blocked: { promise: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    connection: ChannelModel,
    channel: ConfirmChannel,
    confirmTimeout: number,
  ) {
    this.#channel = channel;
    this.#confirmTimeout = confirmTimeout;
    // A broker alarm (memory, disk) blocks publishers: wait, do not buffer.
    const onBlocked = () => {
      if (this.#blocked) return;
      let resolve!: () => void;
      const promise = new Promise<void>((done) => resolve = done);
      this.#blocked = { promise, resolve };
    };
    const onUnblocked = () => {
      this.#blocked?.resolve();
      this.#blocked = undefined;
      // A blocked connection held the confirms back: that was not a loss.
      const expires = Date.now() + this.#confirmTimeout;
      for (const entry of this.#unconfirmed) entry.expires = expires;
    };
    connection.on("blocked", onBlocked);
    connection.on("unblocked", onUnblocked);
    channel.once("close", () => {
      connection.off("blocked", onBlocked);
      connection.off("unblocked", onUnblocked);
      onUnblocked();
    });
    channel.on("return", (message: ConsumeMessage) => {
      // The broker sends basic.return before the basic.ack of the same message.
      const id = message.properties.messageId;
      if (typeof id === "string") this.#returned.add(id);
    });
    // Errors also close the channel, which fails every publish in flight.
    channel.on("error", () => {});
  }

  /**
   * Opens a confirm channel on the connection. A publish not confirmed
   * within `confirmTimeout` ms (default 15 s) counts as not sent.
   */
  static async open(
    connection: ChannelModel,
    options: { confirmTimeout?: number } = {},
  ): Promise<Publisher> {
    return new Publisher(
      connection,
      await connection.createConfirmChannel(),
      options.confirmTimeout ?? 15_000,
    );
  }

  /** The channel, to declare topology on. */
  get channel(): ConfirmChannel {
    return this.#channel;
  }

  /**
   * Publishes one persistent message, mandatory unless it says otherwise.
   *
   * @throws {UnroutableError} when no queue took it.
   * @throws {Error} when the broker refused it or the channel closed first.
   */
  async publish(message: Outgoing): Promise<void> {
    while (this.#drained || this.#blocked) {
      await (this.#drained ?? this.#blocked?.promise);
    }
    const { exchange, routingKey, messageId } = message;
    let written = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      const waiting = {
        expires: Date.now() + this.#confirmTimeout,
        expire: () =>
          reject(
            new BrokerError(
              `Message "${messageId}" was not confirmed within ${this.#confirmTimeout} ms`,
            ),
          ),
      };
      this.#watch(waiting);
      const options = {
        persistent: true,
        mandatory: message.mandatory ?? true,
        messageId,
        contentType: message.contentType ?? "application/json",
        headers: message.headers,
      };
      const onConfirm = (error: unknown) => {
        this.#unconfirmed.delete(waiting);
        const returned = this.#returned.delete(messageId);
        if (error) {
          reject(
            new Error(
              `Message "${messageId}" was not confirmed: ${
                describeError(error)
              }`,
            ),
          );
        } else if (returned) {
          reject(
            new UnroutableError(
              `Message "${messageId}" was not routed to any queue: nothing is bound to "${
                exchange || "(default)"
              }" with "${routingKey}"`,
            ),
          );
        } else {
          resolve();
        }
      };
      try {
        written = this.#channel.publish(
          exchange,
          routingKey,
          message.body,
          options,
          onConfirm,
        );
      } catch (error) {
        // The channel closed already.
        this.#unconfirmed.delete(waiting);
        reject(error);
      }
    });
    if (!written) {
      this.#drained = new Promise<void>((resolve) => {
        const done = () => {
          this.#channel.off("drain", done);
          this.#channel.off("close", done);
          this.#drained = undefined;
          resolve();
        };
        this.#channel.on("drain", done);
        this.#channel.on("close", done);
      });
    }
    return await confirmed;
  }

  /** One timer for every publish in flight, not one each. */
  #watch(entry: { expires: number; expire(): void }): void {
    this.#unconfirmed.add(entry);
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      if (this.#unconfirmed.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
        return;
      }
      if (this.#blocked) return;
      const now = Date.now();
      for (const waiting of this.#unconfirmed) {
        if (waiting.expires > now) continue;
        this.#unconfirmed.delete(waiting);
        waiting.expire();
      }
    }, Math.min(1000, this.#confirmTimeout));
    // Nothing to wait for once the confirms are in: let the process end.
    Deno.unrefTimer(this.#sweeper);
  }

  /** Closes the channel after the confirms in flight. */
  async close(): Promise<void> {
    try {
      await this.#channel.close();
    } catch {
      // Already closed along with its connection.
    }
  }
}

/** What a consumer does with the messages it receives. */
export interface ConsumerOptions<T> {
  /** The connection to consume on. */
  connection: ChannelModel;
  /** Where failed messages go, with their reason in the headers. */
  publisher: Publisher;
  /** The queue, declared already. */
  queue: string;
  /** Unacked messages the broker may send ahead. Defaults to 200. */
  prefetch?: number;
  /**
   * Reads a body; what it throws makes the message invalid, and an invalid
   * message goes to the error queue at once.
   */
  decode(body: Uint8Array): T;
  /**
   * Commits the work for a batch of messages, all or nothing. What it
   * throws makes each message of the batch be tried alone, again with
   * backoff up to `maxAttempts` times, and then go to the error queue.
   */
  handle(values: T[]): void | Promise<void>;
  /** Tries of a message whose handling fails, before the error queue. Defaults to 5. */
  maxAttempts?: number;
  /** Told of each message sent to the error queue. */
  onFailed?(reason: string, message: ConsumeMessage): void;
}

/**
 * Consumes with manual acks and handles the deliveries at hand as one batch:
 * one commit, then one ack with `multiple`. A message is acked only after its
 * work is committed or it is confirmed on the error queue.
 */
export class Consumer<T> {
  readonly #options: ConsumerOptions<T>;
  readonly #channel: Channel;
  readonly #waiting: ConsumeMessage[] = [];
  #tag: string | undefined;
  #working: Promise<void> | undefined;
  #stopped = false;
  #finish!: (error?: Error) => void;
  /** Settles when consuming ends: resolves after {@linkcode stop}, rejects when the broker ends it. */
  readonly finished: Promise<void>;

  private constructor(channel: Channel, options: ConsumerOptions<T>) {
    this.#channel = channel;
    this.#options = options;
    this.finished = new Promise<void>((resolve, reject) => {
      this.#finish = (error) => error ? reject(error) : resolve();
    });
    channel.on("error", () => {});
    channel.on("close", () => {
      if (!this.#stopped) {
        this.#finish(new BrokerError(`Channel of "${options.queue}" closed`));
      }
    });
  }

  /** Starts consuming `options.queue`. */
  static async start<T>(options: ConsumerOptions<T>): Promise<Consumer<T>> {
    const channel = await options.connection.createChannel();
    await channel.prefetch(options.prefetch ?? 200);
    const consumer = new Consumer(channel, options);
    const { consumerTag } = await channel.consume(
      options.queue,
      (message) => consumer.#receive(message),
      { noAck: false },
    );
    consumer.#tag = consumerTag;
    return consumer;
  }

  /** Stops taking deliveries, finishes the ones at hand and closes the channel. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      if (this.#tag) await this.#channel.cancel(this.#tag);
    } catch {
      // The channel is gone; its unacked deliveries return to the queue.
    }
    while (this.#working) await this.#working;
    try {
      await this.#channel.close();
    } catch {
      // Closed already.
    }
    this.#finish();
  }

  #receive(message: ConsumeMessage | null): void {
    if (message === null) {
      this.#finish(
        new BrokerError(
          `Consumer of "${this.#options.queue}" was cancelled by the broker`,
        ),
      );
      return;
    }
    this.#waiting.push(message);
    // Deliveries that arrive together are handled together, after this tick.
    this.#working ??= this.#work();
  }

  async #work(): Promise<void> {
    try {
      await Promise.resolve();
      while (this.#waiting.length > 0) {
        const batch = this.#waiting.splice(0, this.#waiting.length);
        await this.#handleBatch(batch);
      }
    } catch (error) {
      this.#finish(
        error instanceof Error ? error : new Error(String(error)),
      );
    } finally {
      this.#working = undefined;
    }
  }

  async #handleBatch(batch: ConsumeMessage[]): Promise<void> {
    const { decode, handle } = this.#options;
    const valid: { message: ConsumeMessage; value: T }[] = [];
    const failed: {
      message: ConsumeMessage;
      reason: string;
      attempts?: number;
    }[] = [];
    for (const message of batch) {
      try {
        valid.push({ message, value: decode(message.content) });
      } catch (error) {
        failed.push({ message, reason: describeError(error) });
      }
    }
    if (valid.length > 0) {
      try {
        await handle(valid.map((entry) => entry.value));
      } catch {
        // One message may spoil the batch: find it by handling each alone.
        for (const { message, value } of valid) {
          const failure = await this.#retry(value);
          if (failure) failed.push({ message, ...failure });
        }
      }
    }
    await Promise.all(
      failed.map(({ message, reason, attempts }) =>
        this.#sendToErrorQueue(message, reason, attempts)
      ),
    );
    // Every delivery up to the last of the batch is done: one ack covers them.
    this.#channel.ack(batch[batch.length - 1], true);
  }

  /** Handles one message alone, with backoff; says why when every try failed. */
  async #retry(
    value: T,
  ): Promise<{ reason: string; attempts: number } | undefined> {
    const attempts = this.#options.maxAttempts ?? 5;
    let reason = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.#options.handle([value]);
        return undefined;
      } catch (error) {
        reason = describeError(error);
      }
      if (attempt < attempts) await sleep(backoff(attempt - 1, 100, 2000));
    }
    return { reason: `Handling failed ${attempts} times: ${reason}`, attempts };
  }

  async #sendToErrorQueue(
    message: ConsumeMessage,
    reason: string,
    attempts = 0,
  ): Promise<void> {
    const { queue, publisher, onFailed } = this.#options;
    const { properties, fields } = message;
    await publisher.publish({
      exchange: "",
      routingKey: errorQueueOf(queue),
      body: Buffer.from(message.content),
      messageId: properties.messageId ?? crypto.randomUUID(),
      contentType: properties.contentType,
      headers: {
        ...properties.headers,
        "x-error-reason": reason.slice(0, 1000),
        "x-attempts": attempts,
        "x-original-exchange": fields.exchange,
        "x-original-routing-key": fields.routingKey,
        "x-original-queue": queue,
        "x-failed-at": new Date().toISOString(),
      },
    });
    onFailed?.(reason, message);
  }
}
