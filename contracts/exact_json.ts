/**
 * JSON with its numbers kept exact, as fast as the plain reader allows.
 * `JSON.parse` with a reviver that sees each number's source text is exact
 * but slow (the reviver runs for every value); here the plain reader parses,
 * one pass over the text collects the number tokens, and each number that a
 * binary float would round is replaced by its token, read as a
 * {@linkcode Decimal}. When the text and the value cannot be paired for
 * certain (a key twice, a key that is an array index), the reviver does it.
 *
 * @module
 */
import { Decimal } from "./decimal.ts";

/** Why a number could not be kept exact: its key, and what went wrong. */
export class ExactNumberError extends Error {
  /** Creates the error for the number under `key`. */
  constructor(key: string, cause: unknown) {
    super(
      `${key}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "ExactNumberError";
  }
}

/** Whether a number's text says more than a binary float keeps. */
function needsExact(value: number, source: string): boolean {
  return !Number.isSafeInteger(value) || /[.eE]/.test(source);
}

/** The reviver: every number a float would round becomes a Decimal. */
function reviver(
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  const source = context?.source;
  if (typeof value !== "number" || source === undefined) return value;
  if (!needsExact(value, source)) return value;
  try {
    return Decimal.parse(source);
  } catch (error) {
    throw new ExactNumberError(key, error);
  }
}

/** The number tokens of JSON text, in order, and how many keys it has. */
function scan(text: string): { numbers: string[]; keys: number } {
  const numbers: string[] = [];
  let keys = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) { // "
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2; // \ and the escaped character
        else if (d === 34) break;
        else i++;
      }
      i++;
      // A string followed by ':' is a key.
      let j = i;
      while (j < n && text.charCodeAt(j) <= 32) j++;
      if (text.charCodeAt(j) === 58) keys++;
    } else if (c === 45 || (c >= 48 && c <= 57)) { // - or a digit
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        // Digits, . e E + -
        if (
          (d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 ||
          d === 43 || d === 45
        ) i++;
        else break;
      }
      numbers.push(text.slice(start, i));
    } else {
      i++;
    }
  }
  return { numbers, keys };
}

/** An array index as a key: JavaScript puts such keys first, out of order. */
const INDEX_KEY = /^(0|[1-9]\d*)$/;

/**
 * Parses JSON text, keeping every number that a binary float would round
 * (a fraction, an exponent, an integer beyond 2^53) as a Decimal of its
 * exact digits.
 *
 * @throws {SyntaxError} for text that is not JSON.
 * @throws {ExactNumberError} for a number that no Decimal holds.
 */
export function parseExact(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const tokens = scan(text);
  // The values' numbers in document order, with where each sits.
  const places: {
    holder: Record<string | number, unknown>;
    key: string | number;
  }[] = [];
  let keys = 0;
  let ordered = true;
  const walk = (
    holder: Record<string | number, unknown>,
    key: string | number,
  ) => {
    const item = holder[key];
    if (typeof item === "number") {
      places.push({ holder, key });
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) walk(item as never, i);
    } else if (item !== null && typeof item === "object") {
      for (const name of Object.keys(item)) {
        keys++;
        if (INDEX_KEY.test(name)) ordered = false;
        walk(item as Record<string, unknown>, name);
      }
    }
  };
  const root: Record<string, unknown> = { "": value };
  walk(root, "");
  const { numbers } = tokens;
  if (
    !ordered || keys !== tokens.keys ||
    numbers.length !== places.length ||
    places.some(({ holder, key }, i) => holder[key] !== Number(numbers[i]))
  ) {
    // Not paired for certain: the reviver sees each number's own text.
    return JSON.parse(text, reviver as never);
  }
  places.forEach(({ holder, key }, i) => {
    const number = holder[key] as number;
    if (!needsExact(number, numbers[i])) return;
    try {
      holder[key] = Decimal.parse(numbers[i]);
    } catch (error) {
      throw new ExactNumberError(String(key), error);
    }
  });
  return root[""];
}

/** The same, always by the reviver: for tests to hold the fast path to. */
export function parseExactSlowly(text: string): unknown {
  return JSON.parse(text, reviver as never);
}
