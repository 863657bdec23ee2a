/**
 * Runs the programs under least privilege. Each program declares what it
 * takes (`program`: a tool's in its own file, a service's in
 * `lib/programs/`); the launcher resolves the command line
 * and environment once, as the program will, derives the permission flags
 * from that (`lib/cli/permissions.ts`), and hands the settings to the program
 * through its environment.
 *
 *     launcher.ts run <program> [args]   one program (deno task pos|billing|...)
 *     launcher.ts start                  broker check, then all four in one terminal
 *     launcher.ts compile                dist/<service> with the same permissions
 *     launcher.ts test [args]            broker check, then deno test
 *
 * The launcher itself starts processes, so it runs with more than a service.
 *
 * @module
 */
import { delay, UsageError } from "../lib/core/mod.ts";
import { join } from "node:path";
import { ensureBroker, type TlsFiles } from "../lib/messaging/mod.ts";
import {
  type Invocation,
  invocationOf,
  parseCommandLine,
  permissionFlags,
  ROOT,
  runMain,
  scriptOf,
  TOGETHER,
  V8_FLAGS,
  VERSION,
} from "../lib/cli/mod.ts";
import { SERVICE_PROGRAMS, SERVICES } from "../lib/programs/mod.ts";
import { SharedTerminal } from "./_shared_terminal.ts";
import { program as broker } from "./broker.ts";
import { program as database } from "./database.ts";
import { program as errors } from "./errors.ts";
import { program as status } from "./status.ts";
import { program as watch } from "./watch.ts";

export { ROOT, SERVICES, V8_FLAGS };

/** The demo shop's opening stock, which `deno task start` loads once. */
const OPENING_STOCK = join(ROOT, "contracts", "opening_stock.csv");

/** Every program the launcher runs, by name. */
export const PROGRAMS = {
  ...SERVICE_PROGRAMS,
  errors,
  watch,
  status,
  broker,
  database,
} as const;

/** A program's name: a service's, or a tool's (`errors`, `watch`). */
export type ProgramName = keyof typeof PROGRAMS;

/** How to run the program `name` (see {@linkcode invocationOf}). */
export function invocation(
  name: ProgramName,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Invocation {
  return invocationOf(PROGRAMS[name], env, args);
}

function spawn(
  name: ProgramName,
  options: {
    args?: string[];
    stdin: "inherit" | "null";
    piped: boolean;
    /** Run with the others: the till's prompt alone says how to stop. */
    together?: boolean;
  },
): Deno.ChildProcess {
  const { args, env } = invocation(name, Deno.env.toObject(), options.args);
  if (options.together) env[TOGETHER] = "1";
  const output = options.piped ? "piped" : "inherit";
  return new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: options.stdin,
    stdout: output,
    stderr: output,
  }).spawn();
}

/** Forwards SIGINT and SIGTERM to the children; returns the remover. */
function forwardSignals(children: Deno.ChildProcess[]): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => {
      for (const child of children) {
        try {
          child.kill(signal);
        } catch {
          // Exited already.
        }
      }
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}

async function runOne(name: ProgramName, args: string[]): Promise<number> {
  const child = spawn(name, { args, stdin: "inherit", piped: false });
  const remove = forwardSignals([child]);
  const { code } = await child.status;
  remove();
  return code;
}

/** The broker the services are told of, and how to reach it over TLS. */
function brokerSettings(): { url: string; tls: TlsFiles } {
  const { config } = parseCommandLine(
    PROGRAMS.pos,
    [],
    (name) => Deno.env.get(name),
  );
  return { url: config.url, tls: config };
}

async function startAll(): Promise<number> {
  const { url, tls } = brokerSettings();
  await ensureBroker(url, { composeDir: ROOT, tls });
  // The demo starts stocked, once: a restart keeps the levels.
  const stocked = await spawn("inventory", {
    args: ["stock", "load", OPENING_STOCK, "--if-empty"],
    stdin: "null",
    piped: false,
  }).status;
  if (!stocked.success) return stocked.code;
  // Every service but the till, which starts last.
  const consumers = SERVICES.filter((service) => service !== "pos").map((
    service,
  ) => ({
    service,
    child: spawn(service, { stdin: "null", piped: true, together: true }),
  }));
  // The consumers declare their queues before the first sale is rung up.
  await delay(1000);
  const posChild = spawn("pos", {
    stdin: "inherit",
    piped: true,
    together: true,
  });
  const all = [...consumers.map((entry) => entry.child), posChild];
  const remove = forwardSignals(all);
  const terminal = new SharedTerminal();
  const copies = [
    ...consumers,
    { service: "pos" as const, child: posChild },
  ].flatMap(({ service, child }) => [
    terminal.copy(service, child.stdout, Deno.stdout),
    terminal.copy(service, child.stderr, Deno.stderr),
  ]);
  const { code } = await posChild.status;
  for (const { child } of consumers) child.kill("SIGTERM");
  const codes = await Promise.all(consumers.map(({ child }) => child.status));
  await Promise.all(copies);
  remove();
  return Math.max(code, ...codes.map((status) => status.code));
}

