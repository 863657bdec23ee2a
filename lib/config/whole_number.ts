/**
 * Reading a whole number a user typed: a count, a quantity, a threshold.
 *
 * @module
 */
import { UsageError } from "../core/mod.ts";

/** Options of {@linkcode wholeNumber}. */
export interface WholeNumberOptions {
  /**
   * The smallest value accepted.
   *
   * @default {0}
   */
  min?: number;
  /**
   * The largest value accepted: by default the largest 32-bit integer, the
   * .NET `int` of the wire.
   *
   * @default {2147483647}
   */
  max?: number;
}

/**
 * Reads `text` as a whole number in decimal digits (a leading `-` allowed
 * when `min` is below zero).
 *
 * @throws {UsageError} naming the value, e.g.
 * `Invalid count "x": use a whole number from 0`.
 */
export function wholeNumber(
  name: string,
  text: string | undefined,
  options: WholeNumberOptions = {},
): number {
  const { min = 0, max = 2 ** 31 - 1 } = options;
  const trimmed = text?.trim() ?? "";
  const value = Number(trimmed);
  if (!/^-?\d+$/.test(trimmed) || value < min || value > max) {
    throw new UsageError(
      `Invalid ${name} "${text ?? ""}": use a whole number from ${min}`,
    );
  }
  return value;
}

/**
 * Reads `text` as a number above zero: a rate.
 *
 * @throws {UsageError} naming the value, e.g.
 * `Invalid rate "x": use a positive number`.
 */
export function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value) || text.trim() === "") {
    throw new UsageError(`Invalid ${name} "${text}": use a positive number`);
  }
  return value;
}
