/**
 * The figures of a run: latency percentiles and medians, the CPU seconds of a
 * process.
 *
 * @module
 */
/** Latency percentiles in milliseconds. */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** The middle value (the upper of the two middle ones for an even count). */
export function median(values: number[]): number {
  return values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ??
    NaN;
}

export function percentiles(samples: number[]): Latency {
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

/** Everything a run measured. */
/** CPU-seconds a process has used so far (utime + stime of /proc/<pid>/stat). */
export async function cpuSeconds(pid: number): Promise<number> {
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
export async function brokerPid(): Promise<number | undefined> {
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
