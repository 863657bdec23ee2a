/**
 * What an attacker or a careless operator tried, each against the real
 * broker: no message stops a service, and no sale vanishes without a line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Buffer } from "node:buffer";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import {
  connectBroker,
  runSession,
  stayConnected,
} from "../lib/messaging/mod.ts";
import { Outbox, Relay, SqliteStore } from "../lib/store/mod.ts";
import { withSandbox } from "./support/sandbox.ts";
import { drain, eventually, openClient, publishRaw } from "./support/amqp.ts";
import { invoices, sentSales, stock } from "./support/ledger.ts";
import { withOwnBroker } from "./support/faults.ts";
import { processTest } from "./support/options.ts";
import {
  command,
  projectPath,
  Running,
  runService,
  startConsumers,
} from "./support/process.ts";

const base = JSON.parse(DOTNET_MESSAGE);

/** Whether a printed line holds a raw control character (tab aside). */
function hasControl(line: string): boolean {
  return [...line].some((char) => {
    const code = char.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code < 0xa0);
  });
}

Deno.test(
  "hardening: codes are bounded in bytes and must be well-formed, printable text",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      // 61 four-byte characters: 64 characters, 244 bytes. It once made a
      // message id longer than AMQP allows and stopped Billing for good.
      const wide = "\u{1F600}".repeat(61) + "abc";
      const bad: [string, string][] = [
        ["244-byte store", JSON.stringify({ ...base, StoreId: wide })],
        // Raw JSON escapes: lone surrogates are valid JSON, ill-formed text.
        [
          "lone high surrogate",
          DOTNET_MESSAGE.replace('"NEPAL-01"', '"\\ud800"'),
        ],
        [
          "lone low surrogate",
          DOTNET_MESSAGE.replace('"NEPAL-01"', '"\\udbff"'),
        ],
        ["NUL", JSON.stringify({ ...base, StoreId: "A\u0000B" })],
        ["ESC", JSON.stringify({ ...base, StoreId: "\u001b]0;owned\u0007" })],
        ["newline", JSON.stringify({ ...base, StoreId: "A\nFAKE LINE" })],
        [
          "control in a SKU",
          JSON.stringify({
            ...base,
            Items: [{ Sku: "MILK\u001b[2J", Quantity: 1 }],
          }),
        ],
      ];
      const client = await openClient(sandbox);
      try {
        for (const [, body] of bad) await publishRaw(client, body);
        await publishRaw(client, JSON.stringify({ ...base, SaleId: 30001 }));
        await billing.waitFor(/Generating invoice for Sale #30001/);
        await inventory.waitFor(/Inventory update for Sale #30001/);
        for (const queue of ["billing_queue_error", "inventory_queue_error"]) {
          await eventually(async () => {
            const channel = await client.createChannel();
            const { messageCount } = await channel.checkQueue(queue);
            await channel.close();
            return messageCount === bad.length;
          }, `${bad.length} messages in ${queue}`);
          const reasons = (await drain(client, queue)).map((message) =>
            String(message.properties.headers?.["x-error-reason"])
          );
          assert.match(reasons[0], /StoreId: must be at most 64 bytes/);
          assert.match(reasons[1], /StoreId: must be well-formed text/);
          assert.match(reasons[2], /StoreId: must be well-formed text/);
          assert.match(reasons[3], /StoreId: must not contain control/);
          assert.match(reasons[4], /StoreId: must not contain control/);
          assert.match(reasons[5], /StoreId: must not contain control/);
          assert.match(reasons[6], /Items\.0\.Sku: must not contain control/);
        }
      } finally {
        await client.close();
      }
      // Nothing raw reached the terminal.
      for (const service of [billing, inventory]) {
        assert.ok(
          !service.lines.some(hasControl),
        );
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      assert.deepEqual(
        (await invoices(sandbox)).map((invoice) => invoice.StoreId),
        ["NEPAL-01"],
      );
    });
  },
);

