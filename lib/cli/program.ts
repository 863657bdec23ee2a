/**
 * A program's command line: what it takes (its own flags, the settings it
 * reads, the environment variables and files it needs), declared once: a
 * tool's in its own file, a service's in `lib/programs/`, apart from its
 * code. The program parses its arguments with it, and the launcher derives
 * the program's permissions from the same declaration.
 *
 * @module
 */
import type { BrokerNeeds } from "../messaging/mod.ts";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import {
  type Config,
  readEnv,
  resolveConfig,
  SETTINGS,
} from "../config/mod.ts";
import { errorMessage, UsageError } from "../core/mod.ts";
import { VERSION } from "./version.ts";

/**
 * A setting of one program beside the shared ones of {@linkcode Config}:
 * `--tax-rate` or TAX_RATE. A flag wins over its variable, a variable over
 * the default.
 */
export interface OwnSetting {
  /** The flag, without dashes. */
  flag: string;
  /** Its environment variable, when it has one. */
  env?: string;
  /** What the flag takes, for help: `r`. */
  value: string;
  /** One line of help, ending with its default. */
  help: string;
  /** Its value when neither the flag nor the variable gives one. */
  default?: string;
}

/**
 * A command of a program (`billing invoices`, `inventory stock`): its own
 * help, flags and settings, apart from the program's.
 */
export interface Command {
  /** Lines of help after the usage line, for the command's own options. */
  help: string;
  /** Its own flags, as `node:util` parseArgs takes them. */
  options: ParseArgsOptionsConfig;
  /** The settings of {@linkcode Config} it reads. */
  settings: readonly (keyof Config)[];
  /** Its own settings, by the name the command line gives their values. */
  own?: Record<string, OwnSetting>;
  /** Environment variables it reads besides those of its settings. */
  env?: readonly string[];
  /** Files a command line names for it to read. */
  reads?: Program["reads"];
}

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
  /** Its own settings, by the name the command line gives their values. */
  own?: Record<string, OwnSetting>;
  /**
   * Flags of which at most one may be given: `[["items", "file", "count"]]`.
   *
   * @default {[]}
   */
  oneOf?: readonly (readonly string[])[];
  /**
   * Flags that go only with another: `{ rate: "count" }`.
   *
   * @default {{}}
   */
  needs?: Readonly<Record<string, string>>;
  /** Environment variables it reads besides those of its settings. */
  env?: readonly string[];
  /**
   * What it does on the broker, from which its user's permissions follow
   * (`deno task broker -- setup`).
   */
  broker?: BrokerNeeds;
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
   * Files and folders a command line names for it to write (and read),
   * besides its own data folder.
   */
  writes?(
    command: CommandLine,
    env: (name: string) => string | undefined,
  ): (string | undefined)[];
  /**
   * Hosts (`host` or `host:port`) it connects to or listens on besides its
   * broker and database, as `--allow-net` takes them.
   */
  connects?(
    command: CommandLine,
    env: (name: string) => string | undefined,
  ): string[];
  /**
   * Its commands, by the first argument that names them; each has its own
   * help, flags and settings.
   */
  commands?: Record<string, Command>;
}

/** A parsed command line. */
export interface CommandLine {
  /** The program's own flags and the settings' flags, by name. */
  values: Record<string, unknown>;
  /** The arguments that are not flags. */
  positionals: string[];
  /** The settings, resolved from flags and environment. */
  config: Config;
  /** The program's own settings, resolved from flags, environment and defaults. */
  own: Record<string, string | undefined>;
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
  for (const { flag } of Object.values(program.own ?? {})) {
    options[flag] = { type: "string" };
  }
  options.help = { type: "boolean", short: "h" };
  options.version = { type: "boolean" };
  return options;
}

/**
 * The program as a command line uses it: when its first argument names one
 * of the program's commands, that command's help, flags and settings.
 */
export function programFor(program: Program, args: string[]): Program {
  if (!program.commands) return program;
  const every: ParseArgsOptionsConfig = { ...allOptions(program) };
  for (const command of Object.values(program.commands)) {
    Object.assign(every, allOptions({ ...program, ...command }));
  }
  const { positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: false,
    options: every,
  });
  const command = positionals[0];
  if (command === undefined || !Object.hasOwn(program.commands, command)) {
    return program;
  }
  const { help, options, settings, own, env, reads } =
    program.commands[command];
  return {
    ...program,
    help,
    options,
    settings,
    own,
    env,
    reads,
    service: false,
  };
}

