/**
 * The benchmark: the real services as separate processes, under their own
 * permission sets, against the broker, in a virtual host of its own that is
 * removed afterwards. It pushes sales through POS, outbox, broker, Billing
 * and Inventory to committed SQLite rows, and measures, in the same run:
 *
 * - sustained end-to-end sales/s (first sale to last commit in both services);
 * - publish-to-commit latency (p50, p95, p99) at fixed offered loads and at
 *   full speed;
 * - each service's peak RSS and its time from process start to ready;
 * - the same durable work written by hand (bench/hand.ts), at full speed in
 *   turns with the pipeline and at 1,000/s, and once more with zod loaded
 *   for its memory;
 * - raw amqplib with the same durability, and the article's
 *   connection-per-sale pattern, and the pipeline's ratio to each.
 *
 * It prints a table and each target met or not, and writes JSON and an SVG
 * chart to data/bench/ (bench/results/, which docs/performance.md shows, with
 * `--save`). `--check` exits 1 when a target is not met.
 *
 *     deno task bench [-- --sales 20000 --loads 500,1000,2000 --seconds 5 --article 200]
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";
import { errorMessage, UsageError } from "../lib/core/mod.ts";
import { DEMO_CATALOG, parseCatalog } from "../contracts/catalog.ts";
import { Decimal } from "../contracts/decimal.ts";
import { encodeSale } from "../contracts/sale.ts";
import { ensureBroker } from "../lib/messaging/mod.ts";
import { readEnv, resolveConfig, wholeNumber } from "../lib/config/mod.ts";
import { runMain, VERSION } from "../lib/cli/mod.ts";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { withSandbox } from "../tests/support/sandbox.ts";
import {
  articleBaseline,
  cleanBaselines,
  handBaseline,
  mibOfKiB,
  rawBaseline,
} from "./raw.ts";
import { AS_USER, AS_USER_TIMED, Timed } from "./timed.ts";
import { Latency, median, percentiles } from "./stats.ts";
import {
  PipelineRun,
  runPipeline,
  startConsumers,
  stockUp,
} from "./pipeline.ts";
import { chart } from "./chart.ts";
import { ScaleRun, scaleRun, scaleTable } from "./scale.ts";
import { soakRun, soakTable } from "./soak.ts";
import { profileRun, profileTable } from "./profile.ts";
import {
  BenchResult,
  brokerVersion,
  FullPair,
  machine,
  table,
} from "./report.ts";

const HELP = `Benchmark: the pipeline (POS, Billing, Inventory as processes, on
their own virtual host) against raw amqplib and the article's pattern, in one
run; then scale-out runs on PostgreSQL and quorum queues.

Usage:
  deno task bench [-- options]

Options:
  --sales <n>        sales at full speed, and for the baselines; default 20000
  --loads <list>     offered loads in sales/s, comma-separated; default 500,1000,2000
  --seconds <s>      seconds at each offered load; default 5
  --article <n>      sales for the article's pattern; default 200
  --scale-sales <n>  sales per scale-out run, 0 for none; default 5000
  --latency-runs <n> runs at 1,000 sales/s for the p99 target; default 5
  --pairs <n>        full-speed runs, each followed by the hand-written one;
                     the ratio is the median pair's; default 5
  --out <dir>        where to write latest.json and latest.svg; default data/bench/
  --save             write them to bench/results/, which docs/performance.md shows
  --check            exit 1 unless every target is met
  --profile          only: the pipeline at full speed under --cpu-prof; CPU
                     per sale of each process and where it goes
  --rate <n>         with --profile: the sales rung up at n a second, as in
                     the latency runs, instead of at full speed
  --soak <minutes>   only: the pipeline at 1,000 sales/s for that long with a
                     retention of 1m; RSS and databases each minute
  -h, --help         show this help
  --version          show the version`;

async function main(): Promise<number> {
  const { values } = (() => {
    try {
      return parseArgs({
        // `deno task bench -- --sales 5000` passes the "--" along.
        args: Deno.args.filter((arg) => arg !== "--"),
        options: {
          sales: { type: "string", default: "20000" },
          loads: { type: "string", default: "500,1000,2000" },
          seconds: { type: "string", default: "5" },
          article: { type: "string", default: "200" },
          "scale-sales": { type: "string", default: "5000" },
          "latency-runs": { type: "string", default: "5" },
          pairs: { type: "string", default: "5" },
          out: { type: "string" },
          save: { type: "boolean" },
          check: { type: "boolean" },
          profile: { type: "boolean" },
          rate: { type: "string" },
          soak: { type: "string" },
          help: { type: "boolean", short: "h" },
          version: { type: "boolean" },
        },
      });
    } catch (error) {
      throw new UsageError(`${errorMessage(error)}: see --help`);
    }
  })();
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    console.log(`ShoppingApp ${VERSION} (bench)`);
    return 0;
  }
  const out = values.out ??
    fileURLToPath(
      new URL(values.save ? "./results/" : "../data/bench/", import.meta.url),
    );
  for (
    const name of [
      "sales",
      "seconds",
      "article",
      "scale-sales",
      "latency-runs",
      "pairs",
    ] as const
  ) {
    wholeNumber(name.replace("-", " "), values[name], {
      min: name === "scale-sales" ? 0 : 1,
      max: 10_000_000,
    });
  }
  const sales = Number(values.sales);
  if (values.soak !== undefined) {
    const minutes = wholeNumber("soak", values.soak, { min: 1, max: 600 });
    const { url } = resolveConfig({}, readEnv);
    await ensureBroker(url);
    const soak = await soakRun(minutes, 1000);
    console.log(soakTable(soak));
    await Deno.mkdir(out, { recursive: true });
    await Deno.writeTextFile(
      join(out, "soak.json"),
      JSON.stringify(soak, null, 2) + "\n",
    );
    return 0;
  }
  if (values.profile) {
    const { url } = resolveConfig({}, readEnv);
    await ensureBroker(url);
    const rate = values.rate === undefined
      ? undefined
      : wholeNumber("rate", values.rate, { min: 1, max: 100_000 });
    if (rate !== undefined) console.log(`Sales rung up at ${rate} a second.`);
    console.log(profileTable(await profileRun(sales, rate)));
    return 0;
  }
  const loads = values.loads.split(",").map(Number).filter((n) => n > 0);
  const seconds = Number(values.seconds);
  const { url } = resolveConfig({}, readEnv);
  await ensureBroker(url);
  const broker = await brokerVersion(url);
  console.error(`Benchmark on ${machine()}, ${broker}`);

  let result: BenchResult | undefined;
  await withSandbox(async (sandbox) => {
    await stockUp(sandbox);
    // Readiness: each service from process start to its first word of ready.
    const posStart = performance.now();
    const probe = new Timed("pos", sandbox, {
      args: ["--count", "0", "--quiet"],
    });
    await probe.exited();
    const posReady = performance.now() - posStart;
    // Consumers' peaks are read when they stop: no sampling during runs.
    // Started as a user starts them: deno task, the launcher, the service.
    // The paced runs are timed at the commits, which JSON lines tell.
    const { consumers, readyMs } = await startConsumers(
      sandbox,
      AS_USER_TIMED,
    );

    let posRss = probe.peakRssKiB;
    const loadRuns: PipelineRun[] = [];
    for (const rate of loads) {
      console.error(`Pipeline at ${rate} sales/s offered for ${seconds} s ...`);
      const { run, posRssKiB } = await runPipeline(sandbox, consumers, {
        count: rate * seconds,
        rate,
      });
      posRss = Math.max(posRss, posRssKiB);
      loadRuns.push(run);
    }
    const latencyRuns: PipelineRun[] = [];
    const handLatencyRuns: Latency[] = [];
    for (let i = 0; i < Number(values["latency-runs"]); i++) {
      console.error(
        `Latency run ${
          i + 1
        } at 1000 sales/s for ${seconds} s, then the hand-written version ...`,
      );
      latencyRuns.push(
        (await runPipeline(sandbox, consumers, {
          count: 1000 * seconds,
          rate: 1000,
        })).run,
      );
      // The yardstick of the tail: the same durable work, written plainly,
      // at the same pace on the same machine, timed in its consumers.
      const paced = await handBaseline(sandbox.url, {
        sales: 1000 * seconds,
        rate: 1000,
      });
      handLatencyRuns.push(percentiles(paced.latencies ?? []));
    }
    for (const consumer of consumers) await consumer.stop();
    // At full speed they write text lines, as they do unless told: a JSON
    // line per sale costs them more.
    // Warmed up as long as one pair's run: with 2,000 sales only, the
    // first pair ran at 0.78 to 0.82 of the hand-written version while the
    // others ran at 0.85 to 0.91.
    const fast = (await startConsumers(sandbox, AS_USER, sales)).consumers;
    // The machine's speed drifts over seconds: the pipeline and the
    // hand-written version take turns, and the median pair is the one told.
    const pairs: FullPair[] = [];
    for (let i = 0; i < Number(values.pairs); i++) {
      console.error(
        `Pipeline at full speed, ${sales} sales, then the hand-written version (pair ${
          i + 1
        }) ...`,
      );
      const full = await runPipeline(sandbox, fast, { count: sales });
      posRss = Math.max(posRss, full.posRssKiB);
      const hand = await handBaseline(sandbox.url, { sales });
      pairs.push({ full, hand, ratio: full.run.perSecond / hand.perSecond });
    }
    const ratios = pairs.map((pair) => pair.ratio);
    const { full, hand } = pairs[ratios.indexOf(median(ratios))];
    for (const consumer of fast) await consumer.stop();
    // Each service's peak over both of its runs.
    const [billing, inventory] = [0, 1].map((i) =>
      fast[i].peakRssKiB > consumers[i].peakRssKiB ? fast[i] : consumers[i]
    );

    // The plain version's memory with only zod added, once the pipeline's
    // consumers are gone: what the services' validator costs by itself.
    console.error(
      `The hand-written version with zod loaded, ${sales} sales ...`,
    );
    const handWithZod = await handBaseline(sandbox.url, {
      sales,
      loadZod: true,
    });

    // The baselines carry a sale of the same shape the POS sends.
    const catalog = parseCatalog(
      await Deno.readTextFile(DEMO_CATALOG),
      "catalog.csv",
    );
    const items = [...catalog.products.values()].slice(0, 3).map((product) => ({
      Sku: product.sku,
      Quantity: 2,
      UnitPrice: product.unitPrice,
    }));
    const body: Buffer = encodeSale({
      SaleId: 10000,
      StoreId: "NEPAL-01",
      Items: items,
      Timestamp: new Date().toISOString(),
      TotalAmount: items.reduce(
        (sum, item) => sum.add(item.UnitPrice.times(2)),
        Decimal.of(0n),
      ),
    });
    console.error(`Raw amqplib baseline, ${sales} sales ...`);
    const raw = await rawBaseline(sandbox.url, { sales, body });
    console.error(
      `Article baseline, ${values.article} sales, a connection each ...`,
    );
    const article = await articleBaseline(sandbox.url, {
      sales: Number(values.article),
      body,
    });
    await cleanBaselines(sandbox.url);

    const p99s = latencyRuns.map((run) => run.latency.p99);
    const [medianP99, worstP99] = [median(p99s), Math.max(...p99s)];
    const handP99s = handLatencyRuns.map((run) => run.p99);
    const [handMedianP99, handWorstP99] = [
      median(handP99s),
      Math.max(...handP99s),
    ];
    const services = {
      pos: { peakRssMiB: mibOfKiB(posRss), readyMs: Math.round(posReady) },
      billing: {
        peakRssMiB: mibOfKiB(billing.peakRssKiB),
        chainPeakRssMiB: mibOfKiB(billing.chainPeakKiB),
        readyMs: Math.round(readyMs[0]),
      },
      inventory: {
        peakRssMiB: mibOfKiB(inventory.peakRssKiB),
        chainPeakRssMiB: mibOfKiB(inventory.chainPeakKiB),
        readyMs: Math.round(readyMs[1]),
      },
    };
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const toHand = ratio(full.run.perSecond, hand.perSecond);
    result = {
      date: new Date().toISOString(),
      machine: `${machine()}, ${broker} on loopback`,
      sales,
      pipeline: { full: full.run, loads: loadRuns, latencyRuns },
      handLatencyRuns,
      pairs: pairs.map((pair) => ({
        pipeline: Math.round(pair.full.run.perSecond),
        hand: Math.round(pair.hand.perSecond),
        ratio: ratio(pair.full.run.perSecond, pair.hand.perSecond),
      })),
      baselines: { raw, hand, handWithZod, article },
      ratios: {
        pipelineToRaw: ratio(full.run.perSecond, raw.perSecond),
        pipelineToHand: toHand,
        pipelineToArticle: ratio(full.run.perSecond, article.perSecond),
      },
      services,
      targets: {
        [`pipeline / hand-written sales/s, median of ${pairs.length} pairs`]: {
          value: toHand,
          target: ">= 0.9",
          met: full.run.perSecond >= 0.9 * hand.perSecond,
        },
        [`median p99 at 1,000/s over ${p99s.length} runs, ms`]: {
          value: medianP99,
          target: "<= 15",
          met: medianP99 <= 15,
          hand: handMedianP99,
        },
        [`median p99 at 1,000/s against the hand-written version's in the same runs, ms`]:
          {
            value: medianP99,
            target: "<= hand-written",
            met: medianP99 <= handMedianP99,
            hand: handMedianP99,
          },
        [`worst p99 at 1,000/s over ${p99s.length} runs, ms`]: {
          value: worstP99,
          target: "<= 25",
          met: worstP99 <= 25,
          hand: handWorstP99,
        },
        "peak RSS of the largest service, MiB": {
          value: Math.max(...Object.values(services).map((s) => s.peakRssMiB)),
          target: "<= 80",
          met: Object.values(services).every((s) => s.peakRssMiB <= 80),
          hand: Math.max(...Object.values(hand.peakRssMiB ?? {})),
          handWithZod: Math.max(
            ...Object.values(handWithZod.peakRssMiB ?? {}),
          ),
        },
        "peak RSS of deno task and its service together, MiB": {
          value: Math.max(
            services.billing.chainPeakRssMiB,
            services.inventory.chainPeakRssMiB,
          ),
          target: "<= 100",
          met: services.billing.chainPeakRssMiB <= 100 &&
            services.inventory.chainPeakRssMiB <= 100,
        },
        "slowest ready, ms": {
          value: Math.max(...Object.values(services).map((s) => s.readyMs)),
          target: "<= 500",
          met: Object.values(services).every((s) => s.readyMs <= 500),
        },
      },
    };
  });
  if (!result) return 1;
  if (Number(values["scale-sales"]) > 0) {
    const scaleSales = Number(values["scale-sales"]);
    const runs: ScaleRun[] = [];
    for (
      const config of [
        { store: "sqlite", queueType: "classic", instances: 1 },
        { store: "sqlite", queueType: "quorum", instances: 1 },
        { store: "postgres", queueType: "classic", instances: 1 },
        { store: "postgres", queueType: "classic", instances: 2 },
        { store: "postgres", queueType: "quorum", instances: 2 },
      ] as const
    ) {
      console.error(
        `Scale-out: ${config.store}, ${config.queueType}, ${config.instances} of each consumer, ${scaleSales} sales ...`,
      );
      runs.push(await scaleRun({ ...config, sales: scaleSales }));
    }
    result.scaleOut = runs;
  }
  await Deno.mkdir(out, { recursive: true });
  const json = JSON.stringify(result, null, 2);
  await Deno.writeTextFile(join(out, "latest.json"), json + "\n");
  await Deno.writeTextFile(join(out, "latest.svg"), chart(result));
  console.log(table(result));
  if (result.scaleOut) console.log(scaleTable(result.scaleOut));
  const targets = Object.entries(result.targets);
  const missed = targets.filter(([, t]) => !t.met);
  console.log(
    [
      "",
      `Targets: ${targets.length - missed.length} of ${targets.length} met.`,
      ...targets.map(([name, t]) =>
        `  ${
          t.met ? "met    " : "NOT MET"
        }  ${name}: ${t.value} (target ${t.target}${
          t.hand === undefined ? "" : `; hand-written: ${t.hand}`
        }${
          t.handWithZod === undefined
            ? ""
            : `, with zod loaded: ${t.handWithZod}`
        })`
      ),
    ].join("\n"),
  );
  console.error(`Wrote ${join(out, "latest.json")} and latest.svg`);
  return values.check && missed.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  let code = 1;
  const failed = await runMain("bench", async () => {
    code = await main();
  });
  Deno.exit(failed || code);
}
