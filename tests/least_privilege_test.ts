/**
 * Least privilege on the broker, on a node of the test's own with the
 * management plugin: `deno task broker -- setup` as a definitions file the
 * node loads at boot and through the management API; what each service's
 * user is refused; and the whole shop on its own users.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { connectBroker } from "../lib/messaging/mod.ts";
import { replyCodeOf } from "../lib/core/mod.ts";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";
import { OwnBroker } from "./support/faults.ts";
import { eventually } from "./support/amqp.ts";
import { Running, runService, waitForAll } from "./support/process.ts";
import { invoices, stock } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import { type Sandbox, withSandbox } from "./support/sandbox.ts";
import { ownPostgresMissing, withOwnPostgres } from "./support/postgres.ts";
import { PostgresStore } from "../lib/store/mod.ts";
import { startOffice } from "./support/office.ts";

const ownNode = await OwnBroker.available();
const SERVICES = ["pos", "billing", "inventory", "office"];

/** The broker's answer to `work` on a channel of `url`'s user: "ok" or its reply code. */
async function attempt(
  url: string,
  work: (channel: import("amqplib").ConfirmChannel) => Promise<unknown>,
): Promise<"ok" | number | undefined> {
  const connection = await connectBroker({ url, name: "test" });
  connection.on("error", () => {});
  // A refused publish closes the channel: its code comes with the close.
  let closedWith: number | undefined;
  try {
    const channel = await connection.createConfirmChannel();
    channel.on("error", (error) => closedWith = replyCodeOf(error));
    await work(channel);
    await channel.close();
    return "ok";
  } catch (error) {
    return replyCodeOf(error) ?? closedWith;
  } finally {
    await connection.close().catch(() => {});
  }
}

function publish(exchange: string, key: string) {
  return async (channel: import("amqplib").ConfirmChannel) => {
    channel.publish(exchange, key, Buffer.from(DOTNET_MESSAGE));
    await channel.waitForConfirms();
  };
}

