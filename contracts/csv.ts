/**
 * CSV files a user gives the shop (a catalog, opening stock, sales to
 * import): a header line, then rows by header name, each with the line it
 * starts on, so that a problem can be named by line. Parsing is csv-parse's
 * (RFC 4180: quoted fields may hold commas, quotes and newlines).
 *
 * @module
 */
import { CsvError, parse } from "csv-parse/sync";

/** A file that is not CSV, named by line. */
export class CsvFormatError extends Error {
  /** Creates the error; `message` is one line naming the file and line. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CsvFormatError";
  }
}

/** A CSV row: the line it starts on (1-based) and its fields by header name. */
export interface CsvRow {
  line: number;
  fields: Record<string, string>;
}

/** A record as csv-parse gives it with `info` and `raw`. */
type Parsed = { record: string[]; raw: string; info: { lines: number } };

const REASONS: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: "unclosed quote",
  CSV_INVALID_CLOSING_QUOTE: "text after a closing quote",
};

/**
 * Reads CSV with a header line (names trimmed and lowercased): commas,
 * fields optionally in double quotes (`""` for a quote inside), blank lines
 * and lines starting with `#` skipped, a byte order mark ignored, values
 * trimmed.
 *
 * @throws {CsvFormatError} naming the line of a malformed row, or a row with
 * more or fewer fields than the header.
 */
export function parseCsv(
  text: string,
  source: string,
  /**
   * The columns the file must have, and what it is: a file without them is
   * said once to be another kind, rather than wrong on every line.
   */
  expected?: { columns: string[]; what: string; header: string },
): CsvRow[] {
  let records: Parsed[];
  try {
    // The types know only the plain records; info and raw wrap each one.
    records = parse(text, {
      bom: true,
      comment: "#",
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      raw: true,
    }) as unknown as Parsed[];
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const { code, lines } = error as CsvError & { lines?: number };
    throw new CsvFormatError(
      `${source} line ${lines}: ${REASONS[code] ?? error.message}`,
      { cause: error },
    );
  }
  const [head, ...rows] = records;
  if (!head) return [];
  const header = head.record.map((name) => name.trim().toLowerCase());
  if (expected && !expected.columns.every((name) => header.includes(name))) {
    throw new CsvFormatError(
      `${source} is not ${expected.what}: its header is "${
        head.record.join(",")
      }", ${expected.what}'s is "${expected.header}"`,
    );
  }
  return rows.map(({ record, raw, info }) => {
    // csv-parse counts the line a record ends on, and its raw text starts
    // with the blank and comment lines before it: count back from the end.
    const own = raw.replace(/\r?\n$/, "").replace(
      /^(?:[ \t]*(?:#.*)?\r?\n)*/,
      "",
    );
    const line = info.lines - (own.match(/\n/g)?.length ?? 0);
    if (record.length !== header.length) {
      throw new CsvFormatError(
        `${source} line ${line}: ${record.length} fields, the header has ${header.length}`,
      );
    }
    const fields: Record<string, string> = {};
    header.forEach((name, i) => fields[name] = record[i].trim());
    return { line, fields };
  });
}
