/**
 * The browser the back office's tests and its screenshot use: Debian's
 * Chromium, headless, driven by playwright-core, with nothing fetched from
 * the network (no browser download, no updates, no sync).
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, in a container, and quiet on the network. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Runs `work` with a browser, and closes it after.
 *
 * @throws {Error} saying how to install Chromium when it is not there.
 */
export async function withBrowser<T>(
  work: (browser: Browser) => Promise<T>,
): Promise<T> {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `No browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium)`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS],
  });
  try {
    return await work(browser);
  } finally {
    await browser.close();
  }
}
