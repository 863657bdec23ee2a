/**
 * The profiled run: each process's CPU profile summed up by where the time
 * went.
 *
 * @module
 */
import { readEnv } from "../lib/config/mod.ts";
import { join } from "node:path";
import { type ProfileSummary, summarizeProfile } from "./cpu_profile.ts";
import { withSandbox } from "../tests/support/sandbox.ts";
import { Timed } from "./timed.ts";
import { brokerPid, cpuSeconds } from "./stats.ts";
import { runPipeline, stockUp } from "./pipeline.ts";
import { handBaseline } from "./raw.ts";

/** What `--profile` measured of one process. */
interface ProfiledProcess {
  /** CPU-seconds per 1,000 sales. */
  cpuPer1000: number;
  /** Where its time went, from its V8 profile (not for the broker). */
  profile?: ProfileSummary;
  /** The hand-written version's, for the same process. */
  hand?: { cpuPer1000: number; profile?: ProfileSummary };
}

/**
 * The pipeline once, at full speed or with its sales rung up at `rate` a
 * second, each service under `--cpu-prof`: CPU per sale of each process
 * (the broker's from /proc) and where it goes; then the hand-written
 * version the same way.
 */
export async function profileRun(
  sales: number,
  rate?: number,
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
      args: [
        "--count",
        String(sales),
        "--quiet",
        ...rate === undefined ? [] : ["--rate", String(rate)],
      ],
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
    // The yardstick, profiled the same way: its CPU over its whole run
    // (start-up included, which the pipeline's warm-up leaves out).
    const handDir = join(dir, "hand");
    const hand = await handBaseline(sandbox.url, {
      sales,
      rate,
      profileDir: handDir,
    });
    for (const role of ["pos", "billing", "inventory"]) {
      result[role].hand = {
        cpuPer1000: per1000(hand.cpuSeconds?.[role] ?? 0),
        profile: await profileOf(join(handDir, role)),
      };
    }
  });
  if (readEnv("BENCH_KEEP_PROFILES")) console.error(`Profiles kept in ${dir}`);
  else await Deno.remove(dir, { recursive: true });
  return result;
}

/** The profile run, readably. */
export function profileTable(
  processes: Record<string, ProfiledProcess>,
): string {
  const lines = [
    "",
    "| Process | Pipeline CPU-s per 1,000 sales | Hand-written CPU-s per 1,000 sales |",
    "| --- | ---: | ---: |",
    ...Object.entries(processes).map(([name, p]) =>
      `| ${name} | ${p.cpuPer1000} | ${p.hand?.cpuPer1000 ?? ""} |`
    ),
  ];
  const where = (name: string, profile: ProfileSummary) => [
    "",
    `${name}: ${profile.busyMs} ms busy; by place: ${
      profile.places.map((h) => `${h.name} ${h.percent}%`).join(", ")
    }`,
    ...profile.functions.map((h) =>
      `  ${String(h.percent).padStart(5)}%  ${h.name}`
    ),
  ];
  for (const [name, p] of Object.entries(processes)) {
    if (p.profile) lines.push(...where(name, p.profile));
    if (p.hand?.profile) {
      lines.push(...where(`${name}, hand-written`, p.hand.profile));
    }
  }
  return lines.join("\n");
}