Deno.test(
  "hardening: an outbox message that can never be published is set aside, not a crash loop",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      // A message already in Billing's outbox whose id AMQP cannot carry,
      // as an older version could write one.
      const db = new DatabaseSync(
        join(sandbox.dataDir, "billing", "billing.db"),
      );
      db.prepare(`INSERT INTO outbox
        (message_id, exchange, routing_key, body, created_at, mandatory)
        VALUES (?, 'sales_exchange', 'invoice.created', ?, ?, 0)`).run(
        `invoice:${"x".repeat(300)}`,
        new TextEncoder().encode("{}"),
        new Date().toISOString(),
      );
      db.close();
      const pos = await runService("pos", sandbox, ["--count", "3", "--quiet"]);
      assert.equal(pos.code, 0, pos.stderr);
      await billing.waitFor(/Generating invoice/, 3);
      await billing.waitFor(
        /^billing: set aside "invoice:x{64}…?.*" in the outbox: .*message id is 308 bytes, more than AMQP's 255/,
      );
      // The three invoices' events went out all the same.
      await eventually(async () => {
        const listed = await runService("billing", sandbox, ["outbox"]);
        return /1 message\(s\) set aside in billing's outbox/.test(
          listed.stdout,
        );
      }, "the set-aside message listed");
      const listed = await runService("billing", sandbox, ["outbox", "list"]);
      assert.match(
        listed.stdout,
        /^invoice:x+ +\S+ +sales_exchange\/invoice\.created +Message/m,
      );
      assert.equal(await billing.stop(), 0, "no crash, a clean stop");
      assert.equal(await inventory.stop(), 0);
      const check = new DatabaseSync(
        join(sandbox.dataDir, "billing", "billing.db"),
        { readOnly: true },
      );
      const pending = check.prepare(
        "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL",
      ).get();
      check.close();
      assert.equal(Number(pending?.n), 0, "every invoice.created was sent");
      const replay = await runService("billing", sandbox, ["outbox", "replay"]);
      assert.match(
        replay.stdout,
        /1 message\(s\) of billing's outbox are pending again/,
      );
    });
  },
);

Deno.test(
  "hardening: two tills of one store never clash; a reused key with other content is a conflict",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const tills = ["A", "B"].map((till) => ({
        ...sandbox,
        dataDir: join(sandbox.dataDir, `till-${till}`),
        env: {
          ...sandbox.env,
          DATA_DIR: join(sandbox.dataDir, `till-${till}`),
        },
      }));
      // Two tills with their own data and no --till: each makes an id.
      const runs = await Promise.all(
        tills.map((till) =>
          runService("pos", till, ["--count", "20", "--quiet"])
        ),
      );
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      await billing.waitFor(/Generating invoice/, 40);
      await inventory.waitFor(/Inventory update/, 40);
      const made = tills.flatMap((till) => sentSales(till).map((e) => e.sale));
      assert.equal(made.length, 40);
      assert.equal(new Set(made.map((sale) => sale.TillId)).size, 2);
      assert.equal(
        new Set(made.map((sale) => sale.SaleId)).size,
        20,
        "both tills number from 10000",
      );
      // The .NET POS restarts at 10000 on every run: the same key, another sale.
      const client = await openClient(sandbox);
      try {
        await publishRaw(client, DOTNET_MESSAGE);
        await publishRaw(client, DOTNET_MESSAGE); // A redelivery: a no-op.
        const other = DOTNET_MESSAGE.replace('"Quantity":5}', '"Quantity":7}');
        await publishRaw(client, other);
        await billing.waitFor(/Rejected a message: Conflict: "NEPAL-01:10001"/);
        await inventory.waitFor(
          /Rejected a message: Conflict: "NEPAL-01:10001"/,
        );
        const [conflict] = await drain(client, "billing_queue_error");
        assert.equal(conflict.content.toString(), other);
        assert.match(
          String(conflict.properties.headers?.["x-error-reason"]),
          /^Conflict: "NEPAL-01:10001" was handled at \S+ with content [0-9a-f]{32}; this message has the same key and content [0-9a-f]{32}$/,
        );
      } finally {
        await client.close();
      }
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      const stored = await invoices(sandbox);
      assert.equal(stored.length, 41, "40 from the tills, 1 from .NET");
      const numbers = stored.map((invoice) => invoice.InvoiceNumber);
      assert.equal(new Set(numbers).size, 41);
      assert.equal(numbers.at(-1), "NEPAL-01-000041", "gapless");
    });
  },
);

Deno.test(
  "hardening: Billing and Inventory agree on the largest quantities",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const [billing, inventory] = await startConsumers(sandbox);
      const client = await openClient(sandbox);
      try {
        for (const id of [40001, 40002]) {
          await publishRaw(
            client,
            JSON.stringify({
              ...base,
              SaleId: id,
              Items: [{ Sku: "MILK001", Quantity: 2147483647 }],
            }),
          );
        }
      } finally {
        await client.close();
      }
      await billing.waitFor(/Generating invoice for Sale #40002/);
      await inventory.waitFor(/Inventory update for Sale #40002/);
      assert.equal(await billing.stop(), 0);
      assert.equal(await inventory.stop(), 0);
      assert.equal((await invoices(sandbox)).length, 2);
      assert.deepEqual(
        (await stock(sandbox)).map((level) => [level.Sku, level.Quantity]),
        [["MILK001", -4294967294]],
      );
      assert.ok(
        ![...billing.lines, ...inventory.lines].some((line) =>
          /Rejected/.test(line)
        ),
      );
    });
  },
);

