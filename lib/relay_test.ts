import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import { UnroutableError } from "./errors.ts";
import { Outbox } from "./outbox.ts";
import type { Outgoing, Publisher } from "./publisher.ts";
import { Relay } from "./relay.ts";

/** A publisher that confirms on the test's word, counting what is in flight. */
class FakePublisher {
  readonly order: string[] = [];
  readonly waiting: {
    id: string;
    resolve(): void;
    reject(error: Error): void;
  }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  publish(message: Outgoing): Promise<void> {
    this.order.push(message.messageId);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.waiting.push({ id: message.messageId, resolve, reject });
    return promise.finally(() => this.inFlight--);
  }

  /** Confirms every publish waiting now, oldest first. */
  confirmAll(): void {
    for (const entry of this.waiting.splice(0)) entry.resolve();
  }
}

function outboxWith(count: number): Outbox {
  const outbox = new Outbox(new DatabaseSync(":memory:"));
  for (let i = 0; i < count; i++) {
    outbox.add({
      exchange: "sales_exchange",
      routingKey: "sale.created",
      messageId: `m${i}`,
      body: Buffer.from(`{"n":${i}}`),
    });
  }
  return outbox;
}

/** Lets the relay's promises run until `done` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.ok(done(), "timed out");
}

Deno.test("relay: a sliding window, in order, marked sent only when confirmed", async () => {
  const outbox = outboxWith(100);
  const publisher = new FakePublisher();
  const sent: string[] = [];
  const relay = new Relay(outbox, {
    window: 16,
    onSent: (entries) => sent.push(...entries.map((entry) => entry.messageId)),
  });
  const stop = new AbortController();
  const running = relay.run({
    publisher: publisher as unknown as Publisher,
    signal: stop.signal,
  });
  await until(() => publisher.waiting.length === 16);
  assert.equal(outbox.countPending(), 100, "nothing is sent unconfirmed");
  const drained = relay.drained();
  while (outbox.countPending() > 0) {
    publisher.confirmAll();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await drained;
  assert.ok(publisher.maxInFlight <= 16, `${publisher.maxInFlight} in flight`);
  assert.deepEqual(
    publisher.order,
    Array.from({ length: 100 }, (_, i) => `m${i}`),
  );
  assert.deepEqual(sent, publisher.order);
  stop.abort();
  await running;
});

Deno.test("relay: waiters hear of a confirm and of an unroutable message", async () => {
  const outbox = outboxWith(2);
  const publisher = new FakePublisher();
  const unroutable: string[] = [];
  const relay = new Relay(outbox, {
    onUnroutable: (error) => unroutable.push(error.message),
  });
  const first = relay.sent("m0");
  const second = relay.sent("m1");
  const drained = relay.drained();
  const stop = new AbortController();
  const running = relay.run({
    publisher: publisher as unknown as Publisher,
    signal: stop.signal,
    unroutableMs: 10,
  });
  await until(() => publisher.waiting.length === 2);
  publisher.waiting[0].resolve();
  publisher.waiting[1].reject(new UnroutableError("m1 went nowhere"));
  await first;
  await assert.rejects(second, UnroutableError);
  await assert.rejects(drained, UnroutableError);
  await until(() => unroutable.length === 1);
  assert.equal(outbox.countPending(), 1, "the unroutable one stays pending");
  stop.abort();
  await running;
});

Deno.test("relay: pendingAtMost resolves as confirms come in", async () => {
  const outbox = outboxWith(10);
  const publisher = new FakePublisher();
  const relay = new Relay(outbox, { window: 4 });
  let below = false;
  relay.pendingAtMost(5).then(() => below = true);
  const stop = new AbortController();
  const running = relay.run({
    publisher: publisher as unknown as Publisher,
    signal: stop.signal,
  });
  while (outbox.countPending() > 5) {
    assert.equal(below, false);
    await until(() => publisher.waiting.length > 0);
    publisher.confirmAll();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await until(() => below);
  stop.abort();
  publisher.confirmAll();
  await running;
});

Deno.test("relay: a failed publish ends the run and leaves the message pending", async () => {
  const outbox = outboxWith(3);
  const publisher = new FakePublisher();
  const relay = new Relay(outbox);
  const running = relay.run({
    publisher: publisher as unknown as Publisher,
    signal: new AbortController().signal,
  });
  await until(() => publisher.waiting.length === 3);
  publisher.waiting[0].resolve();
  publisher.waiting[1].reject(new Error("Channel closed"));
  publisher.waiting[2].resolve();
  await assert.rejects(running, /Channel closed/);
  assert.deepEqual(
    outbox.pending(10).map((entry) => entry.messageId),
    ["m1"],
  );
});
