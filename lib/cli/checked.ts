/**
 * A value from the command line checked by a schema (zod's, or any with
 * `safeParse`): the schema's first issue becomes a usage error naming the
 * option and the value.
 *
 * @module
 */
import { UsageError } from "../core/mod.ts";
import { printable } from "../../contracts/text.ts";

/** What {@linkcode checkedOption} needs of a schema. */
export interface OptionSchema<T> {
  safeParse(value: unknown):
    | { success: true; data: T }
    | { success: false; error: { issues: { message: string }[] } };
}

/**
 * `value` as `schema` reads it.
 *
 * @throws {UsageError} `Invalid store "X": <the schema's words>`.
 *
 * @example
 * ```ts
 * import { checkedOption } from "./checked.ts";
 * import { code } from "../../contracts/sale.ts";
 *
 * const store = checkedOption(code, "store", "NEPAL-01");
 * ```
 */
export function checkedOption<T>(
  schema: OptionSchema<T>,
  name: string,
  value: unknown,
): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new UsageError(
      `Invalid ${name} "${printable(String(value ?? ""))}": ${
        result.error.issues[0].message
      }`,
    );
  }
  return result.data;
}
