import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../lib/cli/mod.ts";
import { fill, generated } from "./docs.ts";

Deno.test("docs: the README's tables are the programs' declarations", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  assert.equal(
    fill(readme, await generated()),
    readme,
    "README.md differs from the declarations: run deno task docs",
  );
});

Deno.test("docs: docs/security.md's broker permissions are the declarations'", async () => {
  const text = await Deno.readTextFile(join(ROOT, "docs/security.md"));
  assert.equal(
    fill(text, await generated("docs/security.md")),
    text,
    "docs/security.md differs from the declarations: run deno task docs",
  );
});

Deno.test("docs: a table follows a declaration that changes", async () => {
  const parts = await generated();
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const drifted = readme.replace("`TAX_RATE`", "`TAX`");
  assert.notEqual(fill(drifted, parts), drifted);
  assert.equal(fill(drifted, parts), readme);
});

Deno.test("docs: the README stays short", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const lines = readme.split("\n").length;
  assert.ok(lines <= 300, `README.md has ${lines} lines, more than 300`);
});
