/**
 * A service's store on PostgreSQL: its own schema, a pool, and statements
 * numbered as PostgreSQL takes them.
 *
 * @module
 */
import { isIP } from "node:net";
import type pg from "pg";
import { printable } from "../../contracts/text.ts";
import { errorMessage, UsageError } from "../core/mod.ts";
import type { Row, Sql, Store, TransactionOptions } from "./store.ts";

/** The advisory lock the services take to change their schemas, one at a time. */
const SCHEMA_LOCK = 7_454_633;

/** `?` placeholders as PostgreSQL's `$1`, `$2` … (none sit in our literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/**
 * PostgreSQL through a small pool, in the service's own schema. Values
 * PostgreSQL returns as text (bigint, numeric, count) are read with
 * `Number()` by the callers, as they read SQLite's.
 */
export class PostgresStore implements Store {
  readonly dialect = "postgres";
  readonly where: string;
  readonly #pool: pg.Pool;
  readonly #texts = new Map<string, string>();

  private constructor(pool: pg.Pool, where: string) {
    this.#pool = pool;
    this.where = where;
  }

  /**
   * Connects to `url` and makes the schema `name` if need be.
   *
   * @throws {Error} one line naming the database without its password.
   */
  static async open(url: string, name: string): Promise<PostgresStore> {
    const parsed = new URL(url);
    const where = `${parsed.protocol}//${
      parsed.username ? `${parsed.username}@` : ""
    }${parsed.host}${parsed.pathname} (schema ${name})`;
    const ssl = sslOf(parsed);
    // Loaded only here: a service on SQLite does not carry the driver.
    const { default: driver } = await import("pg");
    const pool = new driver.Pool({
      host: decodeURIComponent(parsed.hostname.replace(/^\[(.*)\]$/, "$1")),
      port: Number(parsed.port || 5432),
      user: decodeURIComponent(parsed.username || "postgres"),
      // A function: pg then reads no PGPASSWORD of its own.
      password: () => decodeURIComponent(parsed.password),
      database: decodeURIComponent(parsed.pathname.slice(1) || "postgres"),
      application_name: name,
      options: `-c search_path=${name}`,
      max: 4,
      ...ssl === undefined ? {} : { ssl },
    });
    pool.on("error", () => {}); // An idle client lost: the next query says so.
    const store = new PostgresStore(pool, where);
    try {
      // A service's own role (deno task database -- setup) owns its schema
      // and may not create one: CREATE SCHEMA asks for that even when the
      // schema is there.
      const found = await store.get(
        "SELECT 1 AS found FROM pg_namespace WHERE nspname = ?",
        name,
      );
      if (found === undefined) {
        await store.exec(`CREATE SCHEMA IF NOT EXISTS ${name}`);
      }
    } catch (error) {
      await pool.end().catch(() => {});
      throw new Error(
        `Cannot open database "${where}": ${errorMessage(error)}`,
        { cause: error },
      );
    }
    return store;
  }

  #text(sql: string): string {
    let text = this.#texts.get(sql);
    if (text === undefined) {
      text = numbered(sql);
      this.#texts.set(sql, text);
    }
    return text;
  }

  #on(
    client: pg.Pool | pg.PoolClient,
    committed?: (() => void)[],
  ): Sql {
    return {
      onCommit: (fn) => committed ? committed.push(fn) : fn(),
      all: async (sql, ...params) =>
        (await client.query(this.#text(sql), params)).rows,
      get: async (sql, ...params) =>
        (await client.query(this.#text(sql), params)).rows[0],
      run: async (sql, ...params) =>
        (await client.query(this.#text(sql), params)).rowCount ?? 0,
      insert: async (sql, ...params) => {
        const row = (await client.query(this.#text(sql), params)).rows[0];
        if (!row) throw new TypeError(`Insert "${sql}" returned no key`);
        return Number(Object.values(row)[0]);
      },
    };
  }

  all(sql: string, ...params: unknown[]): Promise<Row[]> {
    return this.#on(this.#pool).all(sql, ...params);
  }

  get(sql: string, ...params: unknown[]): Promise<Row | undefined> {
    return this.#on(this.#pool).get(sql, ...params);
  }

  run(sql: string, ...params: unknown[]): Promise<number> {
    return this.#on(this.#pool).run(sql, ...params);
  }

  insert(sql: string, ...params: unknown[]): Promise<number> {
    return this.#on(this.#pool).insert(sql, ...params);
  }

  onCommit(fn: () => void): void {
    fn();
  }

  /** A durable transaction is on disk at its COMMIT already. */
  synced(): Promise<void> {
    return Promise.resolve();
  }

  async transaction<T>(
    work: (tx: Sql) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const client = await this.#pool.connect();
    // A server that goes away while the client is held says so here as well
    // as in the query under way, which is what reports it.
    const ignore = () => {};
    client.on("error", ignore);
    const committed: (() => void)[] = [];
    try {
      await client.query("BEGIN");
      if (options.durable === false) {
        await client.query("SET LOCAL synchronous_commit = off");
      }
      const result = await work(this.#on(client, committed));
      await client.query("COMMIT");
      for (const fn of committed) fn();
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.off("error", ignore);
      client.release();
    }
  }

  /**
   * Runs a schema statement under a lock that every instance takes: two
   * services making the same table at once would otherwise collide in
   * PostgreSQL's catalog, even with IF NOT EXISTS.
   */
  async exec(sql: string): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.get("SELECT pg_advisory_xact_lock(?)", SCHEMA_LOCK);
      await tx.run(sql);
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** The `sslmode` values a DATABASE_URL may give, as libpq names them. */
const SSL_MODES = ["disable", "require", "verify-full"];

/**
 * TLS for node-postgres from a URL's `sslmode` and `sslrootcert`, as libpq
 * reads them: `verify-full` checks the server's certificate against the
 * root certificate and its name against the host; `require` encrypts
 * without checking who answers; `disable` (the default) is plain.
 *
 * @throws {UsageError} for another mode, or a root certificate that cannot
 * be read.
 */
export function sslOf(
  url: URL,
):
  | { ca?: string; rejectUnauthorized: boolean; servername?: string }
  | undefined {
  const mode = url.searchParams.get("sslmode") ?? "disable";
  if (!SSL_MODES.includes(mode)) {
    throw new UsageError(
      `Invalid sslmode "${printable(mode)}" in DATABASE_URL: use ${
        SSL_MODES.join(", ")
      }`,
    );
  }
  if (mode === "disable") return undefined;
  if (mode === "require") return { rejectUnauthorized: false };
  const root = url.searchParams.get("sslrootcert");
  let ca: string | undefined;
  if (root !== null) {
    try {
      ca = Deno.readTextFileSync(root);
    } catch (error) {
      throw new UsageError(
        `Cannot read sslrootcert "${root}" of DATABASE_URL: ${
          errorMessage(error)
        }`,
      );
    }
  }
  const host = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, "$1"));
  return {
    ...ca === undefined ? {} : { ca },
    rejectUnauthorized: true,
    ...isIP(host) === 0 ? { servername: host } : {},
  };
}
