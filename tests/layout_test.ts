/**
 * The house rules a reader relies on to know where a change goes: no source
 * file beyond 450 lines, contracts that import nothing of ours above them,
 * the services and lib/ free of test support, and lib/'s packages reached through
 * their `mod.ts`.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { projectPath } from "./support/process.ts";

const ROOT = projectPath(".");
const SKIPPED = new Set([
  ".git",
  "node_modules",
  "data",
  "dist",
  "results",
  "compose_spec",
]);
const MOST_LINES = 450;

/** Every TypeScript source file, relative to the project. */
async function sources(dir = ROOT): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !SKIPPED.has(entry.name)) {
      found.push(...await sources(path));
    } else if (entry.isFile && entry.name.endsWith(".ts")) {
      found.push(relative(ROOT, path));
    }
  }
  return found.toSorted();
}

/** The project files `file` imports by a relative path, outside comments. */
async function importsOf(file: string): Promise<string[]> {
  const text = await Deno.readTextFile(join(ROOT, file));
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(
    /^\s*\/\/.*$/gm,
    "",
  );
  return [...code.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((
    [, path],
  ) => normalize(join(dirname(file), path)));
}

const files = await sources();

Deno.test("layout: no source file is over 450 lines", async () => {
  const long: string[] = [];
  for (const file of files) {
    const lines = (await Deno.readTextFile(join(ROOT, file))).split("\n")
      .length - 1;
    if (lines > MOST_LINES) long.push(`${file}: ${lines} lines`);
  }
  assert.deepEqual(long, []);
});

Deno.test("layout: contracts/ import only contracts/", async () => {
  const upward: string[] = [];
  for (const file of files.filter((f) => f.startsWith("contracts/"))) {
    for (const target of await importsOf(file)) {
      if (!target.startsWith("contracts/")) upward.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("layout: the product imports no test support", async () => {
  const leaks: string[] = [];
  // The benchmark and the screenshot tool run the shop in a sandbox too.
  const product = /^(services|lib|contracts)\//;
  for (const file of files) {
    if (!product.test(file) || file.endsWith("_test.ts")) continue;
    for (const target of await importsOf(file)) {
      if (target.startsWith("tests/")) leaks.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(leaks, []);
});

Deno.test("layout: a package in lib/ is reached through its mod.ts", async () => {
  const around: string[] = [];
  for (const file of files) {
    for (const target of await importsOf(file)) {
      const [top, name, ...rest] = target.split("/");
      if (top !== "lib" || rest.length === 0) continue;
      const inside = file.startsWith(`lib/${name}/`);
      // A service loads its own declaration only: the launcher and
      // `tools/exec_line.ts` read the declarations without any service code.
      const ownDeclaration = name === "programs" &&
        file === `services/${rest.join("/")}`;
      if (!inside && !ownDeclaration && rest.at(-1) !== "mod.ts") {
        around.push(`${file} → ${target}`);
      }
    }
  }
  assert.deepEqual(around, []);
});
