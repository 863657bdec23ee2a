/**
 * PostgreSQL as the shop needs it, made by the database's owner once: one
 * role per service, owning that service's schema, which no other role may
 * use. Each service's DATABASE_URL goes to a file of its own (mode 0600)
 * for DATABASE_URL_FILE; nothing secret is printed.
 *
 *     deno task database -- setup [--out dir] [--prefix p]
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../lib/core/mod.ts";
import { PostgresStore } from "../lib/store/mod.ts";
import { type Program, runMain } from "../lib/cli/mod.ts";
import { SERVICE_PROGRAMS } from "../lib/programs/mod.ts";
import { printable } from "../contracts/text.ts";
import {
  keptPassword,
  newPassword,
  outOf,
  setupCommandLine,
  withCredentials,
  writeSecret,
} from "./_secrets.ts";

const NAME = "database";

/** The tool's command line: the database, the folder it writes URLs to. */
export const program: Program = {
  name: NAME,
  script: "tools/database.ts",
  settings: ["databaseUrl", "dataDir"],
  options: {
    out: { type: "string" },
    prefix: { type: "string" },
  },
  writes: ({ values, config }) => [outOf(values, config)],
  help: `
Database setup: one PostgreSQL role per service (pos, billing, inventory,
office) with a random password, owning that service's schema; no other role
may use it. Each service's DATABASE_URL is written to
<dir>/<service>.database.url (mode 0600), for DATABASE_URL_FILE; nothing secret
is printed. Running it again changes only what is not right: a password in
<dir> is kept.

DATABASE_URL names the database and a role that may create roles (its owner
or a superuser).

Usage:
  deno task database -- setup [-- options]

Options:
  --out <dir>            where the services' URLs go; default <DATA_DIR>/secrets
  --prefix <p>           roles named <p>_pos, <p>_billing …; default pos, billing …`,
};

/** A PostgreSQL identifier, quoted. */
function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A PostgreSQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

async function main(): Promise<void> {
  const { values, config, out } = await setupCommandLine(program);
  const url = config.databaseUrl;
  if (url === undefined) {
    throw new UsageError(
      "DATABASE_URL is not set: name the database and its owner, postgres://owner@host/db",
    );
  }
  const prefix = values.prefix as string | undefined;
  if (prefix !== undefined && !/^[a-z][a-z0-9_]{0,31}$/.test(prefix)) {
    throw new UsageError(
      `Invalid --prefix "${
        printable(prefix)
      }": lower-case letters, digits and _ (at most 32)`,
    );
  }

  const store = await PostgresStore.open(url, "public");
  const lines: string[] = [];
  let right = 0;
  try {
    const database = (await store.get("SELECT current_database() AS name"))!
      .name as string;
    for (const [service, declared] of Object.entries(SERVICE_PROGRAMS)) {
      if (!declared.keepsData) continue;
      const role = prefix ? `${prefix}_${service}` : service;
      const file = join(out, `${service}.database.url`);
      const kept = await keptPassword(file, role);
      const password = kept ?? newPassword();
      const exists = await store.get(
        "SELECT 1 AS found FROM pg_roles WHERE rolname = ?",
        role,
      );
      if (exists === undefined) {
        await store.exec(
          `CREATE ROLE ${quoted(role)} LOGIN PASSWORD ${literal(password)}`,
        );
        lines.push(`role "${role}": made`);
      } else if (kept === undefined) {
        await store.exec(
          `ALTER ROLE ${quoted(role)} LOGIN PASSWORD ${literal(password)}`,
        );
        lines.push(`role "${role}": new password`);
      } else right++;
      await store.exec(
        `GRANT CONNECT ON DATABASE ${quoted(database)} TO ${quoted(role)}`,
      );

      const schema = await store.get(
        "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = ?",
        service,
      );
      if (schema === undefined) {
        await store.exec(
          `CREATE SCHEMA ${quoted(service)} AUTHORIZATION ${quoted(role)}`,
        );
        lines.push(`schema "${service}": made, owned by "${role}"`);
      } else if (schema.owner !== role) {
        // What the service made before as another role becomes its own.
        await store.exec(
          `ALTER SCHEMA ${quoted(service)} OWNER TO ${quoted(role)}`,
        );
        const owned = await store.all(
          `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ? AND c.relkind IN ('r', 'S', 'v', 'p')
              -- A sequence of a column goes with its table.
              AND NOT EXISTS (SELECT 1 FROM pg_depend d
                               WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))`,
          service,
        );
        for (const { name, kind } of owned) {
          const what = kind === "S"
            ? "SEQUENCE"
            : kind === "v"
            ? "VIEW"
            : "TABLE";
          await store.exec(
            `ALTER ${what} ${quoted(service)}.${
              quoted(name as string)
            } OWNER TO ${quoted(role)}`,
          );
        }
        lines.push(
          `schema "${service}": now owned by "${role}" (was "${schema.owner}"), with its ${owned.length} table(s)`,
        );
      } else right++;
      // Nobody else may look in: not PUBLIC, so no other service's role.
      await store.exec(`REVOKE ALL ON SCHEMA ${quoted(service)} FROM PUBLIC`);
      await writeSecret(file, withCredentials(url, role, password).href + "\n");
    }
  } finally {
    await store.close();
  }
  for (const line of lines) console.log(`${NAME}: ${line}`);
  console.log(
    `${NAME}: ${
      store.where.replace(/ \(schema public\)$/, "")
    }: ${lines.length} changed, ${right} already right; ` +
      `each service's DATABASE_URL is in ${out}/<service>.database.url (mode 0600), for DATABASE_URL_FILE.`,
  );
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
