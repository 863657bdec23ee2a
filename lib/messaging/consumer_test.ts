import assert from "node:assert/strict";
import type { ConsumeMessage } from "amqplib";
import { fakeConnection } from "../../tests/support/fake_channel.ts";
import { Consumer } from "./consumer.ts";
import { BatchFailed, type FailurePolicy } from "./failure_policy.ts";

/** A policy that keeps what it sets aside. */
function keepingPolicy() {
  const setAside: { body: string; reason: string; attempts: number }[] = [];
  const policy: FailurePolicy = {
    maxDeliveries: 3,
    setAside(message: ConsumeMessage, reason: string, attempts: number) {
      setAside.push({ body: message.content.toString(), reason, attempts });
      return Promise.resolve();
    },
  };
  return { policy, setAside };
}

function decode(body: Uint8Array): number {
  const value = JSON.parse(new TextDecoder().decode(body));
  if (typeof value !== "number") throw new Error("not a number");
  return value;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

Deno.test("consumer: deliveries at hand are one batch, acked once with multiple", async () => {
  const { connection, channel } = fakeConnection();
  const batches: number[][] = [];
  const { policy } = keepingPolicy();
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    prefetch: 50,
    decode,
    handle: (values) => {
      batches.push(values);
    },
    failure: policy,
  });
  assert.equal(channel.prefetchCount, 50);
  channel.deliver("1", "2", "3");
  await settle();
  assert.deepEqual(batches, [[1, 2, 3]]);
  assert.deepEqual(channel.acks, [{ deliveryTag: 3, multiple: true }]);
  await consumer.stop();
  await consumer.finished;
});

Deno.test("consumer: an invalid message is set aside at once, the rest committed", async () => {
  const { connection, channel } = fakeConnection();
  const handled: number[] = [];
  const { policy, setAside } = keepingPolicy();
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: (values) => {
      handled.push(...values);
    },
    failure: policy,
  });
  channel.deliver("1", "not json", "3");
  await settle();
  assert.deepEqual(handled, [1, 3]);
  assert.equal(setAside.length, 1);
  assert.equal(setAside[0].body, "not json");
  assert.equal(setAside[0].attempts, 0);
  assert.deepEqual(channel.acks, [{ deliveryTag: 3, multiple: true }]);
  await consumer.stop();
});

/** A consumer of numbers handled by `handle`, keeping what it sets aside. */
async function consuming(handle: (values: number[]) => void) {
  const { connection, channel } = fakeConnection();
  const { policy, setAside } = keepingPolicy();
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle,
    failure: policy,
  });
  return { channel, setAside, consumer };
}

Deno.test("consumer: the messages a BatchFailed names are set aside, the batch acked", async () => {
  const { channel, setAside, consumer } = await consuming((values) => {
    throw new BatchFailed(
      values.filter((value) => value === 13).map((value) => ({
        value,
        kind: "failed" as const,
        reason: "Handling failed 3 times: unlucky",
        attempts: 3,
      })),
    );
  });
  channel.deliver("12", "13", "14");
  await settle();
  assert.deepEqual(setAside, [{
    body: "13",
    reason: "Handling failed 3 times: unlucky",
    attempts: 3,
  }]);
  assert.deepEqual(channel.acks, [{ deliveryTag: 3, multiple: true }]);
  await consumer.stop();
});

Deno.test("consumer: a handler that throws without naming its messages sets the batch aside", async () => {
  const { channel, setAside, consumer } = await consuming(() => {
    throw new Error("no retry here");
  });
  channel.deliver("1", "2");
  await settle();
  assert.deepEqual(setAside.map((entry) => entry.body), ["1", "2"]);
  assert.deepEqual(channel.acks, [{ deliveryTag: 2, multiple: true }]);
  await consumer.stop();
});

Deno.test("consumer: a cancel by the broker ends it with an error", async () => {
  const { connection } = fakeConnection();
  const { policy } = keepingPolicy();
  let deliver: ((message: ConsumeMessage | null) => void) | undefined;
  const channel = await connection.createChannel();
  (channel as unknown as { consume: unknown }).consume = (
    _queue: string,
    onMessage: (message: ConsumeMessage | null) => void,
  ) => {
    deliver = onMessage;
    return Promise.resolve({ consumerTag: "t" });
  };
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: () => {},
    failure: policy,
  });
  deliver?.(null);
  await assert.rejects(consumer.finished, /was cancelled by the broker/);
});