Deno.test({
  name:
    "least privilege: broker setup as boot definitions and through the API; each user is refused what is not its own; the shop runs on its own users",
  ...processTest,
  ignore: !ownNode,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "shop-test-" });
    const secrets = join(dir, "secrets");
    const admin = "admin:admin-pw-1";
    const definitions = join(dir, "definitions.json");
    const run = (url: string, args: string[]) =>
      runService("broker", {
        url,
        dataDir: dir,
        env: { AMQP_URL: url, DATA_DIR: dir },
      }, ["setup", "--out", secrets, ...args]);

    // The definitions before any broker: the URLs name a port to come.
    const written = await run(`amqp://${admin}@127.0.0.1:1`, [
      "--definitions",
      definitions,
      "--broker-version",
      "3",
    ]);
    assert.equal(written.code, 0, written.stderr);
    assert.equal((await Deno.stat(definitions)).mode! & 0o777, 0o600);
    const booted = join(dir, "boot.json");
    await Deno.copyFile(definitions, booted);
    await Deno.chmod(booted, 0o644);
    await Deno.chmod(dir, 0o755);

    const node = await OwnBroker.start([`load_definitions = ${booted}`], {
      management: true,
      credentials: admin,
    });
    try {
      const adminUrl = `amqp://${admin}@127.0.0.1:${node.port}`;
      const management = [
        "--management-url",
        `http://127.0.0.1:${node.managementPort}`,
      ];
      // The API finds everything as the definitions made it.
      const applied = await run(adminUrl, management);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /: 0 changed, \d+ already right\./);
      const urls: Record<string, string> = {};
      for (const service of SERVICES) {
        const file = join(secrets, `${service}.url`);
        assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
        urls[service] = (await Deno.readTextFile(file)).trim();
        const password = decodeURIComponent(new URL(urls[service]).password);
        assert.ok(password.length >= 24);
        for (const output of [written, applied]) {
          assert.ok(!(output.stdout + output.stderr).includes(password));
        }
      }
      assert.ok(
        !(await Deno.readTextFile(definitions)).includes(
          decodeURIComponent(new URL(urls.pos).password),
        ),
      );
      // Again: nothing changes, and the passwords are kept.
      const again = await run(adminUrl, management);
      assert.match(again.stdout, /: 0 changed, /);
      assert.equal(
        (await Deno.readTextFile(join(secrets, "pos.url"))).trim(),
        urls.pos,
      );

      const refused: [string, string, Parameters<typeof attempt>[1]][] = [
        [
          "pos",
          "consumes billing_queue",
          (ch) => ch.consume("billing_queue", () => {}),
        ],
        [
          "pos",
          "publishes invoice.created",
          publish("sales_exchange", "invoice.created"),
        ],
        [
          "pos",
          "deletes billing_queue",
          (ch) => ch.deleteQueue("billing_queue"),
        ],
        ["pos", "writes to a queue by name", publish("", "billing_queue")],
        [
          "billing",
          "publishes sale.created",
          publish("sales_exchange", "sale.created"),
        ],
        [
          "billing",
          "writes into another's error queue",
          publish("errors_exchange", "inventory_queue_error"),
        ],
        [
          "billing",
          "binds its queue to invoice.created",
          (ch) =>
            ch.bindQueue("billing_queue", "sales_exchange", "invoice.created"),
        ],
        ["inventory", "reads billing_queue", (ch) => ch.get("billing_queue")],
        [
          "inventory",
          "publishes sale.created",
          publish("sales_exchange", "sale.created"),
        ],
        [
          "office",
          "publishes sale.created",
          publish("sales_exchange", "sale.created"),
        ],
        [
          "office",
          "consumes billing_queue",
          (ch) => ch.consume("billing_queue", () => {}),
        ],
        [
          "office",
          "declares an exchange",
          (ch) => ch.assertExchange("x", "fanout"),
        ],
      ];
      for (const [service, what, work] of refused) {
        assert.equal(
          await attempt(urls[service], work),
          403,
          `${service} ${what}: refused`,
        );
      }
      assert.equal(
        await attempt(urls.pos, publish("sales_exchange", "sale.created")),
        "ok",
      );
      assert.equal(
        await attempt(urls.inventory, (ch) => ch.checkQueue("billing_queue")),
        "ok",
      );
      // The office's Error queues page reads them and replays to their queue.
      assert.equal(
        await attempt(urls.office, (ch) => ch.get("billing_queue_error")),
        "ok",
      );
      // What the POS published while trying lands in the queues: taken away.
      const cleanup = await connectBroker({ url: adminUrl, name: "test" });
      const channel = await cleanup.createChannel();
      for (
        const queue of ["billing_queue", "inventory_queue", "office_queue"]
      ) {
        await channel.purgeQueue(queue);
      }

      // The shop, each service on its own user, read from its file.
      const sandbox = (service: string): Sandbox => ({
        url: urls[service],
        dataDir: dir,
        env: {
          AMQP_URL_FILE: join(secrets, `${service}.url`),
          DATA_DIR: dir,
        },
      });
      const billing = new Running("billing", sandbox("billing"));
      const inventory = new Running("inventory", sandbox("inventory"));
      const { office } = await startOffice(sandbox("office"));
      try {
        await waitForAll([billing, inventory], /running on/, 2);
        const pos = await runService("pos", sandbox("pos"), [
          "--count",
          "30",
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await waitForAll([billing], /Generating invoice for Sale/, 30);
        await waitForAll([inventory], /Inventory update for Sale/, 30);
        assert.equal((await invoices(sandbox("billing"))).length, 30);
        assert.ok((await stock(sandbox("inventory"))).length > 0);
        await eventually(
          async () =>
            (await channel.checkQueue("office_queue")).messageCount === 0,
          "the office to take every event",
        );
        // A sale Billing cannot read goes to its own error queue, through
        // the errors exchange its user may write to.
        channel.publish("sales_exchange", "sale.created", Buffer.from("{"));
        await eventually(
          async () =>
            (await channel.checkQueue("billing_queue_error")).messageCount ===
              1,
          "the sale in billing_queue_error",
        );
        for (
          const line of [...billing.lines, ...inventory.lines, ...office.lines]
        ) {
          assert.doesNotMatch(line, /ACCESS_REFUSED/, line);
        }
      } finally {
        await Promise.all([billing, inventory, office].map((s) => s.stop()));
        await cleanup.close();
      }
    } finally {
      await node.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const pgMissing = ownPostgresMissing();

Deno.test({
  name:
    "least privilege: database setup gives each service a role owning its schema; no other role may read it, the office's included",
  ...processTest,
  ignore: pgMissing !== undefined,
  fn: async () => {
    await withOwnPostgres(async (server) => {
      await withSandbox(async (shared) => {
        const secrets = join(shared.dataDir, "secrets");
        const owner = { ...shared.env, DATABASE_URL: server.url };
        // Billing ran as the owner before: its schema and tables are the owner's.
        const before = new Running("billing", { ...shared, env: owner });
        await before.waitFor(/running on/);
        await before.stop();
        const setup = (args: string[] = []) =>
          runService("database", { ...shared, env: owner }, [
            "setup",
            "--out",
            secrets,
            ...args,
          ]);
        const first = await setup();
        assert.equal(first.code, 0, first.stderr);
        assert.match(first.stdout, /schema "billing": now owned by "billing"/);
        const urls: Record<string, string> = {};
        for (const service of SERVICES) {
          const file = join(secrets, `${service}.database.url`);
          assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
          urls[service] = (await Deno.readTextFile(file)).trim();
          const password = decodeURIComponent(new URL(urls[service]).password);
          assert.ok(!(first.stdout + first.stderr).includes(password));
        }
        const again = await setup();
        assert.match(again.stdout, /: 0 changed, 8 already right/);

        const own = (service: string) => ({
          ...shared,
          env: {
            ...shared.env,
            DATABASE_URL_FILE: join(secrets, `${service}.database.url`),
          },
        });
        const billing = new Running("billing", own("billing"));
        try {
          await billing.waitFor(/running on/);
          const sold = await runService("pos", own("pos"), [
            "--count",
            "5",
            "--quiet",
          ]);
          assert.equal(sold.code, 0, sold.stderr);
          await billing.waitFor(/Generating invoice for Sale/, 5);
        } finally {
          await billing.stop();
        }
        assert.equal((await invoices(own("billing"))).length, 5);
        // deno task status says which role is unsafe.
        const unsafe = async (env: Record<string, string>) => {
          const output = await runService("status", { ...shared, env }, [
            "--json",
          ]);
          assert.equal(output.code, 0, output.stderr);
          return (JSON.parse(output.stdout).Unsafe as string[]).filter((
            line,
          ) => line.includes("database role"));
        };
        assert.match(
          (await unsafe(owner)).join("\n"),
          /The database role "postgres" is a superuser/,
        );
        assert.deepEqual(await unsafe(own("billing").env), []);
        for (const service of ["office", "pos", "inventory"]) {
          const store = await PostgresStore.open(urls[service], service);
          try {
            await assert.rejects(
              store.all("SELECT * FROM billing.invoice"),
              /permission denied for schema billing/,
              service,
            );
          } finally {
            await store.close();
          }
        }
      });
    });
  },
});
