/**
 * What zod finds wrong with a basket or a catalog row, said in the shop's
 * words: `item 1: quantity "x" is not a whole number` rather than
 * `Items.0.Quantity: Invalid input: expected number, received NaN`.
 *
 * @module
 */
import type { z } from "zod";
import { printable } from "./text.ts";

/** The words for the wire's field names. */
const FIELD_WORDS: Record<string, string> = {
  Items: "items",
  Sku: "SKU",
  sku: "SKU",
  Quantity: "quantity",
  quantity: "quantity",
  StoreId: "store",
  store: "store",
  UnitPrice: "unit price",
  unit_price: "unit price",
  price: "price",
};

/** The value at `path` in `input`. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** `"x"` for text, `1.5` for a number, as a user would have typed it. */
function shown(value: unknown): string {
  if (typeof value === "string") return `"${printable(value)}"`;
  if (typeof value === "number" && Number.isNaN(value)) return "(not a number)";
  return printable(JSON.stringify(value) ?? String(value));
}

/** One problem of `input`, in words: `item 2: quantity 0 must be at least 1`. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const { path } = issue;
  const last = path.at(-1);
  const field = typeof last === "string"
    ? FIELD_WORDS[last] ?? last
    : typeof last === "number"
    ? "item"
    : "the sale";
  // `Items.0.Quantity`: "item 1: ...".
  const where = path.flatMap((key, i) =>
    typeof key === "number" && i < path.length - 1 ? [`item ${key + 1}`] : []
  );
  const value = valueAt(input, path);
  const what = (() => {
    switch (issue.code) {
      case "invalid_type":
        if (value === undefined) return `${field} is missing`;
        if (issue.expected === "number" || issue.expected === "int") {
          return `${field} ${shown(value)} is not a whole number`;
        }
        if (issue.expected === "array") return `${field} must be a list`;
        if (issue.expected === "string") {
          return `${field} ${shown(value)} must be text`;
        }
        if (issue.expected === "object") {
          return `${field} must be an object with fields`;
        }
        return `${field} ${shown(value)} is not a valid ${issue.expected}`;
      case "too_small":
        if (issue.origin === "array") {
          return `${field} is empty: a sale needs at least ${issue.minimum} item`;
        }
        if (issue.origin === "string") return `${field} is empty`;
        return `${field} ${shown(value)} must be at least ${
          issue.inclusive ? issue.minimum : Number(issue.minimum) + 1
        }`;
      case "too_big":
        if (issue.origin === "array") {
          return `too many ${field}: at most ${issue.maximum}`;
        }
        if (issue.origin === "string") {
          return `${field} is too long: at most ${issue.maximum} characters`;
        }
        return `${field} ${
          shown(value)
        } is too large: at most ${issue.maximum}`;
      case "unrecognized_keys":
        return `unknown field(s) ${issue.keys.join(", ")}`;
      default:
        // Our own refinements speak our words already.
        return `${field} ${shown(value)}: ${issue.message}`;
    }
  })();
  return [...where, what].join(": ");
}

/** Every problem of `input`, one line, `; ` between them. */
export function describeIssues(error: z.ZodError, input: unknown): string {
  return error.issues.map((issue) => describeIssue(issue, input)).join("; ");
}
