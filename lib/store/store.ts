/**
 * A service's store: its own SQLite file under DATA_DIR by default, or its
 * own schema of a PostgreSQL database when DATABASE_URL says so. One
 * contract over both: statements with `?` placeholders, and transactions
 * that commit all of their work or none of it.
 *
 * @module
 */
import { join } from "node:path";
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type pg from "pg";
import { openDatabase } from "./database.ts";
import { errorMessage } from "../core/mod.ts";
import { WalSync } from "./wal_sync.ts";

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

/** A lock for one holder at a time, in the order asked. */
class Mutex {
  #tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => release = resolve);
    const before = this.#tail;
    this.#tail = before.then(() => held);
    await before;
    return release;
  }
}

/**
 * SQLite. Its statements run at once; a lock keeps another's statements out
 * of an open transaction, since `await` lets other work run in between. A
 * file in WAL mode is synced off the event loop (`wal_sync.ts`): a durable
 * transaction resolves, and its `onCommit` callbacks run, once its commit is
 * on disk.
 */
export class SqliteStore implements Store {
  readonly dialect = "sqlite";
  readonly where: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<
    string,
    ReturnType<DatabaseSync["prepare"]>
  >();
  readonly #mutex = new Mutex();
  #inTransaction = false;
  #committed: (() => void)[] = [];
  /** Syncs the write-ahead log of a file in WAL mode; none for memory. */
  readonly #wal: WalSync | undefined;
  /** Whether a statement outside a transaction writes, by its text. */
  readonly #writes = new Map<string, boolean>();
  /** The sync asked for after the last durable commit: it covers them all. */
  #lastSync: Promise<void> = Promise.resolve();

  /** Wraps an open database; `where` says where it is. */
  constructor(db: DatabaseSync, where = "(memory)") {
    this.#db = db;
    this.where = where;
    const file = (db.prepare("PRAGMA database_list").all() as Row[])
      .find((row) => row.name === "main")?.file;
    const mode = db.prepare("PRAGMA journal_mode").get()?.journal_mode;
    if (mode === "wal" && typeof file === "string" && file !== "") {
      // A commit then writes its frames; the log is synced after it.
      db.exec("PRAGMA synchronous = NORMAL");
      this.#wal = new WalSync(`${file}-wal`);
    }
  }

  /** The database underneath, for what only SQLite does. */
  get db(): DatabaseSync {
    return this.#db;
  }

  /** The statement for `sql`, made once from `text` (`sql` itself unless told). */
  #prepare(sql: string, text = sql) {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(text);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** An `INSERT … RETURNING <key>`, prepared without its `RETURNING`. */
  #prepareInsert(sql: string) {
    return this.#statements.get(sql) ??
      this.#prepare(sql, withoutReturning(sql));
  }

  readonly #sql: Sql = {
    all: (sql, ...params) =>
      Promise.resolve(
        this.#prepare(sql).all(...params as SQLInputValue[]) as Row[],
      ),
    get: (sql, ...params) =>
      Promise.resolve(
        this.#prepare(sql).get(...params as SQLInputValue[]) as Row | undefined,
      ),
    run: (sql, ...params) =>
      Promise.resolve(
        Number(this.#prepare(sql).run(...params as SQLInputValue[]).changes),
      ),
    insert: (sql, ...params) =>
      Promise.resolve(
        Number(
          this.#prepareInsert(sql).run(...params as SQLInputValue[])
            .lastInsertRowid,
        ),
      ),
    onCommit: (fn) => {
      if (this.#inTransaction) this.#committed.push(fn);
      else fn();
    },
  };

  onCommit(fn: () => void): void {
    this.#sql.onCommit(fn);
  }

  async #outside<T>(sql: string, work: () => Promise<T>): Promise<T> {
    let result: T;
    if (!this.#inTransaction) {
      result = await work();
    } else {
      const release = await this.#mutex.lock();
      try {
        result = await work();
      } finally {
        release();
      }
    }
    // A statement of its own commits by itself, durably as a transaction.
    if (this.#isWrite(sql)) await this.#durable();
    return result;
  }

  /** Waits until a durable commit just made is on disk. */
  async #durable(): Promise<void> {
    if (!this.#wal) return;
    this.#lastSync = this.#wal.sync();
    await this.#lastSync;
  }

  async synced(): Promise<void> {
    try {
      // Not a sync of its own: the one asked for since the last commit
      // covers every commit so far.
      await this.#lastSync;
    } catch {
      // That one failed: another, which says so again if the store still fails.
      await this.#durable();
    }
  }

  #isWrite(sql: string): boolean {
    let writes = this.#writes.get(sql);
    if (writes === undefined) {
      writes = /^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b/i
        .test(sql);
      this.#writes.set(sql, writes);
    }
    return writes;
  }

  all(sql: string, ...params: unknown[]): Promise<Row[]> {
    return this.#outside(sql, () => this.#sql.all(sql, ...params));
  }

  get(sql: string, ...params: unknown[]): Promise<Row | undefined> {
    return this.#outside(sql, () => this.#sql.get(sql, ...params));
  }

  run(sql: string, ...params: unknown[]): Promise<number> {
    return this.#outside(sql, () => this.#sql.run(sql, ...params));
  }

  insert(sql: string, ...params: unknown[]): Promise<number> {
    return this.#outside(sql, () => this.#sql.insert(sql, ...params));
  }

  async transaction<T>(
    work: (tx: Sql) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const release = await this.#mutex.lock();
    this.#inTransaction = true;
    let committed: (() => void)[];
    const durable = options.durable !== false;
    // Without a log to sync, a FULL file commits without a sync in NORMAL.
    const lazy = !durable && !this.#wal;
    let result: T;
    try {
      if (lazy) this.#db.exec("PRAGMA synchronous = NORMAL");
      // Inside: a BEGIN that fails (the file locked too long) must still
      // let the lock go.
      this.#db.exec("BEGIN IMMEDIATE");
      result = await work(this.#sql);
      this.#db.exec("COMMIT");
      committed = this.#committed;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
      throw error;
    } finally {
      if (lazy) this.#db.exec("PRAGMA synchronous = FULL");
      this.#inTransaction = false;
      this.#committed = [];
      release();
    }
    // Outside the lock: the next transaction runs while this one syncs.
    const done = (durable ? this.#durable() : Promise.resolve()).then(() => {
      for (const fn of committed) fn();
    });
    if (options.waitForSync === false) {
      done.catch(() => {}); // Said again by whoever waits for synced().
    } else {
      await done;
    }
    return result;
  }

  exec(sql: string): Promise<void> {
    return this.#outside(sql, () => {
      this.#db.exec(sql);
      return Promise.resolve();
    });
  }

  async close(): Promise<void> {
    await this.#wal?.close();
    this.#db.close();
  }
}

/**
 * An `INSERT … RETURNING <key>` without its `RETURNING`.
 *
 * @throws {TypeError} naming the statement when it does not end so.
 */
function withoutReturning(sql: string): string {
  const plain = sql.replace(/\s+RETURNING\s+\w+\s*$/i, "");
  if (plain === sql) {
    throw new TypeError(`Insert "${sql}" does not end in RETURNING <key>`);
  }
  return plain;
}

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
    });
    pool.on("error", () => {}); // An idle client lost: the next query says so.
    const store = new PostgresStore(pool, where);
    try {
      await store.exec(`CREATE SCHEMA IF NOT EXISTS ${name}`);
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
