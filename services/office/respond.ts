/**
 * How the back office answers: an HTML page with its headers, a redirect, a
 * day and a path part read from a request.
 *
 * @module
 */
import { UsageError } from "../../lib/core/mod.ts";

/** Today, `2026-11-27`, in UTC as the read model's days are. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A day given in a query, `2026-11-27`, or undefined when none is given. */
export function dayParam(
  name: string,
  text: string | null,
): string | undefined {
  if (text === null || text === "") return undefined;
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(text) ||
    Number.isNaN(new Date(text).getTime())
  ) {
    throw new UsageError(
      `Invalid ${name} "${text}": use a day, e.g. 2026-11-27`,
    );
  }
  return text;
}

/** A part of a path, decoded. */
export function pathPart(text: string | undefined): string {
  try {
    return decodeURIComponent(text ?? "");
  } catch {
    throw new UsageError(`Invalid path part "${text}": a % that is not UTF-8`);
  }
}

const htmlHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
};

/** An HTML page. */
export function page(
  body: string,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: { ...htmlHeaders, ...headers },
  });
}

export function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

export const noStore = { headers: { "cache-control": "no-store" } };