Deno.test(
  "hardening: what reaches the screen is escaped",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      // Stored before codes were checked: printed escaped all the same.
      const inventory = new Running("inventory", sandbox);
      await inventory.waitFor(/running on/);
      assert.equal(await inventory.stop(), 0);
      const db = new DatabaseSync(
        join(sandbox.dataDir, "inventory", "inventory.db"),
      );
      db.prepare(`INSERT INTO stock_level
        (store_id, sku, quantity, threshold, low, updated_at)
        VALUES (?, ?, 1, NULL, 0, '2026-11-27T00:00:00Z')`).run(
        "A\u0000B",
        "\u001b]0;owned\u0007",
      );
      db.close();
      const { stdout } = await runService("inventory", sandbox, ["stock"]);
      assert.match(stdout, /^A\\u0000B +\\u001b\]0;owned\\u0007 +1$/m);
      assert.ok(!stdout.split("\n").some(hasControl), stdout);
    });
  },
);

/** Runs `rabbitmqctl` on the shared broker; its output. */
async function rabbitmqctl(...args: string[]): Promise<string> {
  const result = await command("rabbitmqctl", args);
  if (result.code !== 0) throw new Error(result.stderr || result.stdout);
  return result.stdout;
}

Deno.test(
  "hardening: what retrying cannot mend is one line and an exit, not a loop",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const vhost = new URL(sandbox.url).pathname.slice(1);
      await t.step(
        "a queue that exists with other arguments (406)",
        async () => {
          const client = await openClient(sandbox);
          const channel = await client.createChannel();
          await channel.assertQueue("billing_queue", {
            durable: true,
            arguments: { "x-max-length": 5 },
          });
          await client.close();
          const started = performance.now();
          const run = await runService("billing", sandbox, []);
          assert.equal(run.code, 1);
          assert.ok(performance.now() - started < 15_000);
          const lines = run.stderr.trim().split("\n");
          assert.equal(lines.length, 1, run.stderr);
          assert.match(
            lines[0],
            /^billing: .*PRECONDITION.FAILED.*x-max-length/,
          );
        },
      );
      await t.step("a virtual host that does not exist", async () => {
        const url = sandbox.url.replace(vhost, "no-such-vhost");
        const run = await runService("inventory", {
          ...sandbox,
          env: { ...sandbox.env, AMQP_URL: url },
        }, []);
        assert.equal(run.code, 1);
        assert.equal(
          run.stderr.trim(),
          'inventory: Cannot connect to "amqp://guest@localhost:5672/no-such-vhost": access refused: the virtual host does not exist or the user may not use it',
        );
      });
      await t.step("a user who may not declare the queue (403)", async () => {
        const user = `shop-${crypto.randomUUID().slice(0, 8)}`;
        await rabbitmqctl("add_user", user, "pw");
        try {
          await rabbitmqctl(
            "set_permissions",
            "-p",
            vhost,
            user,
            "^$",
            ".*",
            ".*",
          );
          const url = sandbox.url.replace("guest:guest", `${user}:pw`);
          const run = await runService("inventory", {
            ...sandbox,
            env: { ...sandbox.env, AMQP_URL: url },
          }, []);
          assert.equal(run.code, 1);
          const lines = run.stderr.trim().split("\n");
          assert.equal(lines.length, 1, run.stderr);
          assert.match(lines[0], /^inventory: .*ACCESS.REFUSED/);
        } finally {
          await rabbitmqctl("delete_user", user);
        }
      });
      await t.step("URLs that can never work", async () => {
        for (
          const [url, line] of [
            [",", /^pos: AMQP_URL is empty$/],
            [
              "amqp://guest:guest@localhost:5672?heartbeat=abc",
              /^pos: Invalid AMQP URL "amqp:\/\/guest@localhost:5672": heartbeat "abc" is not a whole number/,
            ],
          ] as const
        ) {
          const run = await runService("pos", {
            ...sandbox,
            env: { ...sandbox.env, AMQP_URL: url },
          }, ["--count", "0"]);
          assert.equal(run.code, 1, url);
          assert.match(run.stderr.trim(), line);
          assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
        }
      });
      await t.step(
        "amqps:// to an address tries TLS, not a host name",
        async () => {
          const billing = new Running("billing", {
            ...sandbox,
            env: {
              ...sandbox.env,
              AMQP_URL: "amqps://guest:guest@127.0.0.1:5999",
            },
          });
          await billing.waitFor(/trying again in/);
          assert.equal(await billing.stop(), 0);
          assert.doesNotMatch(billing.lines.join("\n"), /servername/);
          assert.match(billing.lines[0], /connection refused/);
        },
      );
    });
  },
);

