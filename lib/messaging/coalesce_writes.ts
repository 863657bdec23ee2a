/**
 * One socket write for the frames of one turn: amqplib's multiplexer writes
 * each frame to the socket on its own, a syscall per message for the
 * publisher and a TCP segment each for the broker to read. Corked for the
 * length of one of its rounds, they go out together as one `writev`.
 *
 * @module
 */
import type { Channel, ChannelModel } from "amqplib";

/** The connection underneath, as amqplib 2.x makes it (pinned in deno.json). */
interface Connection {
  stream?: { cork?(): void; uncork?(): void };
  muxer?: {
    _readIncoming?(): void;
    newStreams?: unknown[];
    blocked?: boolean;
  };
  /** Each channel's queue of frames, by channel number. */
  channels?: ({ buffer?: { readableLength?: number } } | undefined)[];
}

/** What this module reaches inside amqplib. */
interface Internals {
  connection?: Connection;
  /** A channel's number. */
  ch?: number;
}

/**
 * Makes the frames each round of the connection's multiplexer writes go
 * out in one write. Leaves the connection as it is when amqplib is not as
 * it expects.
 *
 * @returns whether the writes are coalesced.
 */
export function coalesceWrites(model: ChannelModel): boolean {
  const { stream, muxer } = (model as unknown as Internals).connection ?? {};
  const readIncoming = muxer?._readIncoming;
  if (!stream?.cork || !stream.uncork || !muxer || !readIncoming) return false;
  muxer._readIncoming = function (this: unknown) {
    stream.cork!();
    try {
      readIncoming.call(this);
    } finally {
      stream.uncork!();
    }
  };
  return true;
}

/**
 * Writes the frames a channel has queued now, not at the multiplexer's next
 * round: amqplib hears of them a tick later and writes them at a
 * `setImmediate`, after everything else the turn does. A POS that rang up
 * the next sales in the same turn held each publish back by their commits
 * (0.8 ms at the median at 1,000 sales/s, 2.8 at p99). The multiplexer's
 * own round does the writing, with its fairness and backpressure.
 *
 * @returns whether the channel is one it knows how to reach into.
 */
export function writeNow(channel: Channel): boolean {
  const { connection, ch } = channel as unknown as Internals;
  const muxer = connection?.muxer;
  const buffer = ch === undefined
    ? undefined
    : connection?.channels?.[ch]?.buffer;
  if (!muxer?._readIncoming || !muxer.newStreams || !buffer) return false;
  if (muxer.blocked || !buffer.readableLength) return true;
  // Listed twice, when its own turn comes: a stream that reads empty is
  // dropped from the round.
  muxer.newStreams.push(buffer);
  muxer._readIncoming();
  return true;
}
