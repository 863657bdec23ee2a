/**
 * How the launcher and `tools/exec.sh` start a program: the `deno`
 * arguments (its derived permission flags, the services' V8 flags) and the
 * environment, from its declaration alone, so that deriving them loads none
 * of the program's code.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SETTINGS } from "../config/mod.ts";
import { envNeeds, permissionFlags } from "./permissions.ts";
import {
  parseCommandLine,
  type Program,
  programFor,
  withoutSettings,
} from "./program.ts";
import { LAUNCHER_PID } from "./shutdown.ts";

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The V8 flags of a running service: a bounded heap, a young generation of
 * 4 MiB a half, no allocation-site pretenuring. Why each, as measured:
 * `docs/decisions/v8-flags.md`.
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
 * How to run the program `declared` with `args` in `env`: under its derived
 * permissions,
 * with its settings resolved once here and passed in its environment, so
 * that no secret of `--url` stays on a command line.
 */
export function invocationOf(
  declared: Program,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Invocation {
  const program: Program = programFor(declared, args);
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
    const { config, positionals, values } = parseCommandLine(
      program,
      args,
      (variable) => env[variable],
    );
    for (const key of program.settings) {
      const value = config[key];
      const { env: variable, flag, file, text = String } = SETTINGS[key];
      // A secret from a file stays there: the program reads the file.
      const fromFile = file !== undefined && childEnv[file] &&
        !env[variable] && typeof values[flag] !== "string";
      if (fromFile) {
        delete childEnv[variable];
      } else if (value !== undefined) {
        childEnv[variable] = text(value as never);
        if (file !== undefined) delete childEnv[file];
      } else delete childEnv[variable];
    }
    programArgs = withoutSettings(declared, args);
    serving = Boolean(program.service) && positionals.length === 0;
  } catch {
    // The program reads the same command line and says what is wrong.
  }
  return {
    args: [
      "run",
      ...permissionFlags(declared, env, args),
      // Tools and listings read as much as they are asked to: no cap.
      ...(serving ? [V8_FLAGS] : []),
      scriptOf(program),
      ...programArgs,
    ],
    env: childEnv,
  };
}

/** The absolute path of `program`'s script. */
export function scriptOf(program: Program): string {
  return join(ROOT, program.script);
}

/** `text` as one word of a POSIX shell. */
function quoted(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Shell commands that run `declared` in the shell's own process, for
 * `tools/exec.sh`: its settings exported (not on its command line, where a
 * password would show), then `exec` of Deno with the permission flags
 * derived from its command line.
 */
export function shellCommandsOf(
  declared: Program,
  env: Record<string, string | undefined>,
  args: string[],
): string {
  const { args: deno, env: childEnv } = invocationOf(declared, env, args);
  // Without the launcher, there is no launcher's pid to watch.
  const exports = Object.entries(childEnv).filter(([variable]) =>
    variable !== LAUNCHER_PID
  ).map(([variable, value]) => `${variable}=${quoted(value)}`);
  return [
    ...(exports.length > 0 ? [`export ${exports.join(" ")}`] : []),
    `unset ${LAUNCHER_PID}`,
    `exec ${[Deno.execPath(), ...deno].map(quoted).join(" ")}`,
  ].join("; ");
}