/** The pids of a process's children, from /proc. */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await command("pgrep", ["-P", String(pid)]);
  return stdout.trim().split("\n").filter(Boolean).map(Number);
}

/** Whether a process runs. */
function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

Deno.test(
  "hardening: one Ctrl+C drains and exits 0; a dead launcher takes its service along",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const launch = () =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            projectPath("tools", "launcher.ts"),
            "run",
            "billing",
          ],
          env: sandbox.env,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      await t.step(
        "Ctrl+C reaches the launcher and the service at once",
        async () => {
          const launcher = launch();
          const output = launcher.output();
          let service: number | undefined;
          await eventually(async () => {
            [service] = await childrenOf(launcher.pid);
            return service !== undefined;
          }, "the service to start");
          await eventually(async () => {
            const client = await openClient(sandbox);
            try {
              const channel = await client.createChannel();
              channel.on("error", () => {});
              const { consumerCount } = await channel.checkQueue(
                "billing_queue",
              );
              return consumerCount === 1;
            } catch {
              return false; // Not declared yet.
            } finally {
              await client.close().catch(() => {});
            }
          }, "billing to consume");
          // A terminal sends SIGINT to its whole foreground process group.
          launcher.kill("SIGINT");
          Deno.kill(service!, "SIGINT");
          const { code, stdout } = await output;
          const printed = new TextDecoder().decode(stdout);
          assert.equal(code, 0, printed);
          assert.match(
            printed,
            /^billing stopped: 0 handled, 0 set aside, up \d+\.\d s\.$/m,
          );
        },
      );
      await t.step("SIGKILL of the launcher", async () => {
        const launcher = launch();
        let service: number | undefined;
        await eventually(async () => {
          [service] = await childrenOf(launcher.pid);
          return service !== undefined;
        }, "the service to start");
        launcher.kill("SIGKILL");
        await launcher.status;
        await eventually(
          () => Promise.resolve(!alive(service!)),
          "the orphaned service to stop",
          10_000,
        );
        await launcher.stdout.cancel();
        await launcher.stderr.cancel();
      });
    });
  },
);

Deno.test(
  "hardening: listings stream, whatever their size, and take a range",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      assert.equal(await billing.stop(), 0);
      // 30,000 invoices, written straight into Billing's table.
      const db = new DatabaseSync(
        join(sandbox.dataDir, "billing", "billing.db"),
      );
      const insert = db.prepare(`INSERT INTO invoice
        (number, store_id, till_id, seq, sale_id, mismatch, created_at, document)
        VALUES (?, 'S', '', ?, ?, 0, ?, ?)`);
      db.exec("BEGIN");
      for (let seq = 1; seq <= 30_000; seq++) {
        const number = `S-${String(seq).padStart(6, "0")}`;
        const at = new Date(Date.UTC(2026, 10, 1) + seq * 60_000).toISOString();
        insert.run(
          number,
          seq,
          seq,
          at,
          JSON.stringify({
            InvoiceNumber: number,
            StoreId: "S",
            SaleId: seq,
            Lines: [{ Sku: "A", Quantity: 1, UnitPrice: 1.5, LineTotal: 1.5 }],
            Subtotal: 1.5,
            Total: 1.5,
            TotalAmount: 1.5,
            Mismatch: false,
            CreatedAt: at,
          }),
        );
      }
      db.exec("COMMIT");
      db.close();
      const all = await runService("billing", sandbox, ["invoices", "--json"]);
      assert.equal(all.code, 0, all.stderr);
      assert.equal(JSON.parse(all.stdout).length, 30_000);
      const human = await runService("billing", sandbox, ["invoices"]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /\n30000 invoice\(s\)\.\n$/);
      const some = await runService("billing", sandbox, [
        "invoices",
        "--json",
        "--from",
        "2026-11-01T10:00:00Z",
        "--to",
        "2026-11-01T11:00:00Z",
        "--limit",
        "10",
      ]);
      assert.equal(some.code, 0, some.stderr);
      assert.deepEqual(
        JSON.parse(some.stdout).map((invoice: { SaleId: number }) =>
          invoice.SaleId
        ),
        [600, 601, 602, 603, 604, 605, 606, 607, 608, 609],
      );
    });
  },
);

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
