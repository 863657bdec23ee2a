/**
 * A service run as the benchmark times it: its lines read as they come (the
 * committed sales, with their times when it stamps them), its CPU and memory
 * sampled.
 *
 * @module
 */
import { delay } from "../lib/core/mod.ts";
import { invocation, type ProgramName, ROOT } from "../tools/launcher.ts";
import { type Sandbox } from "../tests/support/sandbox.ts";

/** What precedes the sale's number in a consumer's line for each commit. */
const COMMITTED_SALE = "for Sale #";

/** How a JSON line (`LOG_FORMAT=json`) starts, before its time. */
const JSON_TIME = '{"time":"';

/** Prints `pid depth VmHWM` for a process and its descendants. */
const TREE_HWM = `walk() {
  echo "$1 $2 $(awk '/VmHWM/ {print $2}' /proc/$1/status 2>/dev/null) $(awk '/VmRSS/ {print $2}' /proc/$1/status 2>/dev/null)"
  for child in $(cat /proc/$1/task/*/children 2>/dev/null); do
    walk "$child" $(($2 + 1))
  done
}
walk "$1" "$2"`;

/** Options of {@linkcode Timed}. */
export interface TimedOptions {
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
export const AS_USER: TimedOptions = { sampleMs: 3_600_000, viaTask: true };

/**
 * The same, writing JSON lines: each commit timed by the service itself,
 * not when the benchmark, on the same two cores, gets to read the line.
 */
export const AS_USER_TIMED: TimedOptions = { ...AS_USER, jsonLines: true };

/** A service process whose output lines are timestamped as they arrive. */
export class Timed {
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
