/**
 * A service's store on SQLite: one connection, its transactions one at a time,
 * and its write-ahead log synced off the event loop.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { WalSync } from "./wal_sync.ts";
import type { Row, Sql, Store, TransactionOptions } from "./store.ts";

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
 * file in WAL mode is synced off the event loop (`wal_sync.ts`), or by COMMIT
 * itself for a transaction that asks for it (`syncInPlace`): a durable
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
    // A log in FULL is synced by COMMIT itself, with every commit before it.
    const inPlace = durable && options.syncInPlace === true &&
      this.#wal !== undefined;
    let result: T;
    try {
      if (lazy) this.#db.exec("PRAGMA synchronous = NORMAL");
      if (inPlace) this.#db.exec("PRAGMA synchronous = FULL");
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
      if (inPlace) this.#db.exec("PRAGMA synchronous = NORMAL");
      this.#inTransaction = false;
      this.#committed = [];
      release();
    }
    // Outside the lock: the next transaction runs while this one syncs.
    const done = (durable && !inPlace ? this.#durable() : Promise.resolve())
      .then(() => {
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
