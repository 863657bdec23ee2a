import assert from "node:assert/strict";
import { CsvFormatError, parseCsv } from "./csv.ts";

Deno.test("csv: rows by header, with the line each starts on", () => {
  const text = '\uFEFFSKU, Name ,price\n# a comment\nA,"a, with comma",1\n\n' +
    'B,"two\nlines",2\nC,"say ""hi""",3\nD,b#c,4\n';
  assert.deepEqual(parseCsv(text, "x.csv"), [
    { line: 3, fields: { sku: "A", name: "a, with comma", price: "1" } },
    { line: 5, fields: { sku: "B", name: "two\nlines", price: "2" } },
    { line: 7, fields: { sku: "C", name: 'say "hi"', price: "3" } },
    { line: 8, fields: { sku: "D", name: "b#c", price: "4" } },
  ]);
  assert.deepEqual(parseCsv("", "empty.csv"), []);
  assert.deepEqual(parseCsv("a,b", "head.csv"), []);
});

Deno.test("csv: malformed rows are one line naming the file and line", () => {
  assert.throws(
    () => parseCsv('a,b\n1,2\n3,"open\n', "q.csv"),
    (error: unknown) =>
      error instanceof CsvFormatError &&
      /^q\.csv line \d+: unclosed quote$/.test(error.message),
  );
  assert.throws(
    () => parseCsv('a,b\n"x"y,1\n', "t.csv"),
    /^CsvFormatError: t\.csv line 2: text after a closing quote$/,
  );
  assert.throws(
    () => parseCsv("a,b\n1,2\n1,2,3\n", "n.csv"),
    /^CsvFormatError: n\.csv line 3: 3 fields, the header has 2$/,
  );
});
