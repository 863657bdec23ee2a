/**
 * Exact decimal amounts, as .NET's `decimal` carries them: an integer of
 * units and a scale (the number of digits after the point), so `10.50` stays
 * `10.50` on the way through and `0.1 + 0.2` is `0.3`.
 *
 * @module
 */

/** The largest magnitude of a .NET `decimal`'s 96-bit integer part. */
const MAX_UNITS = (1n << 96n) - 1n;
/** The largest scale a .NET `decimal` has. */
const MAX_SCALE = 28;
const DECIMAL_TEXT = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal number that fits a .NET `decimal`. */
export class Decimal {
  readonly #units: bigint;
  readonly #scale: number;
  /** Its text, made once: a sale's amounts are written several times. */
  #text: string | undefined;

  private constructor(units: bigint, scale: number) {
    if (scale > MAX_SCALE || units > MAX_UNITS || units < -MAX_UNITS) {
      throw new RangeError(
        `Decimal "${format(units, scale)}" does not fit a .NET decimal`,
      );
    }
    this.#units = units;
    this.#scale = scale;
  }

  /**
   * Parses the text of a JSON number (`10.0`, `-3.25`, `1e2`) exactly,
   * keeping its scale.
   *
   * @throws {SyntaxError} when the text is not a JSON number.
   * @throws {RangeError} when the number does not fit a .NET decimal.
   */
  static parse(text: string): Decimal {
    const match = DECIMAL_TEXT.exec(text);
    if (!match) throw new SyntaxError(`Invalid decimal "${text}"`);
    const [, sign, whole, fraction = "", exponentText = "0"] = match;
    const exponent = Number(exponentText);
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 64) {
      throw new RangeError(`Decimal "${text}" does not fit a .NET decimal`);
    }
    let units = BigInt(sign + whole + fraction);
    let scale = fraction.length - exponent;
    if (scale < 0) {
      units *= 10n ** BigInt(-scale);
      scale = 0;
    }
    return new Decimal(units, scale);
  }

  /** Makes a decimal of `units / 10^scale`, e.g. `(1050n, 2)` is `10.50`. */
  static of(units: bigint, scale = 0): Decimal {
    return new Decimal(units, scale);
  }

  /** The integer of units, scaled by {@linkcode Decimal.scale}. */
  get units(): bigint {
    return this.#units;
  }

  /** Digits after the point, as written (`10.50` has 2). */
  get scale(): number {
    return this.#scale;
  }

  /** Whether this is below zero. */
  isNegative(): boolean {
    return this.#units < 0n;
  }

  /** The exact sum; its scale is the larger of the two. */
  add(other: Decimal): Decimal {
    const scale = Math.max(this.#scale, other.#scale);
    return new Decimal(
      rescale(this.#units, this.#scale, scale) +
        rescale(other.#units, other.#scale, scale),
      scale,
    );
  }

  /** The exact product with an integer (a quantity), keeping the scale. */
  times(factor: number | bigint): Decimal {
    if (typeof factor === "number" && !Number.isSafeInteger(factor)) {
      throw new RangeError(`Factor ${factor} is not an integer`);
    }
    return new Decimal(this.#units * BigInt(factor), this.#scale);
  }

  /** The exact product with another decimal; its scale is the sum of both. */
  multiply(other: Decimal): Decimal {
    return new Decimal(this.#units * other.#units, this.#scale + other.#scale);
  }

  /**
   * Rounded to `scale` digits after the point, halves away from zero (as
   * on a till receipt): `0.125` to 2 digits is `0.13`.
   */
  round(scale: number): Decimal {
    if (scale >= this.#scale) {
      return new Decimal(rescale(this.#units, this.#scale, scale), scale);
    }
    const divisor = 10n ** BigInt(this.#scale - scale);
    const magnitude = this.#units < 0n ? -this.#units : this.#units;
    let rounded = magnitude / divisor;
    if ((magnitude % divisor) * 2n >= divisor) rounded += 1n;
    return new Decimal(this.#units < 0n ? -rounded : rounded, scale);
  }

  /** -1, 0 or 1 as this is below, equal to or above `other` in value. */
  compare(other: Decimal): -1 | 0 | 1 {
    const scale = Math.max(this.#scale, other.#scale);
    const a = rescale(this.#units, this.#scale, scale);
    const b = rescale(other.#units, other.#scale, scale);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Whether both have the same value, whatever their scales (`1.0` = `1`). */
  equals(other: Decimal): boolean {
    return this.compare(other) === 0;
  }

  /** The plain decimal text, with its scale: `10.50`, `-0.3`, `7`. */
  toString(): string {
    return this.#text ??= format(this.#units, this.#scale);
  }

  /** A JSON number with the exact digits, as System.Text.Json writes it. */
  toJSON(): unknown {
    return (JSON as unknown as RawJson).rawJSON(this.toString());
  }
}

/** `JSON.rawJSON`, in the runtime but not yet in TypeScript's library. */
interface RawJson {
  rawJSON(text: string): unknown;
}

function rescale(units: bigint, from: number, to: number): bigint {
  return units * 10n ** BigInt(to - from);
}

function format(units: bigint, scale: number): string {
  const digits = (units < 0n ? -units : units).toString().padStart(
    scale + 1,
    "0",
  );
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? "." + digits.slice(digits.length - scale) : "";
  return (units < 0n ? "-" : "") + whole + fraction;
}
