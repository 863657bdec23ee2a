/**
 * The data formats: JSON messages (UTF-8 bytes in and out, decimals kept
 * exact, every message checked against its zod schema both ways).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { errorMessage } from "./text.ts";
import { Decimal } from "./decimal.ts";
import { ExactNumberError, parseExact } from "./exact_json.ts";

/** A message that is not JSON, or not of its contract. */
export class ContractError extends Error {
  /** Creates the error; `message` is one line saying what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ContractError";
  }
}

/**
 * A zod schema for an exact decimal: a JSON number as {@linkcode decode}
 * reads it, with its digits (a JSON string is refused, as a .NET reader
 * refuses it). Which fields are decimals is the schema's choice, not their
 * names': {@linkcode decode} keeps every number that is not a plain integer
 * exact, and this schema takes it, or a plain integer, as a Decimal.
 */
export function decimal(): z.ZodType<Decimal> {
  return z.preprocess(
    (value) =>
      typeof value === "number" && Number.isSafeInteger(value)
        ? Decimal.of(BigInt(value))
        : value,
    z.custom<Decimal>((value) => value instanceof Decimal, {
      error: "expected a JSON number",
    }),
  ) as unknown as z.ZodType<Decimal>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a message body: UTF-8, JSON, and of the schema (its size is the
 * consumer's to bound, before it gets here). `fast`, when given, is the
 * schema's plain check (`fast_check.ts`): what it accepts is the schema's
 * result; what it is not sure of goes to zod. Unknown properties are dropped, as .NET readers ignore them.
 *
 * @throws {ContractError} with a one-line reason when any of that fails.
 */
export function decode<T>(
  schema: z.ZodType<T>,
  body: Uint8Array,
  fast?: (value: unknown) => T | undefined,
): T {
  let value: unknown;
  try {
    value = parseExact(utf8.decode(body));
  } catch (error) {
    if (error instanceof ExactNumberError) {
      throw new ContractError(`Message is invalid: ${error.message}`);
    }
    // JSON nested thousands deep runs the reader out of stack: valid, but
    // no message of ours is, so it is said in those words.
    if (error instanceof RangeError) {
      throw new ContractError("Message is JSON nested too deeply to read");
    }
    throw new ContractError(
      `Message is not UTF-8 JSON: ${errorMessage(error)}`,
    );
  }
  const checked = fast?.(value);
  if (checked !== undefined) return checked;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ContractError(`Message is invalid: ${describe(result.error)}`);
  }
  return result.data;
}

/** Options of {@linkcode encode}. */
export interface EncodeOptions<T> {
  /** The schema's plain check (`fast_check.ts`), tried before zod. */
  fast?(value: unknown): T | undefined;
  /**
   * Writes a checked value as JSON text, as `JSON.stringify` would (held to
   * it by the contract's test): a writer that knows the shape skips the
   * walk over every key and every `toJSON`.
   *
   * @default {JSON.stringify}
   */
  write?(checked: T): string;
}

/**
 * Writes a message as UTF-8 JSON after checking it against the schema, so
 * nothing invalid leaves this service.
 *
 * @throws {ContractError} when the value is not of the schema.
 */
export function encode<T>(
  schema: z.ZodType<T>,
  value: T,
  options: EncodeOptions<T> = {},
): Buffer {
  let checked = options.fast?.(value);
  if (checked === undefined) {
    const result = schema.safeParse(value);
    if (!result.success) {
      throw new ContractError(`Message is invalid: ${describe(result.error)}`);
    }
    checked = result.data;
  }
  const text = options.write ? options.write(checked) : JSON.stringify(checked);
  return Buffer.from(text, "utf8");
}

/** Every issue on one line: `Items.0.Quantity: Too small: expected ...`. */
function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
