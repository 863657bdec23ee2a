/**
 * What an operator does with an error queue: count it, read what failed and
 * why, put messages back on their original route (the queue they failed
 * in), or drop them. A message leaves an error queue only after the broker
 * confirmed its replay; what is not replayed or dropped goes back untouched.
 * `deno task errors` and the back office's page both work through here.
 *
 * @module
 */
import type { ChannelModel, GetMessage } from "amqplib";
import { ERROR_HEADERS } from "./failure_policy.ts";
import type { Publisher } from "./publisher.ts";

/** A message set aside, as an operator reads it. */
export interface ErroredMessage {
  /** Its message id, or `(no id)`. */
  MessageId: string;
  /** When it was set aside. */
  FailedAt: string;
  /** `exchange/routing key` it first came by. */
  Route: string;
  /** How often it was tried. */
  Attempts: number;
  /** Why it was set aside. */
  Reason: string;
  /** Its headers, as text. */
  Headers: Record<string, string>;
  /** Its body's first 4 KiB, as UTF-8. */
  Body: string;
  /** Its body's size. */
  Bytes: number;
}

/** A header of `message` as text; empty when absent. */
function header(message: GetMessage, name: string): string {
  const value = message.properties.headers?.[name];
  return value === undefined ? "" : String(value);
}

/** `message` as an operator reads it. */
export function readErrored(message: GetMessage): ErroredMessage {
  return {
    MessageId: message.properties.messageId ?? "(no id)",
    FailedAt: header(message, "x-failed-at"),
    Route: `${header(message, "x-original-exchange")}/${
      header(message, "x-original-routing-key")
    }`,
    Attempts: Number(header(message, "x-attempts") || "0"),
    Reason: header(message, "x-error-reason"),
    Headers: Object.fromEntries(
      Object.entries(message.properties.headers ?? {}).map((
        [name, value],
      ) => [name, String(value)]),
    ),
    Body: message.content.subarray(0, 4096).toString("utf8"),
    Bytes: message.content.byteLength,
  };
}

/** An error queue and how many messages it holds; `Messages` is absent when it is not there. */
export interface ErrorQueueCount {
  Queue: string;
  Messages?: number;
}

/** How many messages each of `queues` holds. */
export async function countErrorQueues(
  connection: ChannelModel,
  queues: readonly string[],
): Promise<ErrorQueueCount[]> {
  const counts: ErrorQueueCount[] = [];
  for (const queue of queues) {
    // A passive declare of a missing queue closes its channel: one each.
    const channel = await connection.createChannel();
    channel.on("error", () => {});
    try {
      const { messageCount } = await channel.checkQueue(queue);
      counts.push({ Queue: queue, Messages: messageCount });
      await channel.close();
    } catch {
      counts.push({ Queue: queue });
    }
  }
  return counts;
}

/** What to do with each message taken from an error queue. */
export type ErrorQueueAction = "list" | "replay" | "purge";

/** Options of {@linkcode walkErrorQueue}. */
export interface WalkOptions {
  /** The error queue. */
  queue: string;
  /** Keep (list), replay or drop each message taken. */
  action: ErrorQueueAction;
  /** The publisher a replay goes through, with confirms. */
  publisher: Publisher;
  /** Only the message with this message id. */
  id?: string;
  /**
   * At most this many messages.
   *
   * @default {Infinity}
   */
  limit?: number;
  /** Told of each message taken, before it is replayed or dropped. */
  onMessage?(message: GetMessage): void;
}

/**
 * Takes the messages of an error queue one by one, unacked, and lists,
 * replays or drops each: memory stays flat however many there are. It
 * walks only what the queue held when it started, so each message is
 * taken once. What is only listed, or not taken, goes back to the queue.
 *
 * @returns how many messages were taken.
 * @throws {Error} when the queue is not there (the broker's 404).
 */
export async function walkErrorQueue(
  connection: ChannelModel,
  options: WalkOptions,
): Promise<number> {
  const { queue, action, publisher, id, limit = Infinity } = options;
  const channel = await connection.createChannel();
  channel.on("error", () => {});
  let taken = 0;
  try {
    // Only what is there now: a replayed message that fails again comes
    // back behind them, and is not taken a second time.
    const { messageCount } = await channel.checkQueue(queue);
    for (let seen = 0; seen < messageCount && taken < limit; seen++) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      if (id !== undefined && message.properties.messageId !== id) continue;
      taken++;
      options.onMessage?.(message);
      if (action === "replay") {
        await replay(publisher, message);
        // Confirmed on its route: only now does it leave the error queue.
        channel.ack(message);
      } else if (action === "purge") {
        channel.ack(message);
      }
    }
    channel.nackAll(true);
  } finally {
    await channel.close().catch(() => {});
  }
  return taken;
}

/**
 * Publishes `message` back where it failed, without the headers that said
 * why, and waits for the broker's confirm.
 */
async function replay(
  publisher: Publisher,
  message: GetMessage,
): Promise<void> {
  const headers = { ...message.properties.headers };
  for (const name of ERROR_HEADERS) delete headers[name];
  headers["x-replayed-at"] = new Date().toISOString();
  // Straight back to the queue it failed in, when known: the other
  // consumers of its exchange handled it already.
  // A quorum queue dead-letters past its delivery limit: x-first-death-queue.
  const queue = header(message, "x-original-queue") ||
    header(message, "x-first-death-queue");
  await publisher.publish({
    exchange: queue ? "" : header(message, "x-original-exchange"),
    routingKey: queue || header(message, "x-original-routing-key"),
    body: message.content,
    messageId: message.properties.messageId ?? crypto.randomUUID(),
    contentType: message.properties.contentType,
    headers,
  });
}