/** The program's help, with the settings it reads. */
export function helpText(program: Program): string {
  const rows = [
    ...Object.values(program.own ?? {}),
    ...program.settings.map((key) => SETTINGS[key]),
  ].map(({ flag, env, value, help }) => [
    `--${flag} <${value}>`,
    env ?? "",
    help,
  ]);
  const width = Math.max(...rows.map(([flag]) => flag.length), 18);
  const envWidth = Math.max(...rows.map(([, env]) => env.length), 10);
  const lines = rows.map(([flag, env, help]) =>
    `  ${flag.padEnd(width)} ${env.padEnd(envWidth)} ${help}`
  );
  const configuration = lines.length === 0 ? "" : `

Configuration (flag, or environment variable):
${lines.join("\n")}`;
  return `${program.help.trim()}${configuration}

  ${"-h, --help".padEnd(width)} ${"".padEnd(envWidth)} show this help
  ${"--version".padEnd(width)} ${"".padEnd(envWidth)} show the version`;
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
  const used = programFor(program, args);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: allOptions(used),
    });
  } catch (error) {
    throw new UsageError(usageWords(used, error), { cause: error });
  }
  if (parsed.values.help) throw new HelpRequested(helpText(used));
  if (parsed.values.version) {
    throw new HelpRequested(`ShoppingApp ${VERSION} (${used.name})`);
  }
  checkRelations(used, parsed.values);
  return {
    ...parsed,
    config: resolveConfig(parsed.values, env),
    own: resolveOwn(used, parsed.values, env),
  };
}

/** What a flag of `program` takes, as its help says: `<n>`, or none for a switch. */
function valueOf(program: Program, flag: string): string {
  const setting = [
    ...program.settings.map((key) => SETTINGS[key]),
    ...Object.values(program.own ?? {}),
  ].find((found) => found.flag === flag);
  if (setting) return `<${setting.value}>`;
  const helped = new RegExp(`--${flag} (<[^>]+>)`).exec(program.help);
  return helped?.[1] ?? "a value";
}

/**
 * A parse error of `node:util` in our words, one line naming the flag and
 * what it takes.
 */
function usageWords(program: Program, error: unknown): string {
  const message = errorMessage(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
  const name = flag.replace(/^-+/, "");
  const code = (error as { code?: string })?.code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const known = Object.keys(allOptions(program)).map((option) =>
      `--${option}`
    );
    return `Unknown option ${flag}: ${program.name} takes ${known.join(", ")}`;
  }
  if (/does not take an argument/.test(message)) {
    return `${flag} takes no value: give it alone`;
  }
  if (/ambiguous/.test(message)) {
    return `${flag} takes ${
      valueOf(program, name)
    }, and what follows it looks like an option: write ${flag}=<value> to give one that starts with -`;
  }
  if (/argument missing/.test(message)) {
    return `${flag} takes ${valueOf(program, name)}, and none was given`;
  }
  return message.split("\n")[0];
}

/**
 * The flags given together that may not be, or alone that need another.
 *
 * @throws {UsageError} `Use one of --items, --file, not several`, or
 * `--rate goes with --count`.
 */
function checkRelations(
  program: Program,
  values: Record<string, unknown>,
): void {
  for (const group of program.oneOf ?? []) {
    const given = group.filter((name) => values[name] !== undefined);
    if (given.length > 1) {
      throw new UsageError(`Use one of --${given.join(", --")}, not several`);
    }
  }
  for (const [flag, needed] of Object.entries(program.needs ?? {})) {
    if (values[flag] !== undefined && values[needed] === undefined) {
      throw new UsageError(`--${flag} goes with --${needed}`);
    }
  }
}

/** A program's own settings: a flag wins over its variable, a variable over the default. */
export function resolveOwn(
  program: Program,
  values: Record<string, unknown>,
  env: (name: string) => string | undefined,
): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(program.own ?? {}).map(([name, setting]) => {
      const flag = values[setting.flag];
      const value = typeof flag === "string"
        ? flag
        : (setting.env === undefined
          ? undefined
          : env(setting.env) || undefined) ??
          setting.default;
      return [name, value];
    }),
  );
}

/** The environment variables a program's own settings read. */
export function ownEnv(program: Program): string[] {
  return Object.values(program.own ?? {}).flatMap(({ env }) =>
    env === undefined ? [] : [env]
  );
}

/**
 * The arguments without the settings' flags: the launcher hands the
 * settings to the program through its environment instead, where no other
 * user of the machine can read them (`--url` may hold a password).
 */
export function withoutSettings(
  whole: Program,
  args: string[],
): string[] {
  const program = programFor(whole, args);
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
