/**
 * Publishing with confirms: each publish resolves only when the broker has
 * taken responsibility for the message, and a mandatory message that no
 * queue took is an error tied to that same confirm.
 *
 * @module
 */
import { writeNow } from "./coalesce_writes.ts";
import type { Buffer } from "node:buffer";
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from "amqplib";
import {
  BrokerError,
  describeError,
  replyCodeOf,
  UnpublishableError,
  UnroutableError,
} from "../core/mod.ts";

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
  /**
   * The content type.
   *
   * @default {"application/json"}
   */
  contentType?: string;
  /**
   * Whether a message no queue takes is an error (a sale), or normal (an
   * event nobody listens to yet).
   *
   * @default {true}
   */
  mandatory?: boolean;
}

/** Options of {@linkcode Publisher.open}. */
export interface PublisherOptions {
  /**
   * Milliseconds to wait for a confirm; a publish not confirmed by then
   * counts as not sent.
   *
   * @default {15000}
   */
  confirmTimeout?: number;
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
  #closed = false;
  #closedBy: Error | undefined;

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
      this.#closed = true;
      connection.off("blocked", onBlocked);
      connection.off("unblocked", onUnblocked);
      onUnblocked();
    });
    channel.on("return", (message: ConsumeMessage) => {
      // The broker sends basic.return before the basic.ack of the same message.
      const id = message.properties.messageId;
      if (typeof id === "string") this.#returned.add(id);
    });
    // Errors also close the channel, which fails every publish in flight:
    // they carry the broker's reply code, so the relay can tell why.
    channel.on("error", (error: Error) => this.#closedBy = error);
  }

  /** Opens a confirm channel on the connection. */
  static async open(
    connection: ChannelModel,
    options: PublisherOptions = {},
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
   * Writes what was just published to the socket now, rather than once
   * the rest of this turn's work is done: for a relay whose publishes
   * someone waits for.
   */
  flush(): void {
    writeNow(this.#channel);
  }

  /**
   * Publishes one persistent message, mandatory unless it says otherwise.
   *
   * @throws {UnroutableError} when no queue took it.
   * @throws {UnpublishableError} when AMQP cannot carry it as it is.
   * @throws {Error} when the broker refused it or the channel closed first.
   */
  async publish(message: Outgoing): Promise<void> {
    while (this.#drained || this.#blocked) {
      await (this.#drained ?? this.#blocked?.promise);
    }
    const { exchange, routingKey, messageId } = message;
    checkShortStrings(message);
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
          const cause = this.#closedBy ?? error;
          reject(
            new BrokerError(
              `Message "${messageId}" was not confirmed: ${
                describeError(cause)
              }`,
              // The message was refused, not the service's settings.
              { cause, replyCode: replyCodeOf(cause), permanent: false },
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
        this.#unconfirmed.delete(waiting);
        // A closed channel throws; so does a message AMQP cannot encode.
        reject(
          this.#closed ? error : new UnpublishableError(
            `Message "${messageId}" cannot be published: ${
              describeError(error)
            }`,
            { cause: error },
          ),
        );
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

/** AMQP's short strings: at most 255 bytes of UTF-8. */
const MAX_SHORT_STRING_BYTES = 255;

const encoder = new TextEncoder();

/**
 * The message id, exchange and routing key travel as AMQP short strings:
 * one that does not fit can never be published.
 *
 * @throws {UnpublishableError} naming the field and its size.
 */
function checkShortStrings(message: Outgoing): void {
  // Named one by one: an object of them for each message was garbage.
  checkShortString(message, "message id", message.messageId);
  checkShortString(message, "exchange", message.exchange);
  checkShortString(message, "routing key", message.routingKey);
}

function checkShortString(
  message: Outgoing,
  name: string,
  value: string,
): void {
  // A UTF-16 unit is at most 3 bytes of UTF-8: most ids need no count.
  if (value.length * 3 <= MAX_SHORT_STRING_BYTES) return;
  const bytes = encoder.encode(value).byteLength;
  if (bytes > MAX_SHORT_STRING_BYTES) {
    const id = message.messageId.length > 64
      ? `${message.messageId.slice(0, 64)}…`
      : message.messageId;
    throw new UnpublishableError(
      `Message "${id}" cannot be published: its ${name} is ${bytes} bytes, more than AMQP's ${MAX_SHORT_STRING_BYTES}`,
    );
  }
}
