/**
 * What the setup tools (`broker -- setup`, `database -- setup`) share: their
 * command line, and the credentials files they write: one URL per service,
 * mode 0600, whose password a later run keeps.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../lib/config/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import {
  type CommandLine,
  parseCommandLine,
  type Program,
} from "../lib/cli/mod.ts";
import { printable } from "../contracts/text.ts";

/** The folder the URLs go to unless `--out` says: `<DATA_DIR>/secrets`. */
export function outOf(values: Record<string, unknown>, config: Config): string {
  return (values.out as string | undefined) ??
    join(config.dataDir, "secrets");
}

/**
 * The command line of a setup tool, whose one command is `setup`, and its
 * folder for the URLs, made (mode 0700) if need be.
 *
 * @throws {UsageError} for another command.
 */
export async function setupCommandLine(
  program: Program,
): Promise<CommandLine & { out: string }> {
  const command = parseCommandLine(program);
  const [name] = command.positionals;
  if (name !== "setup") {
    throw new UsageError(
      `Unknown command "${printable(name ?? "")}": use setup`,
    );
  }
  const out = outOf(command.values, command.config);
  await Deno.mkdir(out, { recursive: true, mode: 0o700 });
  return { ...command, out };
}

/**
 * The password the URL in `file` gives `user`, if that file is there and
 * names that user: a setup that runs again keeps it.
 */
export async function keptPassword(
  file: string,
  user: string,
): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    const first = new URL(text.trim().split(",")[0]);
    if (decodeURIComponent(first.username) === user) {
      return decodeURIComponent(first.password) || undefined;
    }
  } catch {
    // Not a URL: a new password replaces it.
  }
  return undefined;
}

/** A new random password: 24 bytes, URL-safe. */
export function newPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
}

/** `url` with another user and password: a service's URL from its administrator's. */
export function withCredentials(
  url: string,
  user: string,
  password: string,
): URL {
  const copy = new URL(url);
  copy.username = encodeURIComponent(user);
  copy.password = encodeURIComponent(password);
  return copy;
}

/** Writes `text` to `file`, readable by its owner only, whatever it was before. */
export async function writeSecret(file: string, text: string): Promise<void> {
  await Deno.writeTextFile(file, text, { mode: 0o600 });
  await Deno.chmod(file, 0o600);
}
