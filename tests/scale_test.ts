/**
 * Scaling out: quorum queues, several brokers in AMQP_URL, several instances
 * of a service.
 */
import assert from "node:assert/strict";
import { withSandbox } from "./support/sandbox.ts";
import { openClient, publishRaw } from "./support/amqp.ts";
import { invoices, stock } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import { command, Running, runService } from "./support/process.ts";
import { DOTNET_MESSAGE } from "../contracts/_fixtures.ts";

/** `rabbitmqctl list_queues` of a virtual host: name, type and arguments. */
async function queues(vhost: string): Promise<Map<string, string>> {
  const { stdout } = await command("rabbitmqctl", [
    "list_queues",
    "-q",
    "--no-table-headers",
    "-p",
    vhost,
    "name",
    "type",
    "arguments",
  ]);
  return new Map(
    stdout.trim().split("\n").map((line) => {
      const [name, ...rest] = line.split("\t");
      return [name, rest.join(" ")];
    }),
  );
}

Deno.test(
  "scale: QUEUE_TYPE=quorum, the same guarantees on quorum queues",
  processTest,
  async (t) => {
    await withSandbox(async (base) => {
      const sandbox = { ...base, env: { ...base.env, QUEUE_TYPE: "quorum" } };
      const vhost = new URL(sandbox.url).pathname.slice(1);
      const consumers = [
        new Running("billing", sandbox),
        new Running("inventory", sandbox),
      ];
      await Promise.all(consumers.map((c) => c.waitFor(/running on/)));
      await t.step("queues and error queues are quorum queues", async () => {
        const declared = await queues(vhost);
        for (const queue of ["billing_queue", "inventory_queue"]) {
          assert.match(declared.get(queue) ?? "", /^quorum .*x-delivery-limit/);
          assert.match(
            declared.get(queue) ?? "",
            new RegExp(`x-dead-letter-routing-key.*${queue}_error`),
          );
          assert.match(declared.get(`${queue}_error`) ?? "", /^quorum/);
        }
      });
      await t.step("N sales, N invoices, exact stock", async () => {
        const pos = await runService("pos", sandbox, [
          "--count",
          "200",
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await consumers[0].waitFor(/Generating invoice/, 200);
        await consumers[1].waitFor(/Inventory update/, 200);
      });
      await t.step(
        "a poison message in a quorum error queue survives listing",
        async () => {
          const client = await openClient(sandbox);
          await publishRaw(client, "not json");
          await client.close();
          await consumers[0].waitFor(/Rejected a message/);
          for (let i = 0; i < 3; i++) {
            const listed = await runService("errors", sandbox, [
              "list",
              "--queue",
              "billing_queue_error",
            ]);
            assert.match(
              listed.stdout,
              /1 message\(s\) in "billing_queue_error"/,
            );
          }
        },
      );
      await t.step(
        "a service declaring classic against them: one line, exit 1",
        async () => {
          const classic = await runService("billing", {
            ...sandbox,
            env: { ...sandbox.env, QUEUE_TYPE: "classic" },
          }, []);
          assert.equal(classic.code, 1);
          assert.equal(
            classic.stderr.trim().split("\n").length,
            1,
            classic.stderr,
          );
          assert.match(
            classic.stderr,
            /^billing: "billing_queue" exists with other arguments than QUEUE_TYPE=classic declares .*: PRECONDITION_FAILED - inequivalent arg/,
          );
        },
      );
      for (const consumer of consumers) assert.equal(await consumer.stop(), 0);
      assert.equal((await invoices(sandbox)).length, 200);
      assert.ok((await stock(sandbox)).length > 0);
    });
  },
);

Deno.test(
  "scale: the .NET message on quorum queues",
  processTest,
  async () => {
    await withSandbox(async (base) => {
      const sandbox = { ...base, env: { ...base.env, QUEUE_TYPE: "quorum" } };
      const billing = new Running("billing", sandbox);
      await billing.waitFor(/running on/);
      const client = await openClient(sandbox);
      await publishRaw(client, DOTNET_MESSAGE);
      await client.close();
      await billing.waitFor(/Generating invoice for Sale #10001/);
      assert.equal(await billing.stop(), 0);
    });
  },
);
