import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { withStores } from "../../tests/support/stores.ts";
import { RejectedError } from "../core/mod.ts";
import { digestOf, Inbox } from "./inbox.ts";
import { Outbox } from "./outbox.ts";
import type { Store } from "./store.ts";

async function add(
  store: Store,
  outbox: Outbox,
  id: string,
  mandatory?: boolean,
): Promise<void> {
  await store.transaction((tx) =>
    outbox.add(tx, {
      exchange: "sales_exchange",
      routingKey: "sale.created",
      messageId: id,
      body: Buffer.from(id),
      mandatory,
    })
  );
}

Deno.test("outbox: pending in order, after an id, until marked sent", async (t) => {
  await withStores(t, async (store) => {
    const outbox = await Outbox.open(store);
    for (const id of ["a", "b", "c"]) await add(store, outbox, id);
    await add(store, outbox, "event", false);
    const pending = await outbox.pending(10);
    assert.deepEqual(pending.map((entry) => entry.messageId), [
      "a",
      "b",
      "c",
      "event",
    ]);
    assert.deepEqual(pending.map((entry) => entry.mandatory), [
      true,
      true,
      true,
      false,
    ]);
    assert.equal(pending[0].body.toString(), "a");
    assert.deepEqual(
      (await outbox.pending(1, pending[0].id)).map((entry) => entry.messageId),
      ["b"],
    );
    await outbox.markSent([pending[0].id, pending[2].id]);
    assert.equal(await outbox.countPending(), 2);
    await outbox.setAside(pending[1].id, "too long");
    assert.deepEqual(
      (await outbox.pending(10)).map((entry) => entry.messageId),
      ["event"],
    );
    assert.deepEqual(
      (await outbox.setAsideEntries()).map((entry) => entry.reason),
      ["too long"],
    );
    assert.equal(await outbox.replay("b"), 1);
    assert.equal(await outbox.countPending(), 2);
  });
});

Deno.test("outbox: an add rolled back with its transaction never happened, nor woke anyone", async (t) => {
  await withStores(t, async (store) => {
    const outbox = await Outbox.open(store);
    let woken = false;
    outbox.nextAdd().then(() => woken = true);
    await assert.rejects(
      store.transaction(async (tx) => {
        await outbox.add(tx, {
          exchange: "",
          routingKey: "q",
          messageId: "x",
          body: Buffer.from("x"),
        });
        throw new Error("the effect failed");
      }),
      /the effect failed/,
    );
    assert.equal(await outbox.countPending(), 0);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(woken, false);
    await add(store, outbox, "y");
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(woken, true, "woken once the add committed");
  });
});

Deno.test("inbox: a key is claimed once, and only with its transaction", async (t) => {
  await withStores(t, async (store) => {
    const inbox = await Inbox.open(store);
    await assert.rejects(
      store.transaction(async (tx) => {
        assert.equal(await inbox.admit(tx, "NEPAL-01:10000", "aa"), true);
        throw new Error("rolled back");
      }),
    );
    const admit = (key: string) =>
      store.transaction((tx) => inbox.admit(tx, key, "aa"));
    assert.equal(await admit("NEPAL-01:10000"), true);
    assert.equal(
      await admit("NEPAL-01:10000"),
      false,
      "the same content again is a redelivery",
    );
    assert.equal(await admit("NEPAL-01:10001"), true);
  });
});

Deno.test("inbox: the same key with other content is a conflict naming both", async (t) => {
  await withStores(t, async (store) => {
    const inbox = await Inbox.open(store);
    const a = digestOf(new TextEncoder().encode('{"SaleId":1,"Items":1}'));
    const b = digestOf(new TextEncoder().encode('{"SaleId":1,"Items":2}'));
    assert.notEqual(a, b);
    await store.transaction((tx) => inbox.admit(tx, "S:1", a));
    await assert.rejects(
      store.transaction((tx) => inbox.admit(tx, "S:1", b)),
      (error: unknown) =>
        error instanceof RejectedError &&
        error.message.includes(a) && error.message.includes(b),
    );
    assert.deepEqual(
      await store.transaction((tx) => inbox.claim(tx, "S:1", a)),
      { kind: "duplicate" },
    );
  });
});

Deno.test("outbox: relays sharing a database each claim their own messages", async (t) => {
  await withStores(t, async (store) => {
    if (store.dialect !== "postgres") return; // One relay per SQLite file.
    const first = await Outbox.open(store);
    const second = await Outbox.open(store);
    for (const id of ["a", "b", "c"]) await add(store, first, id);
    const mine = await first.pending(2);
    const theirs = await second.pending(10);
    assert.deepEqual(mine.map((entry) => entry.messageId), ["a", "b"]);
    assert.deepEqual(theirs.map((entry) => entry.messageId), ["c"]);
    // A relay takes its own claims again, after a reconnect.
    assert.deepEqual(
      (await first.pending(10)).map((entry) => entry.messageId),
      ["a", "b"],
    );
    assert.deepEqual(
      (await second.pending(10)).map((entry) => entry.messageId),
      ["c"],
    );
  });
});

Deno.test("outbox: what this process committed is handed on as it was, and the rest is read", async (t) => {
  await withStores(t, async (store) => {
    const outbox = await Outbox.open(store);
    await add(store, outbox, "a");
    await add(store, outbox, "b");
    // Another process's message, between this one's: only the file has it.
    await store.run(
      `INSERT INTO outbox (message_id, exchange, routing_key, body, created_at)
      VALUES ('other', 'sales_exchange', 'sale.created', ?, ?)`,
      Buffer.from("other"),
      new Date().toISOString(),
    );
    await add(store, outbox, "c");
    await add(store, outbox, "d");
    const all = await outbox.pending(10);
    assert.deepEqual(all.map((entry) => entry.messageId), [
      "a",
      "b",
      "other",
      "c",
      "d",
    ]);
    // Read a window at a time after each id, nothing is missed or repeated.
    const seen: string[] = [];
    for (let after = all[0].id;;) {
      const batch = await outbox.pending(2, after);
      if (batch.length === 0) break;
      seen.push(...batch.map((entry) => entry.messageId));
      after = batch[batch.length - 1].id;
    }
    assert.deepEqual(seen, ["b", "other", "c", "d"]);
    // Marked sent or set aside meanwhile, a kept message is not handed on.
    await add(store, outbox, "e");
    await add(store, outbox, "f");
    await add(store, outbox, "g");
    const [e, f, g] = (await outbox.pending(3, all[4].id)).map((x) => x.id);
    await add(store, outbox, "h");
    await add(store, outbox, "i");
    await outbox.markSent([e, f]);
    await outbox.setAside(g, "refused");
    assert.deepEqual(
      (await outbox.pending(10, g)).map((entry) => entry.messageId),
      ["h", "i"],
    );
    const [h] = await outbox.pending(1, g);
    await outbox.markSent([h.id]);
    assert.deepEqual(
      (await outbox.pending(10, g)).map((entry) => entry.messageId),
      ["i"],
    );
    assert.equal((await outbox.pending(10, g))[0].body.toString(), "i");
  });
});
