/**
 * Each service's own SQLite file, opened so that a committed transaction
 * survives a crash, and how to tell a failing store from a failing message.
 *
 * @module
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { errorMessage } from "../core/mod.ts";
import { StoreSyncError } from "./wal_sync.ts";

/** Options of {@linkcode openDatabase}. */
export interface DatabaseOptions {
  /** The folder holding every service's data. */
  dataDir: string;
  /** The service: its file is `<dataDir>/<name>/<name>.db`. */
  name: string;
  /**
   * Open for reading only, for tools that print what is stored.
   *
   * @default {false}
   */
  readOnly?: boolean;
}

/**
 * Opens (creating if need be) a service's database in WAL mode with full
 * sync: a committed transaction survives a crash, so an ack sent after a
 * commit never loses work.
 *
 * @throws {Deno.errors.NotFound} when opening for reading and there is no file yet.
 * @throws {Error} naming the file when it cannot be opened.
 */
export function openDatabase(options: DatabaseOptions): DatabaseSync {
  const { dataDir, name, readOnly = false } = options;
  const folder = join(dataDir, name);
  const path = join(folder, `${name}.db`);
  if (readOnly && !existsSync(path)) {
    throw new Deno.errors.NotFound(`No database "${path}" yet`);
  }
  try {
    if (!readOnly) mkdirSync(folder, { recursive: true });
    const db = new DatabaseSync(path, { readOnly });
    db.exec("PRAGMA busy_timeout = 5000");
    if (!readOnly) {
      db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
    }
    return db;
  } catch (error) {
    throw new Error(
      `Cannot open database "${path}": ${errorMessage(error)}`,
      { cause: error },
    );
  }
}

/**
 * SQLite's own words for a store that fails whatever is written to it (its
 * result codes BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN,
 * PROTOCOL, NOTADB), as node:sqlite reports them: in the message only.
 */
const STORE_FAILURES = [
  "database is locked",
  "database table is locked",
  "out of memory",
  "attempt to write a readonly database",
  "disk I/O error",
  "database disk image is malformed",
  "database or disk is full",
  "unable to open database file",
  "locking protocol",
  "file is not a database",
];

/**
 * Whether `error` is the store failing (a full disk, a lock held too long,
 * a database server restarting) rather than the message being handled:
 * then no message is at fault.
 */
export function isStoreFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreSyncError) return true;
  const code = (error as { code?: unknown }).code;
  if (code === "ERR_SQLITE_ERROR") {
    const message = error.message.toLowerCase();
    return STORE_FAILURES.some((words) =>
      message.includes(words.toLowerCase())
    );
  }
  // PostgreSQL's SQLSTATE classes for a server that is away, out of
  // resources, shut down, failing or rolling back under contention.
  if (typeof code === "string" && /^(08|40|53|57|58|XX)/.test(code)) {
    return true;
  }
  // The connection itself, as node-postgres and the network report it.
  return (typeof code === "string" &&
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(code)) ||
    /Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect/i
      .test(error.message);
}
