import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import { transaction } from "./database.ts";
import { RejectedError } from "./errors.ts";
import { digestOf, Inbox } from "./inbox.ts";
import { Outbox } from "./outbox.ts";

function add(outbox: Outbox, id: string, mandatory?: boolean): void {
  outbox.add({
    exchange: "sales_exchange",
    routingKey: "sale.created",
    messageId: id,
    body: Buffer.from(id),
    mandatory,
  });
}

Deno.test("outbox: pending in order, after an id, until marked sent", () => {
  const outbox = new Outbox(new DatabaseSync(":memory:"));
  for (const id of ["a", "b", "c"]) add(outbox, id);
  add(outbox, "event", false);
  const pending = outbox.pending(10);
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
  assert.deepEqual(
    outbox.pending(1, pending[0].id).map((entry) => entry.messageId),
    ["b"],
  );
  outbox.markSent([pending[0].id, pending[2].id]);
  assert.equal(outbox.countPending(), 2);
  assert.deepEqual(outbox.pending(10).map((entry) => entry.messageId), [
    "b",
    "event",
  ]);
});

Deno.test("outbox: an add rolled back with its transaction never happened", async () => {
  const db = new DatabaseSync(":memory:");
  const outbox = new Outbox(db);
  let woken = false;
  outbox.nextAdd().then(() => woken = true);
  assert.throws(() =>
    transaction(db, () => {
      add(outbox, "x");
      throw new Error("the effect failed");
    }), /the effect failed/);
  assert.equal(outbox.countPending(), 0);
  await Promise.resolve();
  assert.equal(woken, true, "a waiter wakes, finds nothing, and sleeps again");
});

Deno.test("inbox: a key is claimed once, and only with its transaction", () => {
  const db = new DatabaseSync(":memory:");
  const inbox = new Inbox(db);
  assert.throws(() =>
    transaction(db, () => {
      assert.equal(inbox.admit("NEPAL-01:10000", "aa"), true);
      throw new Error("rolled back");
    })
  );
  assert.equal(
    transaction(db, () => inbox.admit("NEPAL-01:10000", "aa")),
    true,
  );
  assert.equal(
    transaction(db, () => inbox.admit("NEPAL-01:10000", "aa")),
    false,
    "the same content again is a redelivery",
  );
  assert.equal(
    transaction(db, () => inbox.admit("NEPAL-01:10001", "aa")),
    true,
  );
});

Deno.test("inbox: the same key with other content is a conflict naming both", () => {
  const db = new DatabaseSync(":memory:");
  const inbox = new Inbox(db);
  const a = digestOf(new TextEncoder().encode('{"SaleId":1,"Items":1}'));
  const b = digestOf(new TextEncoder().encode('{"SaleId":1,"Items":2}'));
  assert.notEqual(a, b);
  inbox.admit("S:1", a);
  assert.throws(
    () => inbox.admit("S:1", b),
    (error: unknown) =>
      error instanceof RejectedError &&
      error.message.includes(a) && error.message.includes(b),
  );
  assert.deepEqual(inbox.claim("S:1", a), { kind: "duplicate" });
});
