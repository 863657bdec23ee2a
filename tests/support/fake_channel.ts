/**
 * In-process stand-ins for amqplib's connection and channels, for the unit
 * tests beside the modules: they record what is published and acked, and
 * let a test play the broker (confirm, nack, return, block, deliver).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type { ChannelModel, ConsumeMessage } from "amqplib";

/** A publish the fake channel took, awaiting the test's word. */
export interface Published {
  exchange: string;
  routingKey: string;
  body: Buffer;
  options: Record<string, unknown>;
  /** Plays the broker's basic.ack. */
  confirm(): void;
  /** Plays the broker's basic.nack. */
  nack(): void;
  /** Plays basic.return followed by basic.ack, as the broker sends them. */
  returnThenConfirm(): void;
}

/** A confirm channel and a consuming channel in one. */
export class FakeChannel extends EventEmitter {
  readonly published: Published[] = [];
  readonly acks: { deliveryTag: number; multiple: boolean }[] = [];
  prefetchCount = 0;
  requeues = 0;
  consumes = 0;
  closed = false;
  /** What `publish` returns: false plays a full socket buffer. */
  writable = true;
  #onMessage: ((message: ConsumeMessage | null) => void) | undefined;
  #deliveryTag = 0;

  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Record<string, unknown>,
    callback: (error: unknown) => void,
  ): boolean {
    if (this.closed) throw new Error("Channel closed");
    const entry: Published = {
      exchange,
      routingKey,
      body,
      options,
      confirm: () => callback(null),
      nack: () => callback(new Error("message nacked")),
      returnThenConfirm: () => {
        this.emit("return", this.message(body, options));
        callback(null);
      },
    };
    this.published.push(entry);
    return this.writable;
  }

  prefetch(count: number): Promise<void> {
    this.prefetchCount = count;
    return Promise.resolve();
  }

  consume(
    _queue: string,
    onMessage: (message: ConsumeMessage | null) => void,
  ): Promise<{ consumerTag: string }> {
    this.#onMessage = onMessage;
    this.consumes++;
    return Promise.resolve({ consumerTag: "fake-consumer" });
  }

  cancel(): Promise<void> {
    this.#onMessage = undefined;
    return Promise.resolve();
  }

  ack(message: ConsumeMessage, multiple = false): void {
    this.acks.push({ deliveryTag: message.fields.deliveryTag, multiple });
  }

  /** Requeues everything unacked, as basic.nack multiple with tag 0. */
  nackAll(requeue = true): void {
    this.requeues += requeue ? 1 : 0;
  }

  close(): Promise<void> {
    this.closed = true;
    this.emit("close");
    return Promise.resolve();
  }

  /** Delivers bodies in one go, as the broker does with prefetch. */
  deliver(...bodies: string[]): void {
    for (const body of bodies) {
      this.#onMessage?.(this.message(Buffer.from(body), {}));
    }
  }

  /** Delivers one message with the routing key and properties given. */
  send(
    body: string | Uint8Array,
    options: { routingKey?: string; messageId?: string } = {},
  ): void {
    const message = this.message(Buffer.from(body), options);
    if (options.routingKey) message.fields.routingKey = options.routingKey;
    this.#onMessage?.(message);
  }

  /** Delivery tags given so far. */
  get delivered(): number {
    return this.#deliveryTag;
  }

  /** Delivers a body again, flagged as the broker flags a redelivery. */
  redeliver(body: string, messageId: string): void {
    const message = this.message(Buffer.from(body), { messageId });
    message.fields.redelivered = true;
    this.#onMessage?.(message);
  }

  /** A message as amqplib hands it over. */
  message(body: Buffer, options: Record<string, unknown>): ConsumeMessage {
    return {
      content: body,
      fields: {
        deliveryTag: ++this.#deliveryTag,
        redelivered: false,
        exchange: "sales_exchange",
        routingKey: "sale.created",
        consumerTag: "fake-consumer",
      },
      properties: {
        messageId: options.messageId,
        headers: options.headers ?? {},
        contentType: options.contentType,
      },
    } as unknown as ConsumeMessage;
  }
}

/** A connection whose channels are one {@linkcode FakeChannel}. */
export function fakeConnection(channel = new FakeChannel()): {
  connection: ChannelModel;
  channel: FakeChannel;
  events: EventEmitter;
} {
  const events = new EventEmitter();
  const connection = Object.assign(events, {
    createConfirmChannel: () => Promise.resolve(channel),
    createChannel: () => Promise.resolve(channel),
  }) as unknown as ChannelModel;
  return { connection, channel, events };
}
