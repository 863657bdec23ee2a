import assert from "node:assert/strict";
import type { ChannelModel } from "amqplib";
import { coalesceWrites } from "./coalesce_writes.ts";

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