Deno.test("consumer: a failing store requeues the batch, pauses, and resumes", async () => {
  const { connection, channel } = fakeConnection();
  const { policy, setAside } = keepingPolicy();
  const states: string[] = [];
  let full = true;
  const committed: number[] = [];
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: (values) => {
      if (full) {
        throw Object.assign(new Error("database or disk is full"), {
          code: "ERR_SQLITE_ERROR",
        });
      }
      committed.push(...values);
    },
    failure: policy,
    storeFailing: (error) => /disk is full/.test(String(error)),
    onStore: (state) => states.push(state),
  });
  channel.deliver("1", "2");
  await settle();
  assert.equal(channel.requeues, 1, "what was held went back");
  assert.deepEqual(channel.acks, [], "nothing acked");
  assert.deepEqual(setAside, [], "nothing set aside: no message is at fault");
  assert.deepEqual(states, ["failing"]);
  // Consuming again after the backoff; the store works by then.
  full = false;
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(channel.consumes, 2);
  channel.deliver("1", "2");
  await settle();
  assert.deepEqual(committed, [1, 2]);
  assert.deepEqual(states, ["failing", "working"]);
  await consumer.stop();
});

Deno.test("consumer: a message delivered too often is set aside unhandled", async () => {
  const { connection, channel } = fakeConnection();
  const { policy, setAside } = keepingPolicy();
  const counts = new Map<string, number>();
  const handled: number[] = [];
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: (values) => {
      handled.push(...values);
    },
    failure: policy,
    deliveries: (message) => {
      const id = String(message.properties.messageId);
      counts.set(id, (counts.get(id) ?? 1) + 1);
      return counts.get(id)!;
    },
  });
  for (let i = 0; i < 3; i++) {
    channel.redeliver("7", "killer");
    await settle();
  }
  assert.deepEqual(handled, [7, 7], "delivered 2 and 3 times: handled");
  assert.equal(setAside.length, 1);
  assert.match(setAside[0].reason, /^Delivered 4 times without being handled/);
  await consumer.stop();
});

Deno.test("consumer: a body above the limit is set aside unread", async () => {
  const { connection, channel } = fakeConnection();
  const { policy, setAside } = keepingPolicy();
  let decoded = 0;
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    maxMessageBytes: 1024,
    decode: (body) => {
      decoded++;
      return decode(body);
    },
    handle: () => {},
    failure: policy,
  });
  channel.deliver("1".repeat(1025), "2");
  await settle();
  assert.equal(decoded, 1);
  assert.match(
    setAside[0].reason,
    /^Message body is 1025 bytes, more than the 1024 allowed \(MAX_MESSAGE_BYTES\)$/,
  );
  await consumer.stop();
});

Deno.test("consumer: the next batch is handled while one's commit syncs; each is acked once on disk, in order", async () => {
  const { connection, channel } = fakeConnection();
  const batches: number[][] = [];
  const syncs: PromiseWithResolvers<void>[] = [];
  const { policy } = keepingPolicy();
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: (values) => {
      batches.push(values);
    },
    synced: () => {
      const sync = Promise.withResolvers<void>();
      syncs.push(sync);
      return sync.promise;
    },
    failure: policy,
  });
  channel.deliver("1", "2");
  await settle();
  channel.deliver("3");
  await settle();
  assert.deepEqual(batches, [[1, 2], [3]], "not held by the first sync");
  assert.deepEqual(channel.acks, [], "nothing acked before it is on disk");
  syncs[1].resolve();
  await settle();
  assert.deepEqual(channel.acks, [], "the later batch waits for the earlier");
  syncs[0].resolve();
  await settle();
  assert.deepEqual(channel.acks, [
    { deliveryTag: 2, multiple: true },
    { deliveryTag: 3, multiple: true },
  ]);
  await consumer.stop();
  await consumer.finished;
});

Deno.test("consumer: a commit that cannot be synced is not acked; its deliveries go back", async () => {
  const { connection, channel } = fakeConnection();
  const { policy, setAside } = keepingPolicy();
  const states: string[] = [];
  let fail = true;
  const consumer = await Consumer.start({
    connection,
    queue: "billing_queue",
    decode,
    handle: () => {},
    synced: () =>
      fail ? Promise.reject(new Error("disk I/O error")) : Promise.resolve(),
    storeFailing: () => true,
    onStore: (state) => states.push(state),
    failure: policy,
  });
  channel.deliver("1", "2");
  await settle();
  assert.deepEqual(channel.acks, []);
  assert.deepEqual(states, ["failing"]);
  assert.equal(channel.requeues, 1, "both back in the queue");
  assert.deepEqual(setAside, [], "the store's failure, not the messages'");
  fail = false;
  await consumer.stop();
  await consumer.finished;
});
