/**
 * A 3-node RabbitMQ cluster of the test's own (`tools/cluster.ts`), quorum
 * queues, and the node that leads the queues killed mid-stream.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withDatabase } from "./support/stores.ts";
import { reconcile } from "./support/ledger.ts";
import { processTest } from "./support/options.ts";
import {
  command,
  Running,
  startConsumers,
  waitForAll,
} from "./support/process.ts";
import {
  type ClusterLayout,
  clusterUrl,
  down,
  kill,
  nodeName,
  start,
  up,
} from "../tools/cluster.ts";

/** Why this machine cannot run a cluster, if it cannot. */
async function noCluster(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "the nodes are started as root";
  const { code } = await command("test", [
    "-x",
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
  ]);
  return code === 0 ? undefined : "rabbitmq-server is not installed";
}

const skip = await noCluster();

/** The node leading a quorum queue, from node 1. */
async function leaderOf(layout: ClusterLayout, queue: string): Promise<number> {
  const { stdout } = await command("runuser", [
    "-u",
    "rabbitmq",
    "--",
    "env",
    `HOME=${join(layout.dir, "home")}`,
    "/usr/lib/rabbitmq/bin/rabbitmqctl",
    "-n",
    nodeName(1),
    "list_queues",
    "-q",
    "--no-table-headers",
    "name",
    "leader",
  ]);
  const line = stdout.split("\n").find((row) => row.startsWith(`${queue}\t`));
  const match = /rmq(\d)@/.exec(line ?? "");
  if (!match) throw new Error(`No leader for ${queue}: ${stdout}`);
  return Number(match[1]);
}

Deno.test({
  name: `cluster: the queues' leader killed mid-stream on quorum queues${
    skip ? ` (skipped: ${skip})` : ""
  }`,
  ignore: skip !== undefined,
  ...processTest,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "shop-cluster-" });
    const layout = await up({
      dir,
      nodes: 3,
      port: 6100 + Math.floor(Math.random() * 800),
    });
    const dataDir = await Deno.makeTempDir({ prefix: "shop-test-" });
    try {
      const ran = await withDatabase(async (databaseUrl) => {
        const url = clusterUrl(layout);
        const sandbox = {
          url,
          dataDir,
          env: {
            AMQP_URL: url,
            DATA_DIR: dataDir,
            DATABASE_URL: databaseUrl,
            QUEUE_TYPE: "quorum",
          },
        };
        const consumers = await startConsumers(sandbox, { instances: 2 });
        const count = 3000;
        const tills = ["A", "B"].map((till) =>
          new Running("pos", sandbox, [
            "--count",
            String(count / 2),
            "--rate",
            "300",
            "--till",
            till,
            "--quiet",
          ])
        );
        const billings = consumers.slice(0, 2);
        await waitForAll(billings, /Generating invoice/, 800);
        const leader = await leaderOf(layout, "billing_queue");
        await kill(layout, leader);
        await waitForAll(billings, /Generating invoice/, 1500);
        await start(layout, leader);
        for (const till of tills) {
          assert.equal(await till.exited(), 0, till.lines.slice(-5).join("\n"));
        }
        await waitForAll(billings, /Generating invoice/, count);
        await waitForAll(consumers.slice(2), /Inventory update/, count);
        for (const consumer of consumers) {
          assert.equal(await consumer.stop(), 0);
        }
        const figures = await reconcile(
          sandbox,
          databaseUrl,
          `cluster, quorum, postgres, 2 tills + 2 + 2, killed ${
            nodeName(leader)
          } and started it again`,
        );
        assert.deepEqual(figures, {
          sales: count,
          lost: 0,
          duplicated: 0,
          gapless: true,
          mismatches: 0,
        });
      });
      assert.ok(ran, "no database could be made");
    } finally {
      await down(layout).catch(() => {});
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
