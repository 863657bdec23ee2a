/**
 * Hardening of the processes: what can never be published is set aside,
 * what retrying cannot mend is one line and an exit, and one Ctrl+C drains
 * (a full disk and a broker's message size cap: limits_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { withSandbox } from "./support/sandbox.ts";
import { eventually, openClient } from "./support/amqp.ts";
import { processTest } from "./support/options.ts";
import {
  command,
  projectPath,
  Running,
  runService,
  startConsumers,
} from "./support/process.ts";

/** Runs `rabbitmqctl` on the shared broker; its output. */
async function rabbitmqctl(...args: string[]): Promise<string> {
  const result = await command("rabbitmqctl", args);
  if (result.code !== 0) throw new Error(result.stderr || result.stdout);
  return result.stdout;
}

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
      await t.step(
        "a user who may not declare, on a vhost without the topology",
        async () => {
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
            assert.match(
              lines[0],
              /^inventory: The exchange "\w+" is not on the broker, and this user may not declare it: deno task broker -- setup declares/,
            );
          } finally {
            await rabbitmqctl("delete_user", user);
          }
        },
      );
      await t.step("URLs that can never work", async () => {
        for (
          const [url, line] of [
            [",", /^pos: AMQP_URL is empty$/],
            // Set to nothing: not the default broker.
            ["", /^pos: AMQP_URL is empty$/],
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
