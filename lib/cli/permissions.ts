/**
 * Least privilege, derived: a program's Deno permission flags follow from
 * what it declares (its settings, variables and the files its command line
 * names) and from where its configuration points (the brokers of AMQP_URL,
 * its own folder under DATA_DIR). Nothing else is granted.
 *
 * @module
 */
import { join } from "node:path";
import {
  brokerUrls,
  type Config,
  hostAndPort,
  joinHostPort,
  POSTGRES_ENV,
  resolveConfig,
  SETTINGS,
} from "../config/mod.ts";
import {
  type CommandLine,
  ownEnv,
  parseCommandLine,
  type Program,
  programFor,
  resolveOwn,
} from "./program.ts";
import { LOG_FORMAT } from "../log/mod.ts";
import { LAUNCHER_PID, TOGETHER } from "./shutdown.ts";

/**
 * The command line as the program will read it; when it cannot be parsed,
 * the defaults, and the program itself will say what is wrong.
 */
function readCommandLine(
  program: Program,
  args: string[],
  env: (name: string) => string | undefined,
): CommandLine {
  try {
    return parseCommandLine(program, args, env);
  } catch {
    let config: Config;
    try {
      config = resolveConfig({}, env);
    } catch {
      config = resolveConfig({}, () => undefined);
    }
    const own = resolveOwn(programFor(program, args), {}, env);
    return { values: {}, positionals: [], config, own };
  }
}

/** The environment variables a program may read. */
export function envNeeds(program: Program): string[] {
  return [
    ...program.settings.flatMap((key) => {
      const { env, file } = SETTINGS[key];
      return file === undefined ? [env] : [env, file];
    }),
    ...ownEnv(program),
    ...(program.env ?? []),
    // Every program stops when the launcher that started it is gone, and
    // writes its lines as LOG_FORMAT says.
    LAUNCHER_PID,
    TOGETHER,
    LOG_FORMAT,
  ];
}

/**
 * The Deno permission flags of a program run with `args` in `env`: network
 * access to the broker hosts and ports of its AMQP URL, read and write to
 * its own folder of DATA_DIR, read of the files it is told to read, its
 * environment variables, and `--no-prompt` so that anything else fails at
 * once instead of asking.
 */
export function permissionFlags(
  whole: Program,
  env: Record<string, string | undefined>,
  args: string[] = [],
): string[] {
  const program = programFor(whole, args);
  const lookup = (name: string) => env[name];
  const command = readCommandLine(program, args, lookup);
  const flags = ["--no-prompt"];
  const { host: database, rootCert } = databaseOf(command.config.databaseUrl);
  try {
    const { httpPort, httpHost } = command.config;
    const hosts = [
      ...brokerUrls(command.config.url).map(hostAndPort),
      ...(database ? [database] : []),
      // Its own listen address, when it serves /health and /metrics.
      ...(httpPort && program.settings.includes("httpPort")
        ? [joinHostPort(httpHost, httpPort)]
        : []),
      ...(program.connects?.(command, lookup) ?? []),
    ];
    // An empty --allow-net= would allow every host: leave it out instead.
    if (hosts.length > 0) flags.push(`--allow-net=${hosts.join(",")}`);
  } catch {
    // An invalid URL: no network at all; the program says why.
  }
  flags.push(
    `--allow-env=${
      [...envNeeds(program), ...(database ? POSTGRES_ENV : [])].join(",")
    }`,
  );
  const folder = program.keepsData
    ? join(command.config.dataDir, program.name)
    : undefined;
  const files = [
    ...program.reads?.(command, lookup) ?? [],
    // A secret in a file: that file, read by the program itself.
    ...program.settings.map((key) => {
      const { file } = SETTINGS[key];
      return file === undefined ? undefined : lookup(file);
    }),
    // The database's root certificate, as libpq's sslrootcert names it.
    rootCert,
    // Certificates and keys named by settings.
    ...program.settings.map((key) =>
      SETTINGS[key].path ? command.config[key] as string | undefined : undefined
    ),
  ].filter((file): file is string => Boolean(file));
  const writes = [
    ...folder ? [folder] : [],
    ...(program.writes?.(command, lookup) ?? []).filter((
      file,
    ): file is string => Boolean(file)),
  ];
  const reads = [...writes, ...files];
  if (reads.length > 0) flags.push(`--allow-read=${reads.join(",")}`);
  if (writes.length > 0) flags.push(`--allow-write=${writes.join(",")}`);
  return flags;
}

/**
 * What a PostgreSQL URL makes a program reach: its `host:port`, as
 * `--allow-net` takes it, and the `sslrootcert` file the store reads.
 */
function databaseOf(
  url: string | undefined,
): { host?: string; rootCert?: string } {
  if (!url) return {};
  try {
    const parsed = new URL(url);
    return {
      host: `${parsed.hostname}:${parsed.port || "5432"}`,
      rootCert: parsed.searchParams.get("sslrootcert") ?? undefined,
    };
  } catch {
    return {};
  }
}
