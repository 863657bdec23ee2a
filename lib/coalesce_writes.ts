/**
 * One socket write for the frames of one turn: amqplib's multiplexer writes
 * each frame to the socket on its own, a syscall per message for the
 * publisher and a TCP segment each for the broker to read. Corked for the
 * length of one of its rounds, they go out together as one `writev`.
 *
 * @module
 */
import type { ChannelModel } from "amqplib";

/** What this module reaches inside amqplib (pinned in deno.json). */
interface Internals {
  connection?: {
    stream?: { cork?(): void; uncork?(): void };
    muxer?: { _readIncoming?(): void };
  };
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
