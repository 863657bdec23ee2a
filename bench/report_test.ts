import assert from "node:assert/strict";
import { type BenchResult, table } from "./report.ts";

const latency = { p50: 5, p95: 8, p99: 12, p999: 20 };
const run = (offered: number | "full") => ({
  offered,
  sales: 1000,
  perSecond: 900,
  latency,
});
const baseline = { sales: 1000, perSecond: 1000 };

Deno.test("bench table: every row has the header's cells, and says what it measured", () => {
  const result = {
    pipeline: {
      full: run("full"),
      loads: [run(500)],
      latencyRuns: [run(1000), run(1000)],
    },
    handLatencyRuns: [latency, latency],
    baselines: {
      raw: baseline,
      hand: baseline,
      handWithZod: baseline,
      article: baseline,
    },
    services: {},
    pairs: [],
    targets: {},
    ratios: { pipelineToRaw: 0.9, pipelineToHand: 0.9, pipelineToArticle: 9 },
  } as unknown as BenchResult;
  const rows = table(result).split("\n").filter((line) =>
    line.startsWith("| ")
  );
  const cells = (line: string) => line.split("|").length - 2;
  const runs = rows.filter((line) =>
    /^\| (pipeline|hand-written|raw|article)/.test(line)
  );
  for (const line of runs) assert.equal(cells(line), 7, line);
  const labels = runs.map((line) => line.split("|")[1].trim());
  assert.deepEqual(labels, [
    "pipeline, 500/s offered",
    "pipeline, 1000/s offered (latency run 1)",
    "pipeline, 1000/s offered (latency run 2)",
    "pipeline, full speed",
    "hand-written, 1000/s offered (latency run 1)",
    "hand-written, 1000/s offered (latency run 2)",
    "hand-written, same durable work",
    "raw amqplib (same durability)",
    "article (connection per sale)",
  ]);
});
