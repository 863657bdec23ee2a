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
  /** Creates the error; `message` is one line naming the URL without its password. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokerError";
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
        throw new BrokerError(`Invalid AMQP URL "${redactUrl(entry)}"`);
      }
      if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
        throw new BrokerError(
          `Invalid AMQP URL "${redactUrl(entry)}": use amqp:// or amqps://`,
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
  if (urls.length === 0) throw new BrokerError("AMQP_URL is empty");
  const failures: string[] = [];
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
      failures.push(
        `Cannot connect to "${redactUrl(url.href)}": ${describeError(error)}`,
      );
    }
  }
  throw new BrokerError(failures.join("; "));
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
  #drained: Promise<void> | undefined;

  private constructor(channel: ConfirmChannel) {
    this.#channel = channel;
    channel.on("return", (message: ConsumeMessage) => {
      // The broker sends basic.return before the basic.ack of the same message.
      const id = message.properties.messageId;
      if (typeof id === "string") this.#returned.add(id);
    });
    // Errors also close the channel, which fails every publish in flight.
    channel.on("error", () => {});
  }

  /** Opens a confirm channel on the connection. */
  static async open(connection: ChannelModel): Promise<Publisher> {
    return new Publisher(await connection.createConfirmChannel());
  }

  /** The channel, to declare topology on. */
  get channel(): ConfirmChannel {
    return this.#channel;
  }

  /**
   * Publishes one persistent, mandatory message.
   *
   * @throws {UnroutableError} when no queue took it.
   * @throws {Error} when the broker refused it or the channel closed first.
   */
  async publish(message: Outgoing): Promise<void> {
    while (this.#drained) await this.#drained;
    const { exchange, routingKey, messageId } = message;
    let written = true;
    const confirmed = new Promise<void>((resolve, reject) => {
      written = this.#channel.publish(exchange, routingKey, message.body, {
        persistent: true,
        mandatory: true,
        messageId,
        contentType: message.contentType ?? "application/json",
        headers: message.headers,
      }, (error: unknown) => {
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
      });
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
   * throws makes each message of the batch be tried alone, and one that
   * fails alone goes to the error queue.
   */
  handle(values: T[]): void | Promise<void>;
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
    const failed: { message: ConsumeMessage; reason: string }[] = [];
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
        for (const entry of valid) {
          try {
            await handle([entry.value]);
          } catch (error) {
            failed.push({
              message: entry.message,
              reason: `Handling failed: ${describeError(error)}`,
            });
          }
        }
      }
    }
    await Promise.all(
      failed.map(({ message, reason }) =>
        this.#sendToErrorQueue(message, reason)
      ),
    );
    // Every delivery up to the last of the batch is done: one ack covers them.
    this.#channel.ack(batch[batch.length - 1], true);
  }

  async #sendToErrorQueue(
    message: ConsumeMessage,
    reason: string,
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
        "x-original-exchange": fields.exchange,
        "x-original-routing-key": fields.routingKey,
        "x-original-queue": queue,
        "x-failed-at": new Date().toISOString(),
      },
    });
    onFailed?.(reason, message);
  }
}
