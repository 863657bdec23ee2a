/**
 * What every page of the back office shares: the head, the skip link, the
 * navigation, messages, money, and the page for a problem.
 *
 * @module
 */
import { type Html, type HtmlValue, markup } from "../html.ts";
import {
  DEFAULT_PRESENTATION,
  formatMoney,
  formatTime,
  type Presentation,
} from "../../../lib/core/mod.ts";

/** The pages in the navigation, by path. */
const PAGES: [path: string, label: string][] = [
  ["/", "Today"],
  ["/invoices", "Invoices"],
  ["/stock", "Stock"],
  ["/close", "Day close"],
  ["/errors", "Error queues"],
  ["/live", "Live"],
  ["/audit", "Audit"],
];

/** Options of {@linkcode layout}. */
export interface LayoutOptions {
  /** The page's title and first heading. */
  title: string;
  /** The navigation entry it belongs to. */
  section: string;
  /**
   * Whether the page follows the shop live (it opens `/events`).
   *
   * @default {false}
   */
  live?: boolean;
}

/** A whole page: head, skip link, navigation, and `body` as its main part. */
export function layout(options: LayoutOptions, body: Html): string {
  const { title, section, live = false } = options;
  return `<!doctype html>\n${markup`
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title} · ShoppingApp back office</title>
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
      </head>
      <body data-symbol="${current.symbol}" data-locale="${current.locale}"
        data-zone="${current.timeZone}"${
    live
      ? markup`
          data-live
        `
      : ""
  }>
        <a class="skip" href="#main">Skip to content</a>
        <header>
    <a class="brand" href="/">ShoppingApp back office</a>
    <nav aria-label="Pages"><ul>${
    PAGES.map(([path, label]) =>
      markup`<li><a href="${path}"${
        path === section
          ? markup`
            aria-current="page"
          `
          : ""
      }>${label}</a></li>`
    )
  }</ul></nav>
    ${
    live ? markup`<span id="live-status" class="muted">Connecting…</span>` : ""
  }
        </header>
        <main id="main" tabindex="-1">
    <h1>${title}</h1>
    ${body}
        </main>
        </body>
        </html>
  `}\n`;
}

/** How the pages show money and times: the MONEY and TIME_ZONE settings. */
let current: Presentation = DEFAULT_PRESENTATION;

/** Sets how the pages show money and times, once at the start. */
export function presentWith(settings: Presentation): void {
  current = settings;
}

/** An amount of money as the pages print it: `Rs 352,619.00`. */
export const money = (amount: string | { toString(): string } | undefined) =>
  formatMoney(amount, current);

/** An instant as people read it, in the shop's zone. */
export const shownTime = (instant: string) => formatTime(instant, current);

/** An instant as the pages print it, in the shop's zone; the machine form in `datetime`. */
export function time(instant: string): Html {
  return markup`<time datetime="${instant}">${shownTime(instant)}</time>`;
}

/** A message above a page's content: done (`notice`) or failed (`error`). */
export function message(
  kind: "notice" | "error",
  text: string | undefined,
): HtmlValue {
  if (!text) return undefined;
  return kind === "error"
    ? markup`<p class="error" role="alert">${text}</p>`
    : markup`<p class="notice" role="status">${text}</p>`;
}

/** A page that says what is wrong, for 404 and 400. */
export function problemPage(title: string, text: string): string {
  return layout(
    { title, section: "" },
    markup`
      <p class="error" role="alert">${text}</p>
      <p><a href="/">Back to Today</a></p>
    `,
  );
}
