/**
 * The scaling runs: several Billings and Inventories on one queue, at the rate
 * that keeps up.
 *
 * @module
 */
import { withDatabase, withSandbox } from "../tests/support/sandbox.ts";
import { Timed } from "./timed.ts";
import { brokerPid, cpuSeconds } from "./stats.ts";
import { stockUp } from "./pipeline.ts";

/** One scale-out configuration, measured. */
export interface ScaleRun {
  store: "sqlite" | "postgres";
  queueType: "classic" | "quorum";
  instances: number;
  sales: number;
  perSecond: number;
  /** CPU-seconds per 1,000 sales, each process kind summed over its instances. */
  cpuPer1000: { billing: number; inventory: number; broker: number };
}

/**
 * N sales at full speed through `instances` Billing and Inventory processes,
 * on a store and a queue type: throughput, and CPU per sale per process, so
 * that scaling on more cores can be projected.
 */
export async function scaleRun(
  config: Omit<ScaleRun, "perSecond" | "cpuPer1000">,
): Promise<ScaleRun> {
  let run: ScaleRun | undefined;
  await withSandbox(async (base) => {
    const go = async (databaseUrl?: string) => {
      const sandbox = {
        ...base,
        env: {
          ...base.env,
          QUEUE_TYPE: config.queueType,
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        },
      };
      await stockUp(sandbox);
      const consumers = Array.from(
        { length: config.instances },
        () => [
          new Timed("billing", sandbox, { sampleMs: 3_600_000 }),
          new Timed("inventory", sandbox, { sampleMs: 3_600_000 }),
        ],
      ).flat();
      await Promise.all(consumers.map((consumer) => consumer.ready()));
      const broker = await brokerPid();
      const cpu = async () =>
        await Promise.all([...consumers.map((c) => c.pid), broker ?? 0].map(
          cpuSeconds,
        ));
      const before = await cpu();
      const started = performance.now();
      const pos = new Timed("pos", sandbox, {
        args: ["--count", String(config.sales), "--quiet"],
        sampleMs: 3_600_000,
      });
      if (await pos.exited() !== 0) throw new Error("The POS failed");
      const committed = (kind: number) =>
        consumers.filter((_, i) => i % 2 === kind).reduce(
          (sum, consumer) => sum + consumer.committed.size,
          0,
        );
      while (committed(0) < config.sales || committed(1) < config.sales) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const seconds = (performance.now() - started) / 1000;
      const after = await cpu();
      for (const consumer of consumers) await consumer.stop();
      const used = after.map((value, i) => value - before[i]);
      const per1000 = (value: number) =>
        Math.round((value / config.sales) * 1000 * 100) / 100;
      const sum = (kind: number) =>
        used.slice(0, consumers.length).filter((_, i) => i % 2 === kind)
          .reduce((a, b) => a + b, 0);
      run = {
        ...config,
        perSecond: Math.round(config.sales / seconds),
        cpuPer1000: {
          billing: per1000(sum(0)),
          inventory: per1000(sum(1)),
          broker: per1000(used.at(-1) ?? 0),
        },
      };
    };
    if (config.store === "postgres") {
      const made = await withDatabase(go);
      if (!made) throw new Error("No PostgreSQL server to measure on");
    } else {
      await go();
    }
  });
  return run!;
}

/** The scale-out runs as a Markdown table. */
export function scaleTable(runs: ScaleRun[]): string {
  return [
    "",
    "| Store | Queues | Instances | Sales/s | CPU-s/1000 Billing | Inventory | Broker |",
    "| ----- | ------ | --------: | ------: | -----------------: | --------: | -----: |",
    ...runs.map((run) =>
      `| ${run.store} | ${run.queueType} | ${run.instances} | ${run.perSecond} | ${run.cpuPer1000.billing} | ${run.cpuPer1000.inventory} | ${run.cpuPer1000.broker} |`
    ),
  ].join("\n");
}
