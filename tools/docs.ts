/**
 * The tables that describe the programs, made from their declarations:
 * settings (`lib/config/config.ts` and each program's own), permissions
 * (`lib/cli/permissions.ts`) and tasks (`deno.json`). Each stands in the
 * README between `<!-- generated: <name> -->` and `<!-- end -->`.
 *
 *     deno task docs            writes them into README.md
 *     deno task docs --check    exits 1 when README.md differs
 *
 * @module
 */
import { join } from "node:path";
import { SETTINGS } from "../lib/config/mod.ts";
import {
  envNeeds,
  parseCommandLine,
  permissionFlags,
  type Program,
  ROOT,
  runMain,
} from "../lib/cli/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import { SERVICE_PROGRAMS, SERVICES } from "../lib/programs/mod.ts";
import { PROGRAMS } from "./launcher.ts";

/** A Markdown table, its columns padded as `deno fmt` pads them. */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((cell, i) =>
    Math.max(3, cell.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  return [
    line(head),
    `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}

/** The project's absolute paths written from its root. */
function relative(text: string): string {
  return text.replaceAll(ROOT, "");
}

/** Every setting: the shared ones, then each program's own. */
export function settingsTable(): string {
  const shared = Object.values(SETTINGS).map((setting) => {
    const users = Object.entries(PROGRAMS)
      .filter(([, program]) =>
        program.settings.some((key) => SETTINGS[key] === setting)
      )
      .map(([name]) => name);
    return [
      `\`--${setting.flag}\``,
      setting.file
        ? `\`${setting.env}\` or \`${setting.file}\``
        : `\`${setting.env}\``,
      users.join(", "),
      setting.help,
    ];
  });
  const own = Object.entries(PROGRAMS).flatMap(([name, program]) =>
    Object.values(program.own ?? {}).map((setting) => [
      `\`--${setting.flag}\``,
      setting.env ? `\`${setting.env}\`` : "",
      name,
      setting.help,
    ])
  );
  return table(["Flag", "Environment", "Read by", "Meaning"], [
    ...shared,
    ...own,
  ]);
}

/** Each service's permissions with the default settings. */
export function permissionsBlock(): string {
  const lines = SERVICES.flatMap((name) => {
    const program = SERVICE_PROGRAMS[name];
    return [
      `${name}:`,
      ...permissionFlags(program, {}).map((flag) => `  ${relative(flag)}`),
    ];
  });
  const tools = (["errors", "watch", "status"] as const).map((name) =>
    `${name}: --allow-env=${envNeeds(PROGRAMS[name]).join(",")}`
  );
  return ["```", ...lines, ...tools, "```"].join("\n");
}

/** The tasks of `deno.json`, with their descriptions. */
export async function tasksTable(): Promise<string> {
  const { tasks } = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ) as { tasks: Record<string, { description: string }> };
  return table(
    ["Task", "What it does"],
    Object.entries(tasks).map(([name, task]) => [
      `\`deno task ${name}\``,
      task.description.replaceAll("|", "\\|"),
    ]),
  );
}

/** The generated parts, by the name their markers give. */
export async function generated(): Promise<Record<string, string>> {
  return {
    settings: settingsTable(),
    permissions: permissionsBlock(),
    tasks: await tasksTable(),
  };
}

/**
 * `text` with each generated part put between its markers.
 *
 * @throws {UsageError} for a part whose markers are missing.
 */
export function fill(text: string, parts: Record<string, string>): string {
  let filled = text;
  for (const [name, part] of Object.entries(parts)) {
    const start = `<!-- generated: ${name} -->`;
    const from = filled.indexOf(start);
    const to = filled.indexOf("<!-- end -->", from);
    if (from < 0 || to < 0) {
      throw new UsageError(`README.md has no "${start}" ... "<!-- end -->"`);
    }
    filled = `${filled.slice(0, from + start.length)}\n\n${part}\n\n${
      filled.slice(to)
    }`;
  }
  return filled;
}

/** The tool's command line: it reads the declarations and writes the README. */
export const program: Program = {
  name: "docs",
  script: "tools/docs.ts",
  settings: [],
  options: { check: { type: "boolean" } },
  help: `
Docs: writes the README's tables of settings, permissions and tasks from the
programs' declarations.

Usage:
  deno task docs              write them into README.md
  deno task docs -- --check   exit 1 when README.md differs

Options:
  --check            compare only`,
};

async function main(): Promise<number> {
  const { values } = parseCommandLine(
    program,
    Deno.args.filter((arg) => arg !== "--"),
  );
  const check = Boolean(values.check);
  const path = join(ROOT, "README.md");
  const text = await Deno.readTextFile(path);
  const filled = fill(text, await generated());
  if (filled === text) return 0;
  if (check) {
    console.error(
      "README.md: the generated tables differ from the declarations; run deno task docs",
    );
    return 1;
  }
  await Deno.writeTextFile(path, filled);
  console.log("README.md: the generated tables are written");
  return 0;
}

if (import.meta.main) {
  let code = 0;
  const failed = await runMain("docs", async () => {
    code = await main();
  });
  Deno.exit(failed || code);
}
