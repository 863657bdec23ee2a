/**
 * The contracts' checks without zod's machinery, for the messages of every
 * sale: a plain function per schema that accepts what the zod schema
 * accepts and returns what it returns, or says "not sure" (undefined) and
 * leaves the message to zod, which has the last word and the error message.
 * `fast_check_test.ts` holds each to its schema over a corpus of valid and
 * broken messages.
 *
 * @module
 */
import type { z } from "zod";
import { Decimal } from "./decimal.ts";

/** Most items on one sale, as the sale's schema says. */
export const MAX_ITEMS = 1000;

/** Longest code in UTF-8 bytes, as the sale's schema says. */
export const MAX_CODE_BYTES = 64;

/** C0 and C1 control characters, DEL included. */
// deno-lint-ignore no-control-regex -- finding control characters is the point
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Invisible format characters (Unicode's Cf: a zero-width space, a
 * direction override, a soft hyphen): in a code they make one that looks
 * like another ("NEPAL\u200b-01" prints as NEPAL-01).
 */
export const FORMAT = /\p{Cf}/u;

const TILL = /^[A-Za-z0-9_-]{1,32}$/;

const encoder = new TextEncoder();

/** A code zod would take as it is (no trimming to do). */
export function isCode(value: unknown): value is string {
  if (typeof value !== "string" || value.length === 0) return false;
  if (
    value.trim() !== value || !value.isWellFormed() || CONTROL.test(value) ||
    FORMAT.test(value)
  ) {
    return false;
  }
  // A UTF-16 unit is at most 3 bytes of UTF-8.
  return value.length * 3 <= MAX_CODE_BYTES ||
    encoder.encode(value).byteLength <= MAX_CODE_BYTES;
}

/** A till id. */
export function isTillId(value: unknown): value is string {
  return typeof value === "string" && TILL.test(value);
}

/** A positive 32-bit integer. */
export function isPositiveInt32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 &&
    value <= 2_147_483_647;
}

/**
 * A price as the decimal schema reads it (a Decimal, or a safe integer made
 * one), when it is not negative; undefined when it is not one.
 */
export function priceOf(value: unknown): Decimal | undefined {
  const amount = typeof value === "number" && Number.isSafeInteger(value)
    ? Decimal.of(BigInt(value))
    : value;
  return amount instanceof Decimal && !amount.isNegative() ? amount : undefined;
}

/** Whether `value` is a plain object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether a string is of a zod string format (a date-time), by the format's
 * own pattern when that is all the schema checks: zod's parse around the
 * same test took four times as long.
 */
export function formatTest(
  schema: z.ZodType<string>,
): (value: string) => boolean {
  const zod = (schema as unknown as {
    _zod: { pattern?: RegExp; def: { checks?: unknown[] } };
  })._zod;
  const pattern = zod.pattern;
  if (pattern && !zod.def.checks?.length) {
    return (value) => pattern.test(value);
  }
  return (value) => schema.safeParse(value).success;
}
