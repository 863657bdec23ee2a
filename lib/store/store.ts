/**
 * A service's store: its own SQLite file under DATA_DIR by default, or its
 * own schema of a PostgreSQL database when DATABASE_URL says so. One
 * contract over both: statements with `?` placeholders, and transactions
 * that commit all of their work or none of it.
 *
 * @module
 */
import { join } from "node:path";
import { openDatabase } from "./database.ts";
import { SqliteStore } from "./sqlite_store.ts";
import { PostgresStore } from "./postgres_store.ts";

/** A row as a query returns it, by column name. */
export type Row = Record<string, unknown>;

/** Statements, on a store or inside one of its transactions. */
export interface Sql {
  /** Every row of a query. */
  all(sql: string, ...params: unknown[]): Promise<Row[]>;
  /** The first row of a query, if any. */
  get(sql: string, ...params: unknown[]): Promise<Row | undefined>;
  /** Runs a statement; how many rows it changed. */
  run(sql: string, ...params: unknown[]): Promise<number>;
  /**
   * Runs an INSERT of one row that ends in `RETURNING <key>`, the table's
   * integer primary key; the key it was given. SQLite runs it without the
   * `RETURNING` (the key is the rowid it reports), which took twice the
   * time of the insert itself.
   */
  insert(sql: string, ...params: unknown[]): Promise<number>;
  /**
   * Runs `fn` once the transaction has committed, and is on disk when it is
   * durable (at once outside one): for waking whoever reads what it wrote,
   * and for saying it is done.
   */
  onCommit(fn: () => void): void;
}

/** A service's store. */
export interface Store extends Sql {
  /** Which database: statements that differ between them ask. */
  readonly dialect: "sqlite" | "postgres";
  /** Where it is, to print: a file, or a database and schema (no password). */
  readonly where: string;
  /**
   * Runs `work` in one transaction: all of it is committed, or none.
   * Statements of the store outside it wait until it ends.
   */
  transaction<T>(
    work: (tx: Sql) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T>;
  /**
   * Resolves once every commit made so far is on disk: for reading what was
   * committed, to send it on (an outbox), only once it is durable.
   */
  synced(): Promise<void>;
  /** Runs statements that take no parameters (schema). */
  exec(sql: string): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}

/** Options of {@linkcode Store.transaction}. */
export interface TransactionOptions {
  /**
   * Whether the commit waits until it is on disk. A write that may be lost
   * in a crash without harm (a mark that a message was sent: it is sent
   * again, and its consumer's inbox drops it) need not: it reaches the disk
   * with the next durable commit, and the event loop is not held meanwhile.
   *
   * @default {true}
   */
  durable?: boolean;
  /**
   * Whether a durable transaction resolves only once its commit is on disk.
   * With false it resolves at the commit, and the next transaction need not
   * wait for this one's sync; its `onCommit` callbacks still run only once
   * it is on disk (never, when the sync fails), and whoever acks on its word
   * waits for {@linkcode Store.synced}.
   *
   * @default {true}
   */
  waitForSync?: boolean;
  /**
   * Whether the commit is synced in place, inside COMMIT, holding the event
   * loop for the sync, rather than on a thread of Deno's pool: for a caller
   * that waits for the sync and has nothing to do meanwhile (a consumer's
   * batch), the hand-off to a thread and back is time lost. Implies
   * `waitForSync`. A PostgreSQL commit is synced by its server either way.
   *
   * @default {false}
   */
  syncInPlace?: boolean;
}

/** Options of {@linkcode openStore}. */
export interface StoreOptions {
  /** The service, which names its file or its schema. */
  name: string;
  /** DATA_DIR, for the SQLite file. */
  dataDir: string;
  /** DATABASE_URL: PostgreSQL instead of SQLite when set. */
  databaseUrl?: string;
  /**
   * Open for reading only (SQLite), for tools that print what is stored.
   *
   * @default {false}
   */
  readOnly?: boolean;
}

/**
 * Opens a service's store.
 *
 * @throws {Deno.errors.NotFound} when opening SQLite for reading and there
 * is no file yet.
 * @throws {Error} naming the store when it cannot be opened.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) {
    return await PostgresStore.open(options.databaseUrl, options.name);
  }
  return new SqliteStore(
    openDatabase({
      dataDir: options.dataDir,
      name: options.name,
      readOnly: options.readOnly,
    }),
    join(options.dataDir, options.name, `${options.name}.db`),
  );
}

/**
 * Schema text for the store's dialect: our statements are written for
 * SQLite; PostgreSQL has no `WITHOUT ROWID`, calls a blob `BYTEA` and an
 * autoincrement key an identity.
 */
export function schema(store: Store, sql: string): string {
  if (store.dialect === "sqlite") return sql;
  return sql
    .replaceAll(/\)\s*WITHOUT ROWID/g, ")")
    .replaceAll(
      /INTEGER PRIMARY KEY AUTOINCREMENT/g,
      "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
    )
    .replaceAll(/\bBLOB\b/g, "BYTEA");
}

/**
 * Makes each table of `statements` (`CREATE TABLE IF NOT EXISTS …`, written
 * for SQLite) that `store` does not have, in the store's dialect.
 *
 * @example
 * ```ts ignore
 * await createTables(store, `CREATE TABLE IF NOT EXISTS note (
 *   id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)`);
 * ```
 */
export async function createTables(
  store: Store,
  ...statements: string[]
): Promise<void> {
  for (const sql of statements) await store.exec(schema(store, sql));
}

/** The names of the tables in the store (its schema, on PostgreSQL). */
export async function tableNames(store: Store): Promise<Set<string>> {
  const rows = store.dialect === "sqlite"
    ? await store.all("SELECT name FROM sqlite_master WHERE type = 'table'")
    : await store.all(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()",
    );
  return new Set(rows.map((row) => String(row.name)));
}

/** Adds a column to a table made before it existed. */
export async function addColumn(
  store: Store,
  table: string,
  definition: string,
): Promise<void> {
  if (store.dialect === "postgres") {
    await store.exec(
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS ${definition}`,
    );
    return;
  }
  const [column] = definition.split(/\s/);
  const columns = await store.all(`PRAGMA table_info(${table})`);
  if (!columns.some((row) => row.name === column)) {
    await store.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
  }
}
