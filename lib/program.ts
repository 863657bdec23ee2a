/**
 * A program's command line: what it takes (its own flags, the settings it
 * reads, the environment variables and files it needs), declared once next
 * to its code. The program parses its arguments with it, and the launcher
 * derives the program's permissions from the same declaration.
 *
 * @module
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type Config, readEnv, resolveConfig, SETTINGS } from "./config.ts";
import { errorMessage, UsageError } from "./errors.ts";

/** A program: a service, or a tool such as `errors` or `watch`. */
export interface Program {
  /** The name in messages, and the service's data folder: `billing`. */
  name: string;
  /** Its script, relative to the project's root. */
  script: string;
  /** Lines of help after the usage line, for the program's own options. */
  help: string;
  /** Its own flags, as `node:util` parseArgs takes them. */
  options: ParseArgsOptionsConfig;
  /** The settings of {@linkcode Config} it reads. */
  settings: readonly (keyof Config)[];
  /** Environment variables it reads besides those of its settings. */
  env?: readonly string[];
  /**
   * Whether it is a service, which runs for long when given no command
   * (`deno task billing`), as against a tool or a one-off command
   * (`deno task invoices`): only a running service gets a bounded heap.
   *
   * @default {false}
   */
  service?: boolean;
  /**
   * Whether it keeps data under `<DATA_DIR>/<name>`.
   *
   * @default {false}
   */
  keepsData?: boolean;
  /**
   * Files a command line names for it to read (`--file x.csv`), besides
   * its own data folder.
   */
  reads?(command: CommandLine, env: (name: string) => string | undefined): (
    | string
    | undefined
  )[];
  /**
   * Hosts (`host` or `host:port`) it connects to besides its broker and
   * database, as `--allow-net` takes them.
   */
  connects?(command: CommandLine): string[];
}

/** A parsed command line. */
export interface CommandLine {
  /** The program's own flags and the settings' flags, by name. */
  values: Record<string, unknown>;
  /** The arguments that are not flags. */
  positionals: string[];
  /** The settings, resolved from flags and environment. */
  config: Config;
}

/** Thrown for `--help`: the program prints `text` and exits 0. */
export class HelpRequested extends Error {
  /** The help to print. */
  readonly text: string;

  /** Creates the request with the program's help. */
  constructor(text: string) {
    super("Help requested");
    this.name = "HelpRequested";
    this.text = text;
  }
}

/** The parseArgs options of a program: its own and its settings' flags. */
function allOptions(program: Program): ParseArgsOptionsConfig {
  const options: ParseArgsOptionsConfig = { ...program.options };
  for (const key of program.settings) {
    options[SETTINGS[key].flag] = { type: "string" };
  }
  options.help = { type: "boolean", short: "h" };
  return options;
}

/** The program's help, with the settings it reads. */
export function helpText(program: Program): string {
  const lines = program.settings.map((key) => {
    const { flag, env, value, help } = SETTINGS[key];
    return `  ${`--${flag} <${value}>`.padEnd(18)} ${env.padEnd(10)} ${help}`;
  });
  return `${program.help.trim()}

Configuration (flag, or environment variable):
${lines.join("\n")}
  -h, --help                    show this help`;
}

/**
 * Reads a program's flags and environment.
 *
 * @throws {HelpRequested} for `--help`.
 * @throws {UsageError} naming a flag or value that cannot be used.
 */
export function parseCommandLine(
  program: Program,
  args: string[] = Deno.args,
  env: (name: string) => string | undefined = readEnv,
): CommandLine {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: allOptions(program),
    });
  } catch (error) {
    throw new UsageError(errorMessage(error), { cause: error });
  }
  if (parsed.values.help) throw new HelpRequested(helpText(program));
  return { ...parsed, config: resolveConfig(parsed.values, env) };
}

/**
 * The arguments without the settings' flags: the launcher hands the
 * settings to the program through its environment instead, where no other
 * user of the machine can read them (`--url` may hold a password).
 */
export function withoutSettings(program: Program, args: string[]): string[] {
  const settingFlags = new Set(
    program.settings.map((key) => SETTINGS[key].flag),
  );
  const { tokens } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    tokens: true,
    options: allOptions(program),
  });
  const dropped = new Set<number>();
  for (const token of tokens ?? []) {
    if (token.kind !== "option" || !settingFlags.has(token.name)) continue;
    dropped.add(token.index);
    if (!token.inlineValue && token.value !== undefined) {
      dropped.add(token.index + 1);
    }
  }
  return args.filter((_, i) => !dropped.has(i));
}
