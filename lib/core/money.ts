/**
 * Money and times for people: an exact amount with its currency's symbol
 * and its locale's grouping (`Rs 352,619.00`), and an instant in the shop's
 * time zone (`2026-12-05 14:02:27 NPT`). Machines keep getting the plain
 * decimal and UTC.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** How amounts are shown: the MONEY setting. */
export interface MoneyFormat {
  /** The currency's symbol: `Rs`. */
  symbol: string;
  /** The locale whose digit grouping and decimal mark are used: `en-US`. */
  locale: string;
}

/** How amounts and times are shown: the MONEY and TIME_ZONE settings. */
export interface Presentation extends MoneyFormat {
  /** The shop's time zone, an IANA name: `Asia/Kathmandu`. */
  timeZone: string;
}

/** Rupees grouped as in the demo shop's receipts, times in UTC. */
export const DEFAULT_PRESENTATION: Presentation = {
  symbol: "Rs",
  locale: "en-US",
  timeZone: "UTC",
};

/**
 * The symbol and locale of a MONEY setting: `Rs en-US`, `NPR ne-NP`.
 *
 * @throws {UsageError} naming a value that is not one.
 */
export function parseMoney(text: string): MoneyFormat {
  const match = /^\s*(\S{1,8})\s+([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\s*$/
    .exec(text);
  let locale: string | undefined;
  try {
    locale = match ? Intl.getCanonicalLocales(match[2])[0] : undefined;
  } catch {
    locale = undefined;
  }
  if (!match || !locale) {
    throw new UsageError(
      `Invalid money format "${text}": use a currency symbol and a locale, e.g. "Rs en-US"`,
    );
  }
  return { symbol: match[1], locale };
}

/**
 * A time zone of a TIME_ZONE setting, checked.
 *
 * @throws {UsageError} naming a zone that is not one.
 */
export function parseTimeZone(text: string): string {
  const zone = text.trim();
  try {
    // Checked, but kept as written: ICU would rename some zones.
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone;
  } catch {
    throw new UsageError(
      `Invalid time zone "${text}": use an IANA name, e.g. Asia/Kathmandu or UTC`,
    );
  }
}

/**
 * An exact amount for people: every digit kept, the integer part grouped
 * as the locale groups it.
 *
 * @example
 * ```ts
 * import { formatMoney } from "./money.ts";
 *
 * formatMoney("352619.00"); // "Rs 352,619.00"
 * ```
 */
export function formatMoney(
  amount: string | { toString(): string } | undefined,
  presentation: Pick<Presentation, "symbol" | "locale"> = DEFAULT_PRESENTATION,
): string {
  if (amount === undefined) return "";
  const text = amount.toString();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return `${presentation.symbol} ${text}`;
  const [, sign, whole, fraction] = match;
  const { format, decimal } = numbersOf(presentation.locale);
  const grouped = format.format(BigInt(whole));
  return `${sign}${presentation.symbol} ${grouped}${
    fraction === undefined ? "" : `${decimal}${fraction}`
  }`;
}

/**
 * An instant for people, in the shop's time zone: `2026-12-05 20:17:27
 * GMT+5:45`; the text as it is when it is not a time.
 */
export function formatTime(
  instant: string,
  presentation: Pick<Presentation, "timeZone"> = DEFAULT_PRESENTATION,
): string {
  const time = new Date(instant);
  if (Number.isNaN(time.getTime())) return instant;
  const parts = Object.fromEntries(
    timesOf(presentation.timeZone).formatToParts(time).map((
      part,
    ) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

// Made once per locale and zone: a page shows hundreds of amounts and times,
// and making a format costs far more than using one.
const numberFormats = new Map<
  string,
  { format: Intl.NumberFormat; decimal: string }
>();
const timeFormats = new Map<string, Intl.DateTimeFormat>();

/** The locale's grouping format and decimal mark. */
function numbersOf(
  locale: string,
): { format: Intl.NumberFormat; decimal: string } {
  let found = numberFormats.get(locale);
  if (found === undefined) {
    const format = new Intl.NumberFormat(locale, { useGrouping: true });
    const decimal = format.formatToParts(1.5).find((part) =>
      part.type === "decimal"
    )
      ?.value ?? ".";
    found = { format, decimal };
    numberFormats.set(locale, found);
  }
  return found;
}

/** The format of an instant in `timeZone`, in parts. */
function timesOf(timeZone: string): Intl.DateTimeFormat {
  let found = timeFormats.get(timeZone);
  if (found === undefined) {
    found = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    timeFormats.set(timeZone, found);
  }
  return found;
}
