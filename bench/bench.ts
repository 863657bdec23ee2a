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
import { delay, errorMessage, UsageError } from "../lib/core/mod.ts";
import { DEMO_CATALOG, parseCatalog } from "../contracts/catalog.ts";
import { Decimal } from "../contracts/decimal.ts";
import { DEFAULT_STORE, encodeSale } from "../contracts/sale.ts";
import { connectBroker, ensureBroker } from "../lib/messaging/mod.ts";
import { readEnv, resolveConfig, wholeNumber } from "../lib/config/mod.ts";
import { runMain, VERSION } from "../lib/cli/mod.ts";
import { fileURLToPath } from "node:url";
import { invocation, type ProgramName, ROOT } from "../tools/launcher.ts";
import { runService } from "../tools/_process.ts";
import { join } from "node:path";
import { readOutbox } from "../lib/store/mod.ts";
import { type ProfileSummary, summarizeProfile } from "./cpu_profile.ts";
import {
  type Sandbox,
  withDatabase,
  withSandbox,
} from "../tests/support/sandbox.ts";
import {
  articleBaseline,
  type BaselineResult,
  cleanBaselines,
  handBaseline,
  mibOfKiB,
  rawBaseline,
} from "./raw.ts";

/** Prints `pid depth VmHWM` for a process and its descendants. */
/** What precedes the sale's number in a consumer's line for each commit. */
const COMMITTED_SALE = "for Sale #";

/** How a JSON line (`LOG_FORMAT=json`) starts, before its time. */
const JSON_TIME = '{"time":"';

const TREE_HWM = `walk() {
  echo "$1 $2 $(awk '/VmHWM/ {print $2}' /proc/$1/status 2>/dev/null) $(awk '/VmRSS/ {print $2}' /proc/$1/status 2>/dev/null)"
  for child in $(cat /proc/$1/task/*/children 2>/dev/null); do
    walk "$child" $(($2 + 1))
  done
}
walk "$1" "$2"`;

/** Options of {@linkcode Timed}. */
interface TimedOptions {
  /**
   * The program's arguments.
   *
   * @default {[]}
   */
  args?: string[];
  /**
   * How often to sample RSS, in milliseconds; the kernel keeps the peak,
   * so rarely will do.
   *
   * @default {1000}
   */
  sampleMs?: number;
  /** Where to write a V8 CPU profile (`--cpu-prof`), if anywhere. */
  profileDir?: string;
  /**
   * Run as a user does, `deno task <service>`, and measure the chain.
   *
   * @default {false}
   */
  viaTask?: boolean;
  /**
   * Lines as JSON (`LOG_FORMAT=json`), which carry the time of each commit.
   *
   * @default {false}
   */
  jsonLines?: boolean;
}

/** A consumer started as a user starts it, sampled when it stops. */
const AS_USER: TimedOptions = { sampleMs: 3_600_000, viaTask: true };

/**
 * The same, writing JSON lines: each commit timed by the service itself,
 * not when the benchmark, on the same two cores, gets to read the line.
 */
const AS_USER_TIMED: TimedOptions = { ...AS_USER, jsonLines: true };

/** A service process whose output lines are timestamped as they arrive. */
class Timed {
  readonly started = performance.now();
  readonly #child: Deno.ChildProcess;
  readonly #done: Promise<void>;
  /** Sale id to the time its commit line arrived (performance.now()). */
  readonly committed = new Map<number, number>();
  /**
   * Sale id to the time its commit line says (epoch ms), where the service
   * writes JSON lines: stamped once the commit is on disk, in the service,
   * as the hand-written version times its own.
   */
  readonly committedAt = new Map<number, number>();
  readyAt: number | undefined;
  /** Whether its lines are JSON, each commit's with its time. */
  readonly stamped: boolean;
  /** The service process's peak RSS. */
  peakRssKiB = 0;
  /** The sum of the peaks of the processes a user runs for it. */
  chainPeakKiB = 0;
  /** The service process's RSS at the last sample. */
  rssKiB = 0;
  readonly #tree = new Map<
    number,
    { depth: number; hwm: number; rss: number }
  >();
  #poll: ReturnType<typeof setInterval>;

