/**
 * Runs the programs under least privilege. Each program declares what it
 * takes (`program` in its own file); the launcher resolves the command line
 * and environment once, as the program will, derives the permission flags
 * from that (`lib/permissions.ts`), and hands the settings to the program
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
import { delay } from "../lib/delay.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTINGS } from "../lib/config.ts";
import { ensureBroker } from "../lib/ensure_broker.ts";
import { LAUNCHER_PID } from "../lib/shutdown.ts";
import { UsageError } from "../lib/errors.ts";
import { VERSION } from "../lib/version.ts";
import { runMain } from "../lib/main.ts";
import { envNeeds, permissionFlags } from "../lib/permissions.ts";
import {
  parseCommandLine,
  type Program,
  programFor,
  withoutSettings,
} from "../lib/program.ts";
import { program as billing } from "../services/billing.ts";
import { program as inventory } from "../services/inventory.ts";
import { program as office } from "../services/office.ts";
import { program as pos } from "../services/pos.ts";
import { SharedTerminal } from "./_shared_terminal.ts";
import { program as errors } from "./errors.ts";
import { program as status } from "./status.ts";
import { program as watch } from "./watch.ts";

/** The services, each `services/<name>.ts`. */
export const SERVICES = ["pos", "billing", "inventory", "office"] as const;

/** Every program the launcher runs, by name. */
export const PROGRAMS = {
  pos,
  billing,
  inventory,
  office,
  errors,
  watch,
  status,
} as const;

/** A program's name: a service's, or a tool's (`errors`, `watch`). */
export type ProgramName = keyof typeof PROGRAMS;

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * A bounded heap: the services' live data is bounded by prefetch and the
 * confirm window (a few MB). The young generation is 4 MiB a half: at 1 MiB
 * a batch's short-lived objects were promoted and collected again as old
 * ones (GC was a quarter of each service's time); 4 MiB costs about 6 MiB of
 * peak RSS and took the full-speed ratio to the hand-written version, which
 * runs with the same flags, from 0.75 to 0.82 (bench, 3 pairs each).
 * Without allocation-site pretenuring: after a burst at full speed V8 went
 * on making each sale's objects in the old generation at 1,000/s, where
 * they filled it for a mark-compact every 2 s or so (pauses of 3 to 15 ms,
 * the tail of the latency); without it, GC took 40% less time in Billing
 * and Inventory at 1,000/s, and a third of the mark-compacts.
 */
export const V8_FLAGS =
  "--v8-flags=--max-semi-space-size=4,--max-old-space-size=48,--no-allocation-site-pretenuring";

/** How to start a program: `deno` arguments and its environment. */
export interface Invocation {
  /** The arguments of `deno`. */
  args: string[];
  /**
   * The variables the program reads, resolved, settings from flags
   * included; set over the environment the launcher inherited.
   */
  env: Record<string, string>;
}

/**
 * How to run `name` with `args` in `env`: under its derived permissions,
 * with its settings resolved once here and passed in its environment, so
 * that no secret of `--url` stays on a command line.
 */
export function invocation(
  name: ProgramName,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Invocation {
  const program: Program = programFor(PROGRAMS[name], args);
  const childEnv: Record<string, string> = {};
  for (const variable of envNeeds(program)) {
    const value = env[variable];
    if (value) childEnv[variable] = value;
  }
  // Deno itself reads OpenTelemetry's variables (OTEL_DENO and the
  // exporter's), before any permission applies.
  for (const [variable, value] of Object.entries(env)) {
    if (variable.startsWith("OTEL_") && value) childEnv[variable] = value;
  }
  childEnv[LAUNCHER_PID] = String(Deno.pid);
  let programArgs = args;
  let serving = false;
  try {
    const { config, positionals } = parseCommandLine(
      program,
      args,
      (variable) => env[variable] || undefined,
    );
    for (const key of program.settings) {
      const value = config[key];
      const { env: variable, text = String } = SETTINGS[key];
      if (value !== undefined) childEnv[variable] = text(value as never);
      else delete childEnv[variable];
    }
    programArgs = withoutSettings(PROGRAMS[name], args);
    serving = Boolean(program.service) && positionals.length === 0;
  } catch {
    // The program reads the same command line and says what is wrong.
  }
  return {
    args: [
      "run",
      ...permissionFlags(PROGRAMS[name], env, args),
      // Tools and listings read as much as they are asked to: no cap.
      ...(serving ? [V8_FLAGS] : []),
      script(program),
      ...programArgs,
    ],
    env: childEnv,
  };
}

function script(program: Program): string {
  return join(ROOT, program.script);
}

function spawn(
  name: ProgramName,
  options: { args?: string[]; stdin: "inherit" | "null"; piped: boolean },
): Deno.ChildProcess {
  const { args, env } = invocation(name, Deno.env.toObject(), options.args);
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

/** `text` as one word of a POSIX shell. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Shell commands that run `name` in the shell's own process, for
 * `tools/exec.sh`: its settings exported (not on its command line, where a
 * password would show), then `exec` of Deno with the permission flags
 * derived from its command line.
 */
export function commandLine(name: ProgramName, args: string[]): string {
  const { args: deno, env } = invocation(name, Deno.env.toObject(), args);
  // Without the launcher, there is no launcher's pid to watch.
  const exports = Object.entries(env).filter(([variable]) =>
    variable !== LAUNCHER_PID
  ).map(([variable, value]) => `${variable}=${quoted(value)}`);
  return [
    ...(exports.length > 0 ? [`export ${exports.join(" ")}`] : []),
    `unset ${LAUNCHER_PID}`,
    `exec ${[Deno.execPath(), ...deno].map(quoted).join(" ")}`,
  ].join("; ");
}

async function runOne(name: ProgramName, args: string[]): Promise<number> {
  const child = spawn(name, { args, stdin: "inherit", piped: false });
  const remove = forwardSignals([child]);
  const { code } = await child.status;
  remove();
  return code;
}

function brokerUrl(): string {
  return parseCommandLine(pos, [], (name) => Deno.env.get(name)).config.url;
}

async function startAll(): Promise<number> {
  await ensureBroker(brokerUrl(), { composeDir: ROOT });
  const consumers = (["billing", "inventory", "office"] as const).map((
    service,
  ) => ({
    service,
    child: spawn(service, { stdin: "null", piped: true }),
  }));
  // The consumers declare their queues before the first sale is rung up.
  await delay(1000);
  const posChild = spawn("pos", { stdin: "inherit", piped: true });
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
  const scripts = SERVICES.map((service) => script(PROGRAMS[service]));
  // Type-checked here, without the services' heap cap, which deno compile
  // would also apply to its own type check.
  const checked = await new Deno.Command(Deno.execPath(), {
    args: ["check", ...scripts],
    stdin: "null",
  }).spawn().status;
  if (!checked.success) return checked.code;
  for (const service of SERVICES) {
    const program = PROGRAMS[service];
    const output = join(ROOT, "dist", service);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "--no-check",
        ...permissionFlags(program, env),
        V8_FLAGS,
        "--output",
        output,
        script(program),
      ],
      stdin: "null",
    }).spawn().status;
    if (code !== 0) return code;
    console.log(`Built ${output}`);
  }
  return 0;
}

async function runTests(args: string[]): Promise<number> {
  await ensureBroker(brokerUrl(), { composeDir: ROOT });
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
  if (command === "line" && Object.hasOwn(PROGRAMS, rest[0])) {
    console.log(commandLine(rest[0] as ProgramName, rest.slice(1)));
    return 0;
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
