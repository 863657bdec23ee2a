/**
 * One run of the pipeline: POS, Billing and Inventory as processes in a
 * sandbox of their own, at full speed or at a rate.
 *
 * @module
 */
import { DEMO_CATALOG, parseCatalog } from "../contracts/catalog.ts";
import { DEFAULT_STORE } from "../contracts/sale.ts";
import { runService } from "../tools/_process.ts";
import { join } from "node:path";
import { readOutbox } from "../lib/store/mod.ts";
import { type Sandbox } from "../tests/support/sandbox.ts";
import { Timed, TimedOptions } from "./timed.ts";
import { Latency, percentiles } from "./stats.ts";

/** One run of the pipeline: N sales at a rate, or as fast as it goes. */
export interface PipelineRun {
  offered: number | "full";
  sales: number;
  seconds: number;
  perSecond: number;
  latency: Latency;
}

/**
 * Stocks every SKU of the demo catalog deep in the store the POS sells
 * from, as a shop opens with goods on its shelves: from empty, each fresh
 * Inventory wrote a line per SKU as it went below zero, amid the results.
 */
export async function stockUp(sandbox: Sandbox): Promise<void> {
  const catalog = parseCatalog(
    await Deno.readTextFile(DEMO_CATALOG),
    "catalog.csv",
  );
  const file = join(sandbox.dataDir, "opening_stock.csv");
  const rows = [...catalog.products.values()].map((product) =>
    `${DEFAULT_STORE},${product.sku},1000000000`
  );
  await Deno.writeTextFile(
    file,
    ["store,sku,quantity", ...rows, ""].join("\n"),
  );
  const { code, stderr } = await runService("inventory", sandbox, [
    "stock",
    "load",
    file,
  ]);
  if (code !== 0) {
    throw new Error(`Loading the opening stock failed: ${stderr.trim()}`);
  }
}

/** Billing and Inventory, ready and warmed up (`warmUp` sales, not counted). */
export async function startConsumers(
  sandbox: Sandbox,
  options: TimedOptions,
  warmUp = 2000,
): Promise<{ consumers: Timed[]; readyMs: number[] }> {
  const consumers = [
    new Timed("billing", sandbox, options),
    new Timed("inventory", sandbox, options),
  ];
  const readyMs = await Promise.all(consumers.map((c) => c.ready()));
  // The JIT compiles the hot paths first.
  await runPipeline(sandbox, consumers, { count: warmUp });
  return { consumers, readyMs };
}

/**
 * Runs the POS for `count` sales and times each from the moment it was rung
 * up (its Timestamp, just before publishing) to the later of its commits in
 * Billing and Inventory: the time its commit line says, where the lines are
 * JSON, or the line's arrival here.
 */
export async function runPipeline(
  sandbox: Sandbox,
  consumers: Timed[],
  options: { count: number; rate?: number },
): Promise<{ run: PipelineRun; posRssKiB: number }> {
  const outbox = join(sandbox.dataDir, "pos", "pos.db");
  const before = readOutbox(outbox).length;
  // Consumers started later than the outbox have seen less of it.
  const seen = consumers.map((consumer) => consumer.committed.size);
  const args = ["--count", String(options.count), "--quiet"];
  if (options.rate) args.push("--rate", String(options.rate));
  // performance.now() and Date.now() on one clock: the POS stamps wall time.
  const offset = Date.now() - performance.now();
  // Its peak is read while it runs, once a second: a sample starts a
  // process, which takes the cores from the run at full speed and delays
  // sales in the paced ones (the hand-written version reports its own).
  const pos = new Timed("pos", sandbox, { args, sampleMs: 1000 });
  const code = await pos.exited();
  if (code !== 0) throw new Error(`The POS exited with ${code}`);
  // The outbox is read once the consumers are done: read while they work,
  // its rows would take CPU from them on the same cores.
  await Promise.all(
    consumers.map((consumer, i) => consumer.waitFor(seen[i] + options.count)),
  );
  const sales = readOutbox(outbox).slice(before).map((entry) =>
    JSON.parse(new TextDecoder().decode(entry.body))
  );
  // Timed at the commit where the consumers say when (JSON lines), as the
  // hand-written version is; at the line's arrival here otherwise.
  const stamped = consumers.every((consumer) => consumer.stamped);
  const latencies: number[] = [];
  let first = Infinity;
  let last = 0;
  for (const sale of sales) {
    const rung = Date.parse(sale.Timestamp) - offset;
    const committed = Math.max(
      ...consumers.map((consumer) =>
        stamped
          ? (consumer.committedAt.get(sale.SaleId) ?? NaN) - offset
          : consumer.committed.get(sale.SaleId) ?? NaN
      ),
    );
    first = Math.min(first, rung);
    last = Math.max(last, committed);
    latencies.push(committed - rung);
  }
  const seconds = (last - first) / 1000;
  return {
    run: {
      offered: options.rate ?? "full",
      sales: sales.length,
      seconds: Math.round(seconds * 1000) / 1000,
      perSecond: Math.round(sales.length / seconds),
      latency: percentiles(latencies),
    },
    posRssKiB: pos.peakRssKiB,
  };
}
