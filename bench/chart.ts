/**
 * The benchmark's chart, an SVG drawn from its result.
 *
 * @module
 */
import { Latency } from "./stats.ts";
import { BenchResult } from "./report.ts";

/** A bar and line chart of throughput and latency, as SVG. */
export function chart(result: BenchResult): string {
  const width = 760;
  const height = 360;
  const bars = [
    {
      label: "pipeline",
      value: result.pipeline.full.perSecond,
      color: "#2b7a78",
    },
    {
      label: "hand-written",
      value: Math.round(result.baselines.hand.perSecond),
      color: "#5c6b73",
    },
    {
      label: "raw amqplib",
      value: Math.round(result.baselines.raw.perSecond),
      color: "#3a506b",
    },
    {
      label: "article",
      value: result.baselines.article.perSecond,
      color: "#c06c84",
    },
  ];
  const maxBar = Math.max(...bars.map((bar) => bar.value)) * 1.15;
  const barArea = { x: 60, y: 50, w: 300, h: 240 };
  const parts: string[] = [];
  parts.push(
    `<text x="${barArea.x}" y="30" font-size="15" font-weight="bold">End-to-end sales/s</text>`,
  );
  bars.forEach((bar, i) => {
    const w = 60;
    const x = barArea.x + 10 + i * 75;
    const h = (bar.value / maxBar) * barArea.h;
    const y = barArea.y + barArea.h - h;
    parts.push(
      `<rect x="${x}" y="${y.toFixed(1)}" width="${w}" height="${
        h.toFixed(1)
      }" fill="${bar.color}"/>`,
      `<text x="${x + w / 2}" y="${
        (y - 5).toFixed(1)
      }" font-size="12" text-anchor="middle">${bar.value}</text>`,
      `<text x="${x + w / 2}" y="${
        barArea.y + barArea.h + 18
      }" font-size="12" text-anchor="middle">${bar.label}</text>`,
    );
  });
  parts.push(
    `<line x1="${barArea.x}" y1="${barArea.y + barArea.h}" x2="${
      barArea.x + barArea.w
    }" y2="${barArea.y + barArea.h}" stroke="#333"/>`,
  );
  const runs = [...result.pipeline.loads, result.pipeline.full];
  const lat = { x: 430, y: 50, w: 290, h: 240 };
  const maxLat = Math.max(25, ...runs.map((run) => run.latency.p99)) * 1.15;
  parts.push(
    `<text x="${lat.x}" y="30" font-size="15" font-weight="bold">Publish-to-commit latency (ms)</text>`,
  );
  const series: [keyof Latency, string][] = [
    ["p50", "#2b7a78"],
    ["p95", "#e09f3e"],
    ["p99", "#9e2a2b"],
  ];
  const xOf = (i: number) =>
    lat.x + 20 + i * ((lat.w - 40) / Math.max(1, runs.length - 1));
  const yOf = (v: number) => lat.y + lat.h - (v / maxLat) * lat.h;
  const target = yOf(25);
  parts.push(
    `<line x1="${lat.x}" y1="${target.toFixed(1)}" x2="${lat.x + lat.w}" y2="${
      target.toFixed(1)
    }" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${lat.x + lat.w}" y="${
      (target - 4).toFixed(1)
    }" font-size="10" text-anchor="end" fill="#666">25 ms</text>`,
  );
  series.forEach(([key, color], s) => {
    const points = runs.map((run, i) =>
      `${xOf(i).toFixed(1)},${yOf(run.latency[key]).toFixed(1)}`
    );
    parts.push(
      `<polyline points="${
        points.join(" ")
      }" fill="none" stroke="${color}" stroke-width="2"/>`,
    );
    runs.forEach((run, i) =>
      parts.push(
        `<circle cx="${xOf(i).toFixed(1)}" cy="${
          yOf(run.latency[key]).toFixed(1)
        }" r="3" fill="${color}"/>`,
      )
    );
    parts.push(
      `<text x="${lat.x + 10 + s * 60}" y="${
        lat.y + lat.h + 40
      }" font-size="12" fill="${color}">${key}</text>`,
    );
  });
  runs.forEach((run, i) =>
    parts.push(
      `<text x="${xOf(i).toFixed(1)}" y="${
        lat.y + lat.h + 18
      }" font-size="11" text-anchor="middle">${
        run.offered === "full" ? "full" : `${run.offered}/s`
      }</text>`,
    )
  );
  parts.push(
    `<line x1="${lat.x}" y1="${lat.y + lat.h}" x2="${lat.x + lat.w}" y2="${
      lat.y + lat.h
    }" stroke="#333"/>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${parts.join("\n")}
<text x="10" y="${
    height - 8
  }" font-size="10" fill="#666">${result.machine} - ${result.date}</text>
</svg>
`;
}
