/**
 * The benchmark's result and its table: the machine, the broker, each run's
 * figures and the targets.
 *
 * @module
 */
import { connectBroker } from "../lib/messaging/mod.ts";
import { type BaselineResult } from "./raw.ts";
import { Latency } from "./stats.ts";
import { PipelineRun, runPipeline } from "./pipeline.ts";
import { ScaleRun } from "./scale.ts";

/** A full-speed run of the pipeline and the hand-written run after it. */
export interface FullPair {
  full: Awaited<ReturnType<typeof runPipeline>>;
  hand: BaselineResult;
  ratio: number;
}

export interface BenchResult {
  date: string;
  machine: string;
  sales: number;
  pipeline: {
    full: PipelineRun;
    loads: PipelineRun[];
    latencyRuns: PipelineRun[];
  };
  /** Each full-speed run and the hand-written run after it. */
  pairs: { pipeline: number; hand: number; ratio: number }[];
  baselines: {
    raw: BaselineResult;
    hand: BaselineResult;
    /** The hand-written version with zod loaded and unused: for its memory. */
    handWithZod: BaselineResult;
    article: BaselineResult;
  };
  ratios: {
    pipelineToRaw: number;
    pipelineToHand: number;
    pipelineToArticle: number;
  };
  services: Record<
    string,
    { peakRssMiB: number; chainPeakRssMiB?: number; readyMs: number }
  >;
  /** The hand-written version at 1,000/s, as many runs as the pipeline's. */
  handLatencyRuns: Latency[];
  /** Each target: what the pipeline measured, and the hand-written version where it compares. */
  targets: Record<
    string,
    {
      value: number;
      target: string;
      met: boolean;
      hand?: number;
      /** The hand-written version's with zod loaded, for memory. */
      handWithZod?: number;
    }
  >;
  scaleOut?: ScaleRun[];
}

export function machine(): string {
  let cpu = "unknown CPU";
  try {
    // Deno reads /proc only with -A: ask cat.
    const { stdout } = new Deno.Command("cat", { args: ["/proc/cpuinfo"] })
      .outputSync();
    cpu = /model name\s*:\s*(.*)/.exec(new TextDecoder().decode(stdout))
      ?.[1] ?? cpu;
  } catch {
    // Not Linux.
  }
  const cores = navigator.hardwareConcurrency;
  return `${cores} cores, ${cpu}, Deno ${Deno.version.deno}`;
}

export async function brokerVersion(url: string): Promise<string> {
  const connection = await connectBroker({ url, name: "bench-version" });
  const properties = (connection.connection as unknown as {
    serverProperties: { product?: string; version?: string };
  }).serverProperties;
  await connection.close();
  return `${properties.product ?? "broker"} ${properties.version ?? ""}`.trim();
}

export function table(result: BenchResult): string {
  const rows = [
    "| Run | Sales | Sales/s | p50 ms | p95 ms | p99 ms | p99.9 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...[
      ...result.pipeline.loads,
      ...result.pipeline.latencyRuns.map((run, i) => ({
        ...run,
        label: `pipeline, 1000/s offered (latency run ${i + 1})`,
      })),
      result.pipeline.full,
    ].map((run) =>
      `| ${
        "label" in run
          ? run.label
          : run.offered === "full"
          ? "pipeline, full speed"
          : `pipeline, ${run.offered}/s offered`
      } | ${run.sales} | ${run.perSecond} | ${run.latency.p50} | ${run.latency.p95} | ${run.latency.p99} | ${run.latency.p999} |`
    ),
    ...result.handLatencyRuns.map((run, i) =>
      `| hand-written, 1000/s offered (latency run ${
        i + 1
      }) | | | ${run.p50} | ${run.p95} | ${run.p99} | ${run.p999} |`
    ),
    // Every row has the table's seven cells.
    `| hand-written, same durable work | ${result.baselines.hand.sales} | ${
      Math.round(result.baselines.hand.perSecond)
    } | | | | |`,
    `| raw amqplib (same durability) | ${result.baselines.raw.sales} | ${
      Math.round(result.baselines.raw.perSecond)
    } | | | | |`,
    `| article (connection per sale) | ${result.baselines.article.sales} | ${
      Math.round(result.baselines.article.perSecond)
    } | | | | |`,
  ];
  const handPeaks = result.baselines.hand.peakRssMiB ?? {};
  const zodPeaks = result.baselines.handWithZod.peakRssMiB ?? {};
  const services = [
    "",
    "| Service | Peak RSS MiB | With its deno task, MiB | Hand-written, MiB | Hand-written with zod, MiB | Ready ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...Object.entries(result.services).map(([name, s]) =>
      `| ${name} | ${s.peakRssMiB} | ${s.chainPeakRssMiB ?? ""} | ${
        handPeaks[name] ?? ""
      } | ${zodPeaks[name] ?? ""} | ${s.readyMs} |`
    ),
  ];
  const pairs = [
    "",
    "| Full-speed pair | Pipeline sales/s | Hand-written sales/s | Ratio |",
    "| --- | ---: | ---: | ---: |",
    ...result.pairs.map((pair, i) =>
      `| ${i + 1} | ${pair.pipeline} | ${pair.hand} | ${pair.ratio} |`
    ),
  ];
  const targets = [
    "",
    "| Target | Measured | Hand-written | Met |",
    "| --- | ---: | ---: | :---: |",
    ...Object.entries(result.targets).map(([name, t]) =>
      `| ${name} (${t.target}) | ${t.value} | ${t.hand ?? ""}${
        t.handWithZod === undefined ? "" : ` (with zod: ${t.handWithZod})`
      } | ${t.met ? "yes" : "no"} |`
    ),
  ];
  return [
    `Pipeline / hand-written: ${result.ratios.pipelineToHand}x, pipeline / raw: ${result.ratios.pipelineToRaw}x, pipeline / article: ${result.ratios.pipelineToArticle}x`,
    "",
    ...rows,
    ...pairs,
    ...services,
    ...targets,
  ].join("\n");
}
