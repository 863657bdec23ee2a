/**
 * The soak: the pipeline at a steady rate for minutes, its memory and the
 * bytes it keeps per sale.
 *
 * @module
 */
import { join } from "node:path";
import { withSandbox } from "../tests/support/sandbox.ts";
import { AS_USER, Timed } from "./timed.ts";
import { stockUp } from "./pipeline.ts";

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
export async function soakRun(
  minutes: number,
  rate: number,
): Promise<SoakResult> {
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
export function soakTable(soak: SoakResult): string {
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
