import assert from "node:assert/strict";
import { printable } from "./text.ts";

Deno.test("printable: controls, separators and lone surrogates are escaped", () => {
  assert.equal(printable("A\u0000B"), "A\\u0000B");
  assert.equal(printable("\u001b]0;owned\u0007"), "\\u001b]0;owned\\u0007");
  assert.equal(printable("one\ntwo\r"), "one\\u000atwo\\u000d");
  assert.equal(printable("\ud800x\udbff"), "\\ud800x\\udbff");
  assert.equal(printable("\u202eevil"), "\\u202eevil");
  assert.equal(printable("Nepal 🇳🇵 दूध"), "Nepal 🇳🇵 दूध", "real text stays");
});

Deno.test("printable: invisible format characters are written out", () => {
  assert.equal(printable("NEPAL\u200b-01"), "NEPAL\\u200b-01");
  assert.equal(printable("\u202eTSET"), "\\u202eTSET");
});
