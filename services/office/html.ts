/**
 * HTML made on the server, escaped by default: a value put into a `markup`
 * template is text unless it is {@linkcode Html} made by another template.
 * (Not `html`: deno fmt reflows templates of that name, spaces included.)
 *
 * @module
 */

/** Markup that is safe to put in a page as it is. */
export class Html {
  /** The markup. */
  readonly text: string;

  /** Wraps markup that is known to be safe. */
  constructor(text: string) {
    this.text = text;
  }

  /** The markup. */
  toString(): string {
    return this.text;
  }
}

/** What a template takes: text (escaped), numbers, markup, lists of them. */
export type HtmlValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | Html
  | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` with `& < > " '` escaped, for element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/**
 * A template of markup: each value is escaped, unless it is markup itself;
 * a list is each of its items; `null`, `undefined` and `false` are nothing.
 */
export function markup(
  strings: TemplateStringsArray,
  ...values: HtmlValue[]
): Html {
  let text = strings[0];
  for (let i = 0; i < values.length; i++) {
    text += render(values[i]) + strings[i + 1];
  }
  return new Html(text);
}
