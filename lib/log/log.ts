/**
 * A service's log: the article's human lines by default, or with
 * `LOG_FORMAT=json` one JSON object per line (time, level, service, message,
 * and the sale, store and trace it is about), for a log collector. Either
 * way, info goes to stdout and warnings and errors to stderr.
 *
 * @module
 */
import { readEnv } from "../config/mod.ts";
import { UsageError } from "../core/mod.ts";

/** The variable that picks the format. */
export const LOG_FORMAT = "LOG_FORMAT";

/** How lines are written: as text for people, or JSON for machines. */
export type LogFormat = "text" | "json";

/** How serious a line is. */
export type LogLevel = "info" | "warn" | "error";

/** What a line is about, as fields of its JSON object. */
export interface LogFields {
  /** The sale's id. */
  saleId?: number;
  /** The store's id. */
  store?: string;
  /** The W3C trace id of the work, when traced. */
  traceId?: string;
}

/** One line: its text and what it is about. */
export interface LogLine extends LogFields {
  /** The line, as the text format prints it. */
  message: string;
}

/** Options of {@linkcode createLog}. */
export interface LogOptions {
  /**
   * The format.
   *
   * @default {logFormat()}
   */
  format?: LogFormat;
  /**
   * Writes text that ends in a newline, to stdout for info and to stderr
   * otherwise.
   *
   * @default {writes to Deno.stdout or Deno.stderr}
   */
  write?(level: LogLevel, text: string): void;
}

/** A service's log. */
export interface Log {
  /** The service, in JSON lines and in the prefixes of text ones. */
  readonly service: string;
  /** The format its lines are written in. */
  readonly format: LogFormat;
  /** Something that happened as it should. */
  info(message: string, fields?: LogFields): void;
  /** Something an operator may want to act on. */
  warn(message: string, fields?: LogFields): void;
  /** Something that failed. */
  error(message: string, fields?: LogFields): void;
  /** Several lines of one level in one write: a line per sale costs a syscall each. */
  lines(level: LogLevel, lines: LogLine[]): void;
}

/**
 * The format LOG_FORMAT asks for: `text` (the default) or `json`.
 *
 * @throws {UsageError} for another value.
 */
export function logFormat(
  env: (name: string) => string | undefined = readEnv,
): LogFormat {
  const value = env(LOG_FORMAT) || "text";
  if (value !== "text" && value !== "json") {
    throw new UsageError(`Invalid log format "${value}": use text or json`);
  }
  return value;
}

const encoder = new TextEncoder();

function writeStd(level: LogLevel, text: string): void {
  const bytes = encoder.encode(text);
  const stream = level === "info" ? Deno.stdout : Deno.stderr;
  let written = 0;
  while (written < bytes.length) {
    written += stream.writeSync(bytes.subarray(written));
  }
}

/** A log for `service`. */
export function createLog(service: string, options: LogOptions = {}): Log {
  const format = options.format ?? logFormat();
  const write = options.write ?? writeStd;
  const render = format === "json"
    ? (level: LogLevel, line: LogLine) =>
      JSON.stringify({
        time: new Date().toISOString(),
        level,
        service,
        ...line,
      })
    : (_: LogLevel, line: LogLine) => line.message;
  const lines = (level: LogLevel, entries: LogLine[]) => {
    if (entries.length === 0) return;
    write(
      level,
      entries.map((line) => render(level, line)).join("\n") + "\n",
    );
  };
  const one = (level: LogLevel) => (message: string, fields?: LogFields) =>
    lines(level, [{ message, ...fields }]);
  return {
    service,
    format,
    info: one("info"),
    warn: one("warn"),
    error: one("error"),
    lines,
  };
}
