/**
 * Limits the machine and the broker set: a full disk pauses a service that
 * resumes by itself, and a broker's message size cap is met by the relay.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Buffer } from "node:buffer";
import {
  connectBroker,
  runSession,
  stayConnected,
} from "../lib/messaging/mod.ts";
import { Outbox, Relay, SqliteStore } from "../lib/store/mod.ts";
import { withSandbox } from "./support/sandbox.ts";
import { drain, eventually, openClient } from "./support/amqp.ts";
import { invoices } from "./support/ledger.ts";
import { withOwnBroker } from "./support/faults.ts";
import { processTest } from "./support/options.ts";
import { command, Running, runService } from "./support/process.ts";

/** Mounts a tmpfs of `size` at `dir`; false where this user may not. */
async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  const { code } = await command("mount", [
    "-t",
    "tmpfs",
    "-o",
    `size=${size}`,
    "tmpfs",
    dir,
  ]).catch(() => ({ code: 1 }));
  return code === 0;
}

const canMount = await (async () => {
  const dir = await Deno.makeTempDir({ prefix: "shop-mount-" });
  try {
    const mounted = await mountTmpfs(dir, "1m");
    if (mounted) await command("umount", [dir]);
    return mounted;
  } finally {
    await Deno.remove(dir);
  }
})();

Deno.test({
  name:
    `hardening: a full disk pauses Billing, which resumes by itself and sets nothing aside${
      canMount ? "" : " (skipped: mounting a tmpfs needs root)"
    }`,
  ignore: !canMount,
  ...processTest,
  fn: async () => {
    await withSandbox(async (sandbox) => {
      const disk = await Deno.makeTempDir({ prefix: "shop-full-" });
      assert.ok(await mountTmpfs(disk, "2m"));
      let cleanup = () => Promise.resolve(0);
      try {
        const onDisk = {
          ...sandbox,
          dataDir: disk,
          env: { ...sandbox.env, DATA_DIR: disk },
        };
        const billing = new Running("billing", onDisk);
        cleanup = () => billing.stop("SIGKILL");
        await billing.waitFor(/running on/);
        const count = 1500;
        const pos = await runService("pos", sandbox, [
          "--count",
          String(count),
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await billing.waitFor(/its store is failing \(.*full.*\)/, 1, 60_000);
        const invoicedBefore = billing.lines.filter((line) =>
          /Generating invoice/.test(line)
        ).length;
        assert.ok(invoicedBefore < count, `${invoicedBefore} invoiced`);
        // More room, as an operator would make: Billing goes on by itself.
        await command("mount", ["-o", "remount,size=64m", disk]);
        await billing.waitFor(/Generating invoice/, count, 120_000);
        await billing.waitFor(/its store works again/);
        assert.equal(await billing.stop(), 0);
        assert.equal(
          billing.lines.filter((line) => /its store is failing/.test(line))
            .length,
          1,
          "said once",
        );
        assert.ok(!billing.lines.some((line) => /Rejected/.test(line)));
        const client = await openClient(sandbox);
        try {
          assert.equal((await drain(client, "billing_queue_error")).length, 0);
        } finally {
          await client.close();
        }
        const stored = await invoices(onDisk);
        assert.equal(stored.length, count);
        assert.equal(
          new Set(stored.map((invoice) => invoice.SaleId)).size,
          count,
        );
      } finally {
        await cleanup();
        await command("umount", [disk]);
        await Deno.remove(disk, { recursive: true });
      }
    });
  },
});

Deno.test(
  "hardening: a broker's max_message_size refuses a large message; the relay sets it aside and goes on",
  processTest,
  async () => {
    await withOwnBroker(async (node) => {
      const store = new SqliteStore(new DatabaseSync(":memory:"));
      const outbox = await Outbox.open(store);
      const add = (id: string, bytes: number) =>
        store.transaction((tx) =>
          outbox.add(tx, {
            exchange: "",
            routingKey: "big_test",
            messageId: id,
            body: Buffer.alloc(bytes, 0x20),
          })
        );
      await add("small-1", 100);
      await add("huge", 2 * 1024 * 1024);
      await add("small-2", 100);
      const setAside: string[] = [];
      const relay = new Relay(outbox, {
        onSetAside: (entry, reason) =>
          setAside.push(`${entry.messageId} ${reason}`),
      });
      const stop = new AbortController();
      const running = stayConnected({
        url: node.url,
        name: "big-test",
        signal: stop.signal,
        onRetry: () => {},
        session: (connection, ready) =>
          runSession(connection, {
            signal: stop.signal,
            relay,
            declare: async (channel) => {
              await channel.assertQueue("big_test", { durable: true });
            },
            ready,
          }),
      });
      await eventually(
        async () => await outbox.countPending() === 0,
        "the outbox to be sent or set aside",
        60_000,
      );
      stop.abort();
      await running;
      assert.equal(setAside.length, 1, setAside.join("\n"));
      assert.match(setAside[0], /^huge .*(PRECONDITION.FAILED|406).*max/i);
      const client = await connectBroker({ url: node.url, name: "check" });
      try {
        const got = await drain(client, "big_test");
        // At least once: a message in flight when the channel closed over
        // the huge one is sent again, and consumers take it once.
        assert.deepEqual(
          [...new Set(got.map((message) => message.properties.messageId))]
            .sort(),
          ["small-1", "small-2"],
        );
      } finally {
        await client.close();
      }
    }, ["max_message_size = 1048576"]);
  },
);
