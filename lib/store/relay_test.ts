import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mock } from "node:test";
import { DatabaseSync } from "node:sqlite";
import { UnpublishableError, UnroutableError } from "../core/mod.ts";
import { Outbox } from "./outbox.ts";
import type { Outgoing, Publisher } from "../messaging/mod.ts";
import { Relay } from "./relay.ts";
import { SqliteStore } from "./sqlite_store.ts";

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

  /** Publishes written out by {@linkcode FakePublisher.flush}, in order. */
  readonly flushed: number[] = [];

  flush(): void {
    this.flushed.push(this.order.length);
  }

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

const stores = new WeakMap<Outbox, SqliteStore>();

/** Adds `count` messages in one transaction, named from `prefix`. */
async function add(outbox: Outbox, count: number, prefix = "m"): Promise<void> {
  await stores.get(outbox)!.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      await outbox.add(tx, {
        exchange: "sales_exchange",
        routingKey: "sale.created",
        messageId: `${prefix}${i}`,
        body: Buffer.from(`{"n":${i}}`),
      });
    }
  });
}

async function outboxWith(count: number): Promise<Outbox> {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const outbox = await Outbox.open(store);
  stores.set(outbox, store);
  await add(outbox, count);
  return outbox;
}

/** Runs `relay` on the fake publisher until `stop` aborts. */
function start(
  relay: Relay,
  publisher: FakePublisher,
  options: { unroutableMs?: number } = {},
): { running: Promise<void>; stop: AbortController } {
  const stop = new AbortController();
  const running = relay.run({
    publisher: publisher as unknown as Publisher,
    signal: stop.signal,
    ...options,
  });
  return { running, stop };
}

