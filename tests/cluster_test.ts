/**
 * A 3-node RabbitMQ cluster of the test's own (`tools/cluster.ts`), quorum
 * queues, and the node that leads the queues killed mid-stream.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { expectedStock, invoices, sentSales, stock } from "./_ledger.ts";
import { processTest } from "./_options.ts";
import { command, Running } from "./_process.ts";
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
      const url = clusterUrl(layout);
      const sandbox = {
        url,
        dataDir,
        env: { AMQP_URL: url, DATA_DIR: dataDir, QUEUE_TYPE: "quorum" },
      };
      const consumers = [
        new Running("billing", sandbox),
        new Running("inventory", sandbox),
      ];
      await Promise.all(consumers.map((c) => c.waitFor(/running on/)));
      const count = 3000;
      const pos = new Running("pos", sandbox, [
        "--simulate",
        "--count",
        String(count),
        "--rate",
        "600",
        "--quiet",
      ]);
      await consumers[0].waitFor(/Generating invoice/, 800, 60_000);
      const leader = await leaderOf(layout, "billing_queue");
      await kill(layout, leader);
      await consumers[0].waitFor(/Generating invoice/, 1500, 60_000);
      await start(layout, leader);
      assert.equal(await pos.exited(), 0, pos.lines.slice(-5).join("\n"));
      await consumers[0].waitFor(/Generating invoice/, count, 120_000);
      await consumers[1].waitFor(/Inventory update/, count, 120_000);
      for (const consumer of consumers) assert.equal(await consumer.stop(), 0);

      const sales = sentSales(sandbox).map((entry) => entry.sale);
      const stored = await invoices(sandbox);
      const keys = (list: { StoreId: string; SaleId: number }[]) =>
        list.map((sale) => `${sale.StoreId}:${sale.SaleId}`);
      const invoiced = new Set(keys(stored));
      const lost = keys(sales).filter((key) => !invoiced.has(key)).length;
      const duplicated = stored.length - invoiced.size;
      const expected = expectedStock(sales);
      const levels = await stock(sandbox);
      const mismatches = levels.filter((level) =>
        level.Quantity !== expected.get(`${level.StoreId}/${level.Sku}`)
      ).length + Math.abs(levels.length - expected.size);
      console.log(
        `cluster leader kill: sales ${sales.length}, killed ${
          nodeName(leader)
        } and started it again, invoices ${stored.length}, lost ${lost}, duplicated ${duplicated}, stock mismatches ${mismatches}`,
      );
      assert.equal(sales.length, count);
      assert.equal(lost, 0);
      assert.equal(duplicated, 0);
      assert.equal(mismatches, 0);
    } finally {
      await down(layout).catch(() => {});
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
