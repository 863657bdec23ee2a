/**
 * The data formats: JSON messages (UTF-8 bytes in and out, decimals kept
 * exact, every message checked against its zod schema both ways) and CSV
 * files (catalog, opening stock, sales to import).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { z } from "zod";
import { Decimal } from "./decimal.ts";

/** The largest message body accepted; a sale of 1,000 items is ~60 KiB. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Property names whose JSON numbers are read as exact {@linkcode Decimal}s. */
const DECIMAL_FIELDS = new Set([
  "TotalAmount",
  "UnitPrice",
  "LineTotal",
  "Subtotal",
  "TaxRate",
  "Tax",
  "Total",
]);

/** A message that is not JSON, or not of its contract. */
export class ContractError extends Error {
  /** Creates the error; `message` is one line saying what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ContractError";
  }
}

/**
 * A zod schema for an exact decimal: a JSON number read by {@linkcode decode}
 * (a JSON string is refused, as a .NET reader refuses it).
 */
export function decimal(): z.ZodType<Decimal> {
  return z.custom<Decimal>((value) => value instanceof Decimal, {
    error: "expected a JSON number",
  });
}

/**
 * Reads a message body: UTF-8, at most {@linkcode MAX_BODY_BYTES}, JSON, and
 * of the schema. Unknown properties are dropped, as .NET readers ignore them.
 *
 * @throws {ContractError} with a one-line reason when any of that fails.
 */
export function decode<T>(schema: z.ZodType<T>, body: Uint8Array): T {
  if (body.byteLength > MAX_BODY_BYTES) {
    throw new ContractError(
      `Message body is ${body.byteLength} bytes, more than the ${MAX_BODY_BYTES} allowed`,
    );
  }
  let value: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    value = JSON.parse(text, readDecimals);
  } catch (error) {
    if (error instanceof ContractError) throw error;
    throw new ContractError(`Message is not UTF-8 JSON: ${reason(error)}`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ContractError(`Message is invalid: ${describe(result.error)}`);
  }
  return result.data;
}

/**
 * Writes a message as UTF-8 JSON after checking it against the schema, so
 * nothing invalid leaves this service.
 *
 * @throws {ContractError} when the value is not of the schema.
 */
export function encode<T>(schema: z.ZodType<T>, value: T): Buffer {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ContractError(`Message is invalid: ${describe(result.error)}`);
  }
  return Buffer.from(JSON.stringify(result.data), "utf8");
}

function readDecimals(
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (
    typeof value === "number" && DECIMAL_FIELDS.has(key) &&
    context?.source !== undefined
  ) {
    try {
      return Decimal.parse(context.source);
    } catch (error) {
      throw new ContractError(`Message is invalid: ${key}: ${reason(error)}`);
    }
  }
  return value;
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

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A CSV row: its 1-based line number and its fields by header name. */
export interface CsvRow {
  line: number;
  fields: Record<string, string>;
}

/**
 * Reads CSV with a header line: commas, fields optionally in double quotes
 * (`""` for a quote inside), blank lines and lines starting with `#` skipped.
 *
 * @throws {ContractError} naming the line of a malformed row.
 */
export function parseCsv(text: string, source: string): CsvRow[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const rows: CsvRow[] = [];
  let header: string[] | undefined;
  lines.forEach((raw, index) => {
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const values = splitCsvLine(raw, `${source} line ${index + 1}`);
    if (!header) {
      header = values.map((name) => name.trim().toLowerCase());
      return;
    }
    if (values.length !== header.length) {
      throw new ContractError(
        `${source} line ${
          index + 1
        }: ${values.length} fields, the header has ${header.length}`,
      );
    }
    const fields: Record<string, string> = {};
    header.forEach((name, i) => fields[name] = values[i].trim());
    rows.push({ line: index + 1, fields });
  });
  return rows;
}

function splitCsvLine(line: string, where: string): string[] {
  const values: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = "";
      i++;
      while (true) {
        if (i >= line.length) {
          throw new ContractError(`${where}: unclosed quote`);
        }
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else {
          value += line[i++];
        }
      }
      if (i < line.length && line[i] !== ",") {
        throw new ContractError(`${where}: text after a closing quote`);
      }
      values.push(value);
    } else {
      const end = line.indexOf(",", i);
      values.push(line.slice(i, end === -1 ? line.length : end));
      i = end === -1 ? line.length : end;
    }
    i++;
  }
  return values;
}
