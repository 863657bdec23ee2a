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
import { grantsOf } from "../lib/messaging/mod.ts";
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
  const tools = (["errors", "watch", "status", "broker", "database"] as const)
    .map((name) =>
      `${name}: --allow-env=${envNeeds(PROGRAMS[name]).join(",")}`
    );
  return ["```", ...lines, ...tools, "```"].join("\n");
}

/** Each service's broker user, as `deno task broker -- setup` grants it. */
export function brokerPermissionsBlock(): string {
  const width = Math.max(...SERVICES.map((name) => name.length)) + 1;
  const lines = SERVICES.flatMap((name) => {
    const needs = SERVICE_PROGRAMS[name].broker;
    if (!needs) return [];
    const { configure, write, read, topics } = grantsOf(needs);
    const indent = " ".repeat(width + 1);
    return [
      `${`${name}:`.padEnd(width)} configure ${configure}`,
      `${indent}write     ${write}`,
      `${indent}read      ${read}`,
      ...topics.map((topic) =>
        `${indent}topic ${topic.exchange}: publish ${topic.write}, bind ${topic.read}`
      ),
    ];
  });
  return ["```", ...lines, "```"].join("\n");
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

/** The files with generated parts, from the project's root. */
export const GENERATED_FILES = ["README.md", "docs/security.md"] as const;

/** The generated parts of `file`, by the name their markers give. */
export async function generated(
  file: typeof GENERATED_FILES[number] = "README.md",
): Promise<Record<string, string>> {
  return file === "README.md"
    ? {
      settings: settingsTable(),
      permissions: permissionsBlock(),
      tasks: await tasksTable(),
    }
    : { "broker-permissions": brokerPermissionsBlock() };
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
      throw new UsageError(`No "${start}" ... "<!-- end -->" in the file`);
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
Docs: writes the tables of settings, permissions and tasks in README.md, and
of the broker users' permissions in docs/security.md, from the programs'
declarations.

Usage:
  deno task docs              write them
  deno task docs -- --check   exit 1 when a file differs

Options:
  --check            compare only`,
};

async function main(): Promise<number> {
  const { values } = parseCommandLine(
    program,
    Deno.args.filter((arg) => arg !== "--"),
  );
  const check = Boolean(values.check);
  let code = 0;
  for (const file of GENERATED_FILES) {
    const path = join(ROOT, file);
    const text = await Deno.readTextFile(path);
    const filled = fill(text, await generated(file));
    if (filled === text) continue;
    if (check) {
      console.error(
        `${file}: the generated tables differ from the declarations; run deno task docs`,
      );
      code = 1;
      continue;
    }
    await Deno.writeTextFile(path, filled);
    console.log(`${file}: the generated tables are written`);
  }
  return code;
}

if (import.meta.main) {
  let code = 0;
  const failed = await runMain("docs", async () => {
    code = await main();
  });
  Deno.exit(failed || code);
}
