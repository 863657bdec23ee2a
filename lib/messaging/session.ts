/**
 * What every service does on each new connection: open a publisher, declare
 * its topology, relay its outbox in the background, and do its own work
 * (consume) until the connection is lost or the service stops.
 *
 * @module
 */
import type { Channel, ChannelModel } from "amqplib";
import { Publisher } from "./publisher.ts";
import type { Relay } from "../store/mod.ts";

/** Options of {@linkcode runSession}. */
export interface SessionOptions {
  /**
   * Ends a session without work: the relay stops after the publishes under
   * way. The work watches it itself.
   */
  signal: AbortSignal;
  /** Declares the exchanges and queues the session uses. */
  declare(channel: Channel): Promise<void>;
  /** The outbox's relay, run for as long as the session lasts. */
  relay?: Relay;
  /**
   * The session's own work, given its publisher; the session ends when it
   * returns. Without it, the session relays until `signal` aborts.
   */
  work?(publisher: Publisher): Promise<void>;
  /**
   * Told once the session works: after its declarations, and after the
   * work has started when it says so by calling `ready` itself.
   */
  ready?(): void;
}

/**
 * Runs one session on `connection`. A relay that fails has lost the
 * connection, and so has the work: the failure ends the session.
 *
 * @throws {Error} what the relay or the work failed with.
 */
export async function runSession(
  connection: ChannelModel,
  options: SessionOptions,
): Promise<void> {
  const { relay, work } = options;
  const publisher = await Publisher.open(connection);
  const session = new AbortController();
  // With work to do, the relay outlives the stop signal until the work is
  // done: events the last deliveries made are still sent.
  const signal = work
    ? session.signal
    : AbortSignal.any([session.signal, options.signal]);
  let relaying: Promise<void> | undefined;
  try {
    await options.declare(publisher.channel);
    relaying = relay?.run({ publisher, signal });
    if (!work) options.ready?.();
    const working = work?.(publisher);
    const running = [working, relaying].filter((promise) => promise);
    // The first to end ends the session; what the other ends with later
    // is not news.
    for (const promise of running) promise?.catch(() => {});
    await Promise.race(running);
  } finally {
    session.abort();
    await relaying?.catch(() => {});
    await publisher.close();
  }
}
