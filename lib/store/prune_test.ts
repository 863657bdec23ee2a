import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { withStores } from "../../tests/support/stores.ts";
import { Inbox } from "./inbox.ts";
import { Outbox } from "./outbox.ts";
import { parseRetention } from "../config/mod.ts";
import { prune } from "./prune.ts";

Deno.test("prune: keys and sent messages older than the retention go, nothing else", async (t) => {
  await withStores(t, async (store) => {
    const inbox = await Inbox.open(store);
    const outbox = await Outbox.open(store);
    await store.transaction(async (tx) => {
      for (let i = 0; i < 3; i++) {
        await inbox.admit(tx, `S:${i}`, "d");
        await outbox.add(tx, {
          exchange: "x",
          routingKey: "k",
          messageId: `m${i}`,
          body: Buffer.from("{}"),
        });
      }
    });
    const [first, second] = await outbox.pending(10);
    await outbox.markSent([first.id]);
    await outbox.setAside(second.id, "kept for a look");
    const hour = 3_600_000;
    // Nothing is old enough yet.
    assert.equal(
      await prune(store, { retentionMs: hour, tables: ["inbox", "outbox"] }),
      0,
    );
    // Hours later: every key and the sent message; not the one set aside,
    // nor the one still pending.
    const later = Date.now() + 2 * hour;
    assert.equal(
      await prune(store, {
        retentionMs: hour,
        tables: ["inbox", "outbox"],
        now: later,
      }),
      4,
    );
    const left = await store.all("SELECT message_id FROM outbox ORDER BY id");
    assert.deepEqual(left.map((row) => row.message_id), ["m1", "m2"]);
    assert.equal((await store.all("SELECT key FROM inbox")).length, 0);
  });
});

Deno.test("prune: the outbox is read in order of ids, up to the first message made since the cutoff", async (t) => {
  await withStores(t, async (store) => {
    await Outbox.open(store);
    const hour = 3_600_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    // Made and sent 3 hours ago; made 3 hours ago and sent 10 minutes ago;
    // made 10 minutes ago and sent at once; made 3 hours ago (a clock that
    // went back) after one made since, and sent then.
    const rows = [
      ["old", -3 * hour, -3 * hour],
      ["sent late", -3 * hour, -hour / 6],
      ["new", -hour / 6, -hour / 6],
      ["old after new", -3 * hour, -3 * hour],
    ] as const;
    for (const [id, made, sent] of rows) {
      await store.run(
        `INSERT INTO outbox (message_id, exchange, routing_key, body, created_at, sent_at)
        VALUES (?, 'x', 'k', ?, ?, ?)`,
        id,
        Buffer.from("{}"),
        at(made),
        at(sent),
      );
    }
    assert.equal(
      await prune(store, { retentionMs: hour, tables: ["outbox"] }),
      1,
    );
    assert.deepEqual(
      (await store.all("SELECT message_id FROM outbox ORDER BY id")).map((
        row,
      ) => row.message_id),
      ["sent late", "new", "old after new"],
    );
  });
});

Deno.test("prune: a retention is a duration", () => {
  assert.equal(parseRetention("7d"), 7 * 86_400_000);
  assert.equal(parseRetention("30m"), 1_800_000);
  for (const text of ["", "7", "0s", "1.5h", "-1d"]) {
    assert.throws(
      () => parseRetention(text),
      new RegExp(`^UsageError: Invalid retention "${text}"`),
    );
  }
});