async function compileAll(): Promise<number> {
  const env = Deno.env.toObject();
  const scripts = SERVICES.map((service) => scriptOf(PROGRAMS[service]));
  // Type-checked here, without the services' heap cap, which deno compile
  // would also apply to its own type check.
  const checked = await new Deno.Command(Deno.execPath(), {
    // Quiet: its errors, if any, and not a line per file checked.
    args: ["check", "--quiet", ...scripts],
    stdin: "null",
  }).spawn().status;
  if (!checked.success) return checked.code;
  console.log(
    env.DENORT_BIN
      ? `compile: Deno's runtime from DENORT_BIN (${env.DENORT_BIN})`
      : "compile: Deno fetches its denort runtime once (from dl.deno.land); DENORT_BIN=<path> uses a local one instead",
  );
  // Built aside, and moved into dist/ only once all four are: a failure
  // leaves nothing half-made.
  const aside = join(ROOT, ".dist-build");
  await Deno.remove(aside, { recursive: true }).catch(() => {});
  await Deno.mkdir(aside);
  try {
    for (const service of SERVICES) {
      const program = PROGRAMS[service];
      const { code, stderr } = await new Deno.Command(Deno.execPath(), {
        args: [
          "compile",
          "--no-check",
          ...permissionFlags(program, env),
          V8_FLAGS,
          "--output",
          join(aside, service),
          scriptOf(program),
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      if (code !== 0) {
        const said = new TextDecoder().decode(stderr);
        // The innermost cause says it best: "Name or service not known".
        const caused =
          said.split("Caused by:")[1]?.split("Stack backtrace")[0] ??
            "";
        const causes = [...caused.matchAll(/^\s+\d+: (.*)$/gm)].map((m) =>
          m[1]
        );
        const reason = causes.at(-1)?.trim() ?? `exit code ${code}`;
        console.error(
          /denort|download|dns|connect/i.test(said)
            ? `compile: could not get Deno's denort runtime (${reason}); set DENORT_BIN to a local denort, or build where dl.deno.land answers. Nothing was written to dist/.`
            : `compile: ${service} did not build (${reason}). Nothing was written to dist/.`,
        );
        return 1;
      }
    }
    const dist = join(ROOT, "dist");
    await Deno.mkdir(dist, { recursive: true });
    for (const service of SERVICES) {
      await Deno.rename(join(aside, service), join(dist, service));
      console.log(`Built ${join(dist, service)}`);
    }
    return 0;
  } finally {
    await Deno.remove(aside, { recursive: true }).catch(() => {});
  }
}

async function runTests(args: string[]): Promise<number> {
  const { url, tls } = brokerSettings();
  await ensureBroker(url, { composeDir: ROOT, tls });
  const { code } = await new Deno.Command(Deno.execPath(), {
    // The tests' permission set is deno.json's: -P takes it.
    args: ["test", "-P", ...args],
    cwd: ROOT,
    stdin: "null",
  }).spawn().status;
  return code;
}

/** What each of the launcher's own commands says to `--help`. */
const HELP: Record<string, string> = {
  start: `Start: makes sure a broker answers (starting one with Docker or an
installed RabbitMQ when none does), then runs Billing, Inventory, the back
office and the POS in one terminal, each line prefixed by its service. The
back office says where it serves (http://127.0.0.1:8000 unless PORT says).

Usage:
  deno task start                 press a to sell, q to stop all four

The services read their settings from the environment (AMQP_URL, DATA_DIR,
DATABASE_URL, HTTP_PORT, LOG_FORMAT, ...): see deno task <service> --help.`,
  compile:
    `Compile: builds dist/pos, dist/billing, dist/inventory and dist/office, standalone
binaries with each service's permissions baked in.

Usage:
  deno task compile`,
  test: `Test: makes sure a broker answers, then runs every test against it
(end-to-end tests in tests/, unit tests beside the modules).

Usage:
  deno task test [-- <deno test options>]   e.g. -- --filter pipeline

Plain deno test -P runs the same suite against a running broker, with the
permission set deno.json gives the tests.`,
  ok: `Ok: the checks a change passes before it lands: deno fmt --check,
deno lint, and deno check of every folder.

Usage:
  deno task ok`,
};

const USAGE = `Usage: launcher.ts run <${
  Object.keys(PROGRAMS).join("|")
}> [args] | start | compile | test [args] | ok`;

/** The folders deno check covers. */
const CHECKED = [
  "services/",
  "lib/",
  "tools/",
  "contracts/",
  "tests/",
  "bench/",
];

async function runChecks(): Promise<number> {
  for (const args of [["fmt", "--check"], ["lint"], ["check", ...CHECKED]]) {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdin: "null",
    }).spawn().status;
    if (code !== 0) return code;
  }
  return 0;
}

async function main(): Promise<number> {
  // `deno task pos -- --count 5` passes the "--" along: it is not an argument.
  const [command, ...rest] = Deno.args.filter((arg, i) =>
    !(arg === "--" && i === Deno.args.indexOf("--"))
  );
  if (command === "run" && Object.hasOwn(PROGRAMS, rest[0])) {
    return await runOne(rest[0] as ProgramName, rest.slice(1));
  }
  if (Object.hasOwn(HELP, command)) {
    // Asked for help or the version, a command does nothing else.
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(HELP[command]);
      return 0;
    }
    if (rest.includes("--version")) {
      console.log(`ShoppingApp ${VERSION} (${command})`);
      return 0;
    }
  }
  if (command === "start" && rest.length === 0) {
    return await startAll();
  } else if (command === "compile" && rest.length === 0) {
    return await compileAll();
  } else if (command === "test") {
    return await runTests(rest);
  } else if (command === "ok" && rest.length === 0) {
    return await runChecks();
  }
  throw new UsageError(
    Object.hasOwn(HELP, command)
      ? `Unknown argument "${rest[0]}" of ${command}: see --help`
      : USAGE,
  );
}

if (import.meta.main) {
  let code = 1;
  const failed = await runMain("launcher", async () => {
    code = await main();
  });
  Deno.exit(failed || code);
}
