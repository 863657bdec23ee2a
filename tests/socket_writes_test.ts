import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { connect } from "amqplib";
import { coalesceWrites } from "../lib/messaging/mod.ts";
import { withSandbox } from "./support/sandbox.ts";

/** Counts the socket writes of a connection's publishes. */
async function socketWrites(url: string, coalesced: boolean): Promise<number> {
  const model = await connect(url, { noDelay: true });
  try {
    assert.equal(coalesced ? coalesceWrites(model) : false, coalesced);
    // deno-lint-ignore no-explicit-any
    const stream = (model as any).connection.stream;
    let writes = 0;
    for (const name of ["_write", "_writev"]) {
      const original = stream[name];
      stream[name] = function (...args: unknown[]) {
        writes++;
        return original.apply(this, args);
      };
    }
    const channel = await model.createConfirmChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    writes = 0;
    for (let i = 0; i < 200; i++) {
      channel.sendToQueue(queue, Buffer.from(`{"n":${i}}`), {
        persistent: true,
      });
    }
    await channel.waitForConfirms();
    const { messageCount } = await channel.checkQueue(queue);
    assert.equal(messageCount, 200);
    return writes;
  } finally {
    await model.close();
  }
}

Deno.test("socket writes: the frames of one turn leave in a few writes, all delivered", async () => {
  await withSandbox(async ({ url }) => {
    const plain = await socketWrites(url, false);
    const coalesced = await socketWrites(url, true);
    // Each publish is a write of its own otherwise.
    assert.ok(plain >= 200, `${plain} writes without coalescing`);
    // The socket's high-water mark (16 KiB) ends a corked round early.
    assert.ok(coalesced <= 20, `${coalesced} writes coalesced`);
  });
});
