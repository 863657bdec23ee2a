/**
 * The command line answers as expected: every task answers `--help` and
 * `--version` without doing anything else, and a help lists the options its
 * command takes, no more and no fewer.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../lib/config/mod.ts";
import { helpText, type Program, programFor, VERSION } from "../lib/cli/mod.ts";
import { PROGRAMS } from "../tools/launcher.ts";
import { command, projectPath } from "./support/process.ts";
import { processTest } from "./support/options.ts";

/** The tasks of deno.json. */
async function tasks(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(projectPath("deno.json")));
  return Object.keys(config.tasks);
}

/** The flags a help text names, `--x` and `-x`. */
function flagsIn(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/(?:^|[\s[(])(--?[a-z][a-z-]*)/g)].map((m) => m[1])
      .filter((flag) => flag !== "--"),
  );
}

Deno.test(
  "cli: every task answers --help and --version and does nothing else",
  processTest,
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "shop-cli-help-" });
    // No broker there: a task that went on would wait or fail.
    const env = {
      ...Deno.env.toObject(),
      AMQP_URL: "amqp://guest:guest@127.0.0.1:9",
      DATA_DIR: join(dataDir, "data"),
    };
    try {
      for (const task of await tasks()) {
        await t.step(task, async () => {
          const help = await command(
            Deno.execPath(),
            ["task", "-q", task, "--help"],
            { env },
          );
          assert.equal(help.code, 0, `${task} --help: ${help.stderr}`);
          assert.match(help.stdout, /Usage:/, task);
          const version = await command(
            Deno.execPath(),
            ["task", "-q", task, "--version"],
            { env },
          );
          assert.equal(version.code, 0, `${task} --version: ${version.stderr}`);
          assert.match(
            version.stdout.trim(),
            new RegExp(`^ShoppingApp ${VERSION.replaceAll(".", "\\.")} \\(`),
          );
          assert.equal(existsSync(env.DATA_DIR), false, `${task} made data`);
        });
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test("cli: a help lists exactly the options its command takes", () => {
  const check = (label: string, program: Program) => {
    const taken = new Set([
      ...Object.entries(program.options).flatMap(([name, option]) => [
        `--${name}`,
        ...(option.short ? [`-${option.short}`] : []),
      ]),
      ...program.settings.map((key) => `--${SETTINGS[key].flag}`),
      ...Object.values(program.own ?? {}).map(({ flag }) => `--${flag}`),
      "--help",
      "-h",
      "--version",
    ]);
    const listed = flagsIn(helpText(program));
    for (const flag of listed) {
      assert.ok(taken.has(flag), `${label} --help lists ${flag}, not taken`);
    }
    for (const flag of taken) {
      assert.ok(listed.has(flag), `${label} takes ${flag}, not in its help`);
    }
  };
  for (const [name, program] of Object.entries(PROGRAMS)) {
    check(name, program);
    for (const command of Object.keys(program.commands ?? {})) {
      check(`${name} ${command}`, programFor(program, [command]));
    }
  }
});
