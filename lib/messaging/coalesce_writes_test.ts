import assert from "node:assert/strict";
import type { Channel, ChannelModel } from "amqplib";
import { coalesceWrites, writeNow } from "./coalesce_writes.ts";

Deno.test("coalesceWrites: each round of the multiplexer writes while corked", () => {
  const calls: string[] = [];
  const stream = {
    cork: () => calls.push("cork"),
    uncork: () => calls.push("uncork"),
    write: (chunk: string) => calls.push(`write ${chunk}`),
  };
  const muxer = {
    _readIncoming() {
      for (const chunk of ["a", "b", "c"]) stream.write(chunk);
    },
  };
  const model = { connection: { stream, muxer } } as unknown as ChannelModel;
  assert.equal(coalesceWrites(model), true);
  muxer._readIncoming();
  assert.deepEqual(calls, ["cork", "write a", "write b", "write c", "uncork"]);
});

Deno.test("coalesceWrites: a round that throws still uncorks", () => {
  let corked = 0;
  const stream = { cork: () => corked++, uncork: () => corked-- };
  const muxer = {
    _readIncoming() {
      throw new Error("broken");
    },
  };
  const model = { connection: { stream, muxer } } as unknown as ChannelModel;
  coalesceWrites(model);
  assert.throws(() => muxer._readIncoming(), /broken/);
  assert.equal(corked, 0);
});

Deno.test("coalesceWrites: leaves a connection it does not recognise as it is", () => {
  assert.equal(coalesceWrites({} as unknown as ChannelModel), false);
  assert.equal(
    coalesceWrites({ connection: { stream: {} } } as unknown as ChannelModel),
    false,
  );
});

/** A channel's frames, read one at a time, as amqplib's queue gives them. */
function frames(...chunks: string[]) {
  return {
    get readableLength() {
      return chunks.length;
    },
    read: () => chunks.shift() ?? null,
  };
}

Deno.test("writeNow: a channel's frames go out at once, in one round", () => {
  const written: string[] = [];
  const buffer = frames("publish 1", "publish 2");
  const muxer = {
    newStreams: [] as ReturnType<typeof frames>[],
    blocked: false,
    _readIncoming() {
      for (const stream of this.newStreams.splice(0)) {
        for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) {
          written.push(chunk);
        }
      }
    },
  };
  const channel = {
    ch: 1,
    connection: { muxer, channels: [undefined, { buffer }] },
  } as unknown as Channel;
  assert.equal(writeNow(channel), true);
  assert.deepEqual(written, ["publish 1", "publish 2"]);
  // Nothing queued, or the socket full: the multiplexer's round will do.
  assert.equal(writeNow(channel), true);
  buffer.read = () => "late";
  muxer.blocked = true;
  Object.defineProperty(buffer, "readableLength", { value: 1 });
  assert.equal(writeNow(channel), true);
  assert.deepEqual(written, ["publish 1", "publish 2"]);
});

Deno.test("writeNow: leaves a channel it does not recognise as it is", () => {
  assert.equal(writeNow({} as unknown as Channel), false);
  assert.equal(
    writeNow({ ch: 2, connection: { muxer: {} } } as unknown as Channel),
    false,
  );
});
