/**
 * How long a service keeps its bookkeeping (`RETENTION`).
 *
 * @module
 */
import { UsageError } from "../core/mod.ts";

/** The retention unless RETENTION says otherwise. */
export const DEFAULT_RETENTION = "7d";

/**
 * A duration such as `7d`, `12h`, `30m` or `45s`, in milliseconds.
 *
 * @throws {UsageError} naming the value.
 */
export function parseRetention(text: string): number {
  return parseDuration("retention", text);
}

/**
 * A duration such as `7d`, `12h`, `30m` or `45s`, of at least a second, in
 * milliseconds.
 *
 * @throws {UsageError} naming the setting and the value.
 */
export function parseDuration(name: string, text: string): number {
  const match = /^(\d+)([dhms])$/.exec(text.trim());
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };
  const ms = match ? Number(match[1]) * unit[match[2] as keyof typeof unit] : 0;
  if (!match || ms < 1000) {
    throw new UsageError(
      `Invalid ${name} "${text}": use a duration such as 7d, 12h, 30m or 45s`,
    );
  }
  return ms;
}