/** Lets the relay's promises run until `done` holds. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000 && !await done(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.ok(await done(), "timed out");
}

Deno.test("relay: a sliding window, in order, marked sent only when confirmed", async () => {
  const outbox = await outboxWith(100);
  const publisher = new FakePublisher();
  const sent: string[] = [];
  const relay = new Relay(outbox, {
    window: 16,
    onSent: (entries) => sent.push(...entries.map((entry) => entry.messageId)),
  });
  const { running, stop } = start(relay, publisher);
  await until(() => publisher.waiting.length === 16);
  assert.equal(await outbox.countPending(), 100, "nothing is sent unconfirmed");
  // Each read's publishes are written out as soon as they are made.
  assert.deepEqual(publisher.flushed, [16]);
  const drained = relay.drained();
  while (await outbox.countPending() > 0) {
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
  const outbox = await outboxWith(2);
  const publisher = new FakePublisher();
  const unroutable: string[] = [];
  const relay = new Relay(outbox, {
    onUnroutable: (error) => unroutable.push(error.message),
  });
  const first = relay.sent("m0");
  const second = relay.sent("m1");
  const drained = relay.drained();
  const { running, stop } = start(relay, publisher, { unroutableMs: 10 });
  await until(() => publisher.waiting.length === 2);
  publisher.waiting[0].resolve();
  publisher.waiting[1].reject(new UnroutableError("m1 went nowhere"));
  await first;
  await assert.rejects(second, UnroutableError);
  await assert.rejects(drained, UnroutableError);
  await until(() => unroutable.length === 1);
  assert.equal(
    await outbox.countPending(),
    1,
    "the unroutable one stays pending",
  );
  stop.abort();
  await running;
});

Deno.test("relay: pendingAtMost resolves as confirms come in", async () => {
  const outbox = await outboxWith(10);
  const publisher = new FakePublisher();
  const relay = new Relay(outbox, { window: 4 });
  let below = false;
  relay.pendingAtMost(5).then(() => below = true);
  const { running, stop } = start(relay, publisher);
  while (await outbox.countPending() > 5) {
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

Deno.test("relay: a producer of the outbox's one writer goes on without a count per confirm", async () => {
  const outbox = await outboxWith(0);
  const counts = mock.method(outbox, "countPending");
  const publisher = new FakePublisher();
  const relay = new Relay(outbox);
  const { running, stop } = start(relay, publisher);
  const rounds = 50;
  for (let round = 0; round < rounds; round++) {
    await add(outbox, 20, `r${round}-`);
    let below = false;
    relay.pendingAtMost(30).then(() => below = true);
    await until(() => {
      publisher.confirmAll();
      return below;
    });
  }
  // A count when the floor grows stale (every 250 ms), not one a round.
  assert.ok(
    counts.mock.callCount() < rounds / 2,
    `${counts.mock.callCount()} counts`,
  );
  await until(() => {
    publisher.confirmAll();
    return publisher.order.length === rounds * 20;
  });
  await until(async () => await outbox.countPending() === 0);
  stop.abort();
  await running;
});

Deno.test("relay: pendingAtMost counts again when others send the messages", async () => {
  // Relays that share an outbox mark each other's messages: this relay's
  // floor of the count then stays high, and only a later count sees them go.
  const outbox = await outboxWith(10);
  const publisher = new FakePublisher();
  const relay = new Relay(outbox, { window: 1 });
  let below = false;
  await relay.pendingAtMost(20);
  relay.pendingAtMost(5).then(() => below = true);
  const { running, stop } = start(relay, publisher);
  await until(() => publisher.waiting.length === 1);
  const others = (await outbox.pending(10)).slice(1).map((entry) => entry.id);
  await outbox.markSent(others);
  publisher.confirmAll();
  const started = performance.now();
  await until(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return below;
  });
  assert.ok(performance.now() - started < 2000);
  stop.abort();
  publisher.confirmAll();
  await running;
});

Deno.test("relay: a failed publish ends the run and leaves the message pending", async () => {
  const outbox = await outboxWith(3);
  const publisher = new FakePublisher();
  const relay = new Relay(outbox);
  const { running } = start(relay, publisher);
  await until(() => publisher.waiting.length === 3);
  publisher.waiting[0].resolve();
  publisher.waiting[1].reject(new Error("Channel closed"));
  publisher.waiting[2].resolve();
  await assert.rejects(running, /Channel closed/);
  assert.deepEqual(
    (await outbox.pending(10)).map((entry) => entry.messageId),
    ["m1"],
  );
});

Deno.test("relay: a message that can never be published is set aside, the rest go on", async () => {
  const outbox = await outboxWith(3);
  const publisher = new FakePublisher();
  const setAside: string[] = [];
  const relay = new Relay(outbox, {
    onSetAside: (entry, reason) =>
      setAside.push(`${entry.messageId}: ${reason}`),
  });
  const lost = relay.sent("m1");
  const { running, stop } = start(relay, publisher);
  await until(() => publisher.waiting.length === 3);
  const [first, second, third] = publisher.waiting.splice(0);
  first.resolve();
  second.reject(new UnpublishableError("m1 is too long"));
  third.resolve();
  await assert.rejects(lost, UnpublishableError);
  await until(async () => await outbox.countPending() === 0);
  assert.deepEqual(setAside, ["m1: m1 is too long"]);
  assert.deepEqual(
    (await outbox.setAsideEntries()).map((entry) => [
      entry.messageId,
      entry.reason,
    ]),
    [["m1", "m1 is too long"]],
  );
  // Replayed, it is pending again and the running relay sends it.
  assert.equal(await outbox.replay("m1"), 1);
  await until(() => publisher.waiting.length === 1);
  publisher.confirmAll();
  await until(async () => await outbox.countPending() === 0);
  stop.abort();
  await running;
});

Deno.test("relay: a message the broker refuses alone three times is set aside", async () => {
  const outbox = await outboxWith(2);
  const publisher = new FakePublisher();
  const setAside: string[] = [];
  const relay = new Relay(outbox, {
    onSetAside: (entry) => setAside.push(entry.messageId),
  });
  const refused = () =>
    Object.assign(new Error("PRECONDITION_FAILED - message size"), {
      code: 406,
    });
  // The first refusal comes with the whole window in flight; the next
  // three with the message alone.
  for (let run = 1; run <= 4; run++) {
    const { running } = start(relay, publisher);
    await until(() => publisher.waiting.length > 0);
    if (run > 1) {
      assert.equal(publisher.waiting.length, 1, "one at a time once careful");
    }
    // The channel closes: every publish in flight fails with the code.
    for (const entry of publisher.waiting.splice(0)) entry.reject(refused());
    if (run < 4) await assert.rejects(running, /PRECONDITION_FAILED/);
    else {
      await until(() => setAside.length === 1);
      await until(() => publisher.waiting.length === 1);
      publisher.confirmAll();
      await until(async () => await outbox.countPending() === 0);
      assert.deepEqual(setAside, ["m0"]);
      assert.deepEqual(publisher.order.at(-1), "m1");
      break;
    }
  }
});

Deno.test("relay: a message added while others await their confirms goes out at once", async () => {
  const store = new SqliteStore(new DatabaseSync(":memory:"));
  const outbox = await Outbox.open(store);
  const add = (id: string) =>
    store.transaction((tx) =>
      outbox.add(tx, {
        exchange: "sales_exchange",
        routingKey: "sale.created",
        messageId: id,
        body: Buffer.from("{}"),
      })
    );
  await add("first");
  const publisher = new FakePublisher();
  const relay = new Relay(outbox);
  const { running, stop } = start(relay, publisher);
  await until(() => publisher.order.length === 1);
  await add("second");
  // The first is not confirmed yet: the second does not wait for it.
  await until(() => publisher.order.length === 2);
  assert.deepEqual(publisher.order, ["first", "second"]);
  assert.equal(publisher.inFlight, 2);
  const drained = relay.drained();
  publisher.confirmAll();
  await drained;
  assert.equal(await outbox.countPending(), 0);
  stop.abort();
  await running;
});
