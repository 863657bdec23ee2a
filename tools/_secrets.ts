/**
 * The credentials files the setup tools write: one URL per service, mode
 * 0600, whose password a later run keeps.
 *
 * @module
 */

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

/** Writes `text` to `file`, readable by its owner only, whatever it was before. */
export async function writeSecret(file: string, text: string): Promise<void> {
  await Deno.writeTextFile(file, text, { mode: 0o600 });
  await Deno.chmod(file, 0o600);
}