  constructor(
    service: ProgramName,
    sandbox: Sandbox,
    options: TimedOptions = {},
  ) {
    const {
      args = [],
      sampleMs = 1000,
      profileDir,
      viaTask = false,
      jsonLines = false,
    } = options;
    this.stamped = jsonLines;
    const env = jsonLines
      ? { ...sandbox.env, LOG_FORMAT: "json" }
      : sandbox.env;
    const command = invocation(service, env, args);
    const [run, ...rest] = command.args;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: viaTask
        ? ["task", "-q", service, ...args]
        : profileDir
        ? [run, "--cpu-prof", `--cpu-prof-dir=${profileDir}`, ...rest]
        : command.args,
      cwd: viaTask ? ROOT : undefined,
      env: viaTask ? env : command.env,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#poll = setInterval(() => this.#sampleRss(), sampleMs);
    this.#done = this.#read();
  }

  /**
   * The kernel's high-water mark of the RSS of each process of its tree
   * (`deno task`, the launcher, the service); Deno reads /proc only with
   * -A, so a shell walks it.
   */
  /** Samples now: {@linkcode Timed.rssKiB} and the peaks. */
  sample(): Promise<void> {
    return this.#sampleRss();
  }

  async #sampleRss(): Promise<void> {
    try {
      const { stdout } = await new Deno.Command("sh", {
        args: ["-c", TREE_HWM, "tree", String(this.#child.pid), "0"],
        stderr: "null",
      }).output();
      for (const line of new TextDecoder().decode(stdout).split("\n")) {
        const [pid, depth, hwm, rss] = line.split(" ").map(Number);
        if (!pid || !hwm) continue;
        const known = this.#tree.get(pid);
        this.#tree.set(pid, {
          depth,
          hwm: Math.max(hwm, known?.hwm ?? 0),
          rss,
        });
      }
      // The service is the deepest process; the chain is all of them.
      const deepest = [...this.#tree.values()].sort((a, b) =>
        b.depth - a.depth
      )[0];
      this.peakRssKiB = deepest?.hwm ?? 0;
      this.rssKiB = deepest?.rss ?? 0;
      this.chainPeakKiB = [...this.#tree.values()].reduce(
        (sum, entry) => sum + entry.hwm,
        0,
      );
    } catch {
      // Exited.
    }
  }

  async #read(): Promise<void> {
    let rest = "";
    for await (
      const text of this.#child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      // Lines that carry their own time are read 50 times a second, once
      // the service is up, not as each is written: a wake-up for every
      // batch took the cores from the services it timed.
      if (this.stamped && this.readyAt !== undefined) await delay(20);
      const now = performance.now();
      const chunk = rest + text;
      const end = chunk.lastIndexOf("\n") + 1;
      rest = chunk.slice(end);
      // Read on the cores the services use: no split and no regular
      // expression per line, only a search for each sale's number.
      if (this.readyAt === undefined && /running on/.test(chunk)) {
        this.readyAt = now;
      }
      for (
        let at = chunk.indexOf(COMMITTED_SALE);
        at !== -1 && at < end;
        at = chunk.indexOf(COMMITTED_SALE, at)
      ) {
        const line = chunk.lastIndexOf("\n", at) + 1;
        at += COMMITTED_SALE.length;
        let id = 0;
        for (let c = chunk.charCodeAt(at); c >= 48 && c <= 57;) {
          id = id * 10 + c - 48;
          c = chunk.charCodeAt(++at);
        }
        this.committed.set(id, now);
        // A JSON line starts with its time: {"time":"2026-12-02T05:00:00.000Z"
        if (chunk.startsWith(JSON_TIME, line)) {
          const time = line + JSON_TIME.length;
          this.committedAt.set(id, Date.parse(chunk.slice(time, time + 24)));
        }
      }
    }
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Waits until `count` sales are committed. */
  async waitFor(count: number, timeoutMs = 300_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.committed.size < count) {
      if (performance.now() > deadline) {
        throw new Error(
          `Timed out: ${this.committed.size} of ${count} committed`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Waits until the service says it is ready. */
  async ready(): Promise<number> {
    while (this.readyAt === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    return this.readyAt - this.started;
  }

  /** The exit code, after it ends by itself. */
  async exited(): Promise<number> {
    const { code } = await this.#child.status;
    clearInterval(this.#poll);
    await this.#done;
    return code;
  }

  /** Stops it cleanly. */
  async stop(): Promise<number> {
    await this.#sampleRss();
    this.#child.kill("SIGTERM");
    return await this.exited();
  }
}

/** Latency percentiles in milliseconds. */
interface Latency {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** The middle value (the upper of the two middle ones for an even count). */
function median(values: number[]): number {
  return values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ??
    NaN;
}

function percentiles(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** One run of the pipeline: N sales at a rate, or as fast as it goes. */
interface PipelineRun {
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
async function stockUp(sandbox: Sandbox): Promise<void> {
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
async function startConsumers(
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
async function runPipeline(
  sandbox: Sandbox,
  consumers: Timed[],
  options: { count: number; rate?: number },
): Promise<{ run: PipelineRun; posRssKiB: number }> {
  const outbox = join(sandbox.dataDir, "pos", "pos.db");
  const before = readOutbox(outbox).length;
  // Consumers started later than the outbox have seen less of it.
  const seen = consumers.map((consumer) => consumer.committed.size);
  const args = ["--simulate", "--count", String(options.count), "--quiet"];
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

/** A bar and line chart of throughput and latency, as SVG. */
function chart(result: BenchResult): string {
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

/** Everything a run measured. */
/** CPU-seconds a process has used so far (utime + stime of /proc/<pid>/stat). */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("cat", {
      args: [`/proc/${pid}/stat`],
      stderr: "null",
    }).output();
    const fields = new TextDecoder().decode(stdout).split(") ")[1].split(" ");
    // utime and stime are fields 14 and 15, in clock ticks of 1/100 s.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0; // Exited.
  }
}

/** The broker's VM on this machine, as rabbitmqctl names it, for its CPU. */
async function brokerPid(): Promise<number | undefined> {
  try {
    const { stdout } = await new Deno.Command("rabbitmqctl", {
      args: ["status"],
      stderr: "null",
    }).output();
    const pid = Number(
      /OS PID: (\d+)/.exec(new TextDecoder().decode(stdout))?.[1],
    );
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One scale-out configuration, measured. */
interface ScaleRun {
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
async function scaleRun(
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

/** What `--soak` measured. */
interface SoakResult {
  minutes: number;
  rate: number;
  retention: string;
  /** Each service's RSS (MiB) at each minute's end. */
  rssMiB: Record<string, number[]>;
  /** Each service's database (file and log), MiB, at each minute's end. */
  databaseMiB: Record<string, number[]>;
  /** Sales made. */
  sales: number;
  /** Bytes of every database per sale made, at the end. */
  bytesPerSale: number;
}

/** Bytes of a service's SQLite file and its log. */
async function databaseBytes(dataDir: string, name: string): Promise<number> {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      total += (await Deno.stat(join(dataDir, name, `${name}.db${suffix}`)))
        .size;
    } catch {
      // Not there.
    }
  }
  return total;
}

/**
 * The pipeline at a steady rate for minutes with a short retention: RSS and
 * database size each minute, to see that neither grows without bound.
 */
async function soakRun(minutes: number, rate: number): Promise<SoakResult> {
  const retention = "1m";
  let result: SoakResult | undefined;
  await withSandbox(async (base) => {
    const sandbox = { ...base, env: { ...base.env, RETENTION: retention } };
    await stockUp(sandbox);
    const consumers = {
      billing: new Timed("billing", sandbox, AS_USER),
      inventory: new Timed("inventory", sandbox, AS_USER),
    };
    await consumers.billing.ready();
    await consumers.inventory.ready();
    const sales = minutes * 60 * rate;
    const pos = new Timed("pos", sandbox, {
      args: [
        "--simulate",
        "--count",
        String(sales),
        "--rate",
        String(rate),
        "--quiet",
      ],
      sampleMs: 3_600_000,
    });
    const processes = { pos, ...consumers };
    const rssMiB: Record<string, number[]> = {};
    const databaseMiB: Record<string, number[]> = {};
    const mib = (bytes: number) => Math.round(bytes / 1048576 * 10) / 10;
    for (let minute = 1; minute <= minutes; minute++) {
      await new Promise((resolve) => setTimeout(resolve, 60_000));
      for (const [name, process] of Object.entries(processes)) {
        await process.sample();
        (rssMiB[name] ??= []).push(mib(process.rssKiB * 1024));
        (databaseMiB[name] ??= []).push(
          mib(await databaseBytes(sandbox.dataDir, name)),
        );
      }
      console.error(
        `Minute ${minute}: RSS ${
          Object.entries(rssMiB).map(([n, v]) => `${n} ${v.at(-1)}`).join(", ")
        } MiB; databases ${
          Object.entries(databaseMiB).map(([n, v]) => `${n} ${v.at(-1)}`)
            .join(", ")
        } MiB`,
      );
    }
    await pos.exited();
    await consumers.billing.stop();
    await consumers.inventory.stop();
    let bytes = 0;
    for (const name of Object.keys(processes)) {
      bytes += await databaseBytes(sandbox.dataDir, name);
    }
    result = {
      minutes,
      rate,
      retention,
      rssMiB,
      databaseMiB,
      sales,
      bytesPerSale: Math.round(bytes / sales),
    };
  });
  return result!;
}

/** The soak, readably, with its target. */
function soakTable(soak: SoakResult): string {
  const lines = [
    "",
    `Soak: ${soak.minutes} min at ${soak.rate} sales/s, retention ${soak.retention}; ${soak.bytesPerSale} bytes per sale kept in the databases`,
    "",
    "| Process | RSS MiB, minute 1 | last minute | change | database MiB, minute 1 | last minute |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, rss] of Object.entries(soak.rssMiB)) {
    const db = soak.databaseMiB[name];
    const change = Math.round((rss.at(-1)! / rss[0] - 1) * 1000) / 10;
    lines.push(
      `| ${name} | ${rss[0]} | ${rss.at(-1)} | ${change}% | ${db[0]} | ${
        db.at(-1)
      } |`,
    );
  }
  const flat = Object.values(soak.rssMiB).every((rss) =>
    Math.abs(rss.at(-1)! / rss[0] - 1) <= 0.05
  );
  lines.push(
    "",
    `  ${
      flat ? "met    " : "NOT MET"
    }  RSS within 5% between minute 1 and minute ${soak.minutes}`,
  );
  return lines.join("\n");
}

/** What `--profile` measured of one process. */
interface ProfiledProcess {
  /** CPU-seconds per 1,000 sales. */
  cpuPer1000: number;
  /** Where its time went, from its V8 profile (not for the broker). */
  profile?: ProfileSummary;
}

/**
 * The pipeline at full speed once, each service under `--cpu-prof`: CPU
 * per sale of each process (the broker's from /proc) and where it goes.
 */
async function profileRun(
  sales: number,
): Promise<Record<string, ProfiledProcess>> {
  const dir = await Deno.makeTempDir({ prefix: "shop-bench-profile-" });
  const result: Record<string, ProfiledProcess> = {};
  await withSandbox(async (sandbox) => {
    await stockUp(sandbox);
    const dirs = {
      pos: join(dir, "pos"),
      billing: join(dir, "billing"),
      inventory: join(dir, "inventory"),
    };
    const billing = new Timed("billing", sandbox, {
      sampleMs: 3_600_000,
      profileDir: dirs.billing,
    });
    const inventory = new Timed("inventory", sandbox, {
      sampleMs: 3_600_000,
      profileDir: dirs.inventory,
    });
    await billing.ready();
    await inventory.ready();
    // Warm: the JIT compiles the hot paths first, as in the other runs.
    await runPipeline(sandbox, [billing, inventory], { count: 2000 });
    const broker = await brokerPid();
    const pids = [billing.pid, inventory.pid, broker ?? 0];
    const before = await Promise.all(pids.map(cpuSeconds));
    const pos = new Timed("pos", sandbox, {
      args: ["--simulate", "--count", String(sales), "--quiet"],
      sampleMs: 3_600_000,
      profileDir: dirs.pos,
    });
    const posCpu = new Promise<number>((resolve) => {
      // Read the POS's CPU just before it ends, while /proc still has it.
      const poll = setInterval(async () => {
        last = await cpuSeconds(pos.pid).catch(() => last);
      }, 100);
      let last = 0;
      pos.exited().then(() => {
        clearInterval(poll);
        resolve(last);
      });
    });
    await posCpu;
    await Promise.all(
      [billing, inventory].map((consumer) => consumer.waitFor(2000 + sales)),
    );
    const after = await Promise.all(pids.map(cpuSeconds));
    await billing.stop();
    await inventory.stop();
    const per1000 = (seconds: number) =>
      Math.round((seconds / sales) * 1000 * 1000) / 1000;
    const profileOf = async (folder: string) => {
      for await (const entry of Deno.readDir(folder)) {
        if (entry.name.endsWith(".cpuprofile")) {
          return await summarizeProfile(join(folder, entry.name));
        }
      }
      return undefined;
    };
    result.pos = {
      cpuPer1000: per1000(await posCpu),
      profile: await profileOf(dirs.pos),
    };
    result.billing = {
      cpuPer1000: per1000(after[0] - before[0]),
      profile: await profileOf(dirs.billing),
    };
    result.inventory = {
      cpuPer1000: per1000(after[1] - before[1]),
      profile: await profileOf(dirs.inventory),
    };
    result.broker = { cpuPer1000: per1000(after[2] - before[2]) };
  });
  if (readEnv("BENCH_KEEP_PROFILES")) console.error(`Profiles kept in ${dir}`);
  else await Deno.remove(dir, { recursive: true });
  return result;
}

/** The profile run, readably. */
function profileTable(processes: Record<string, ProfiledProcess>): string {
  const lines = [
    "",
    "| Process | CPU-s per 1,000 sales |",
    "| --- | ---: |",
    ...Object.entries(processes).map(([name, p]) =>
      `| ${name} | ${p.cpuPer1000} |`
    ),
  ];
  for (const [name, p] of Object.entries(processes)) {
    if (!p.profile) continue;
    lines.push(
      "",
      `${name}: ${p.profile.busyMs} ms busy; by place: ${
        p.profile.places.map((h) => `${h.name} ${h.percent}%`).join(", ")
      }`,
      ...p.profile.functions.map((h) =>
        `  ${String(h.percent).padStart(5)}%  ${h.name}`
      ),
    );
  }
  return lines.join("\n");
}

/** A full-speed run of the pipeline and the hand-written run after it. */
interface FullPair {
  full: Awaited<ReturnType<typeof runPipeline>>;
  hand: BaselineResult;
  ratio: number;
}

interface BenchResult {
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

function machine(): string {
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

async function brokerVersion(url: string): Promise<string> {
  const connection = await connectBroker({ url, name: "bench-version" });
  const properties = (connection.connection as unknown as {
    serverProperties: { product?: string; version?: string };
  }).serverProperties;
  await connection.close();
  return `${properties.product ?? "broker"} ${properties.version ?? ""}`.trim();
}

function table(result: BenchResult): string {
  const rows = [
    "| Run | Sales | Sales/s | p50 ms | p95 ms | p99 ms | p99.9 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...[
      ...result.pipeline.loads,
      ...result.pipeline.latencyRuns.map((run, i) => ({
        ...run,
        offered: `1000 (latency run ${i + 1})`,
      })),
      result.pipeline.full,
    ].map((run) =>
      `| pipeline, ${
        run.offered === "full" ? "full speed" : `${run.offered}/s offered`
      } | ${run.sales} | ${run.perSecond} | ${run.latency.p50} | ${run.latency.p95} | ${run.latency.p99} | ${run.latency.p999} |`
    ),
    ...result.handLatencyRuns.map((run, i) =>
      `| hand-written, 1000 (latency run ${
        i + 1
      })/s offered | | | ${run.p50} | ${run.p95} | ${run.p99} | ${run.p999} |`
    ),
    `| hand-written, same durable work | ${result.baselines.hand.sales} | ${
      Math.round(result.baselines.hand.perSecond)
    } | | | |`,
    `| raw amqplib (same durability) | ${result.baselines.raw.sales} | ${
      Math.round(result.baselines.raw.perSecond)
    } | | | |`,
    `| article (connection per sale) | ${result.baselines.article.sales} | ${
      Math.round(result.baselines.article.perSecond)
    } | | | |`,
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
    console.log(profileTable(await profileRun(sales)));
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

/** The scale-out runs as a Markdown table. */
function scaleTable(runs: ScaleRun[]): string {
  return [
    "",
    "| Store | Queues | Instances | Sales/s | CPU-s/1000 Billing | Inventory | Broker |",
    "| ----- | ------ | --------: | ------: | -----------------: | --------: | -----: |",
    ...runs.map((run) =>
      `| ${run.store} | ${run.queueType} | ${run.instances} | ${run.perSecond} | ${run.cpuPer1000.billing} | ${run.cpuPer1000.inventory} | ${run.cpuPer1000.broker} |`
    ),
  ].join("\n");
}

if (import.meta.main) {
  let code = 1;
  const failed = await runMain("bench", async () => {
    code = await main();
  });
  Deno.exit(failed || code);
}
