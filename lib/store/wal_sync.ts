/**
 * Durable SQLite commits that do not hold the event loop. With
 * `synchronous = FULL`, SQLite syncs its write-ahead log inside COMMIT, on
 * the one thread that also reads the socket, parses, and publishes: every
 * service stood still for each sync. With `synchronous = NORMAL` it writes
 * a commit's frames to the log without a sync; an `fdatasync` of the log
 * file, on a thread of Deno's pool, then makes them and every commit before
 * them durable, as FULL would have, while the service goes on. Whoever acks
 * or publishes on a commit's word waits for {@linkcode WalSync.sync} first.
 *
 * @module
 */
import { errorMessage } from "../core/mod.ts";

/** A write-ahead log that could not be synced: the store is failing. */
export class StoreSyncError extends Error {
  /** Creates the error; `message` names the file and the reason. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreSyncError";
  }
}

/**
 * Syncs one database's write-ahead log, one sync at a time: the commits
 * made while a sync runs share the next one.
 */
export class WalSync {
  /** The log file, `<database>-wal`. */
  readonly path: string;
  #file: Promise<Deno.FsFile> | undefined;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  /** Syncs the log at `path`, opened at the first sync. */
  constructor(path: string) {
    this.path = path;
  }

  /**
   * Resolves once everything written to the log before the call is on
   * disk.
   *
   * @throws {StoreSyncError} naming the file when the sync fails.
   */
  sync(): Promise<void> {
    if (this.#running === undefined) {
      const running = this.#syncNow().finally(() => {
        if (this.#running === running) this.#running = undefined;
      });
      this.#running = running;
      return running;
    }
    // The sync under way may have begun before this write: the next one
    // is for it, and for every write until that one begins.
    this.#next ??= this.#running.then(() => {}, () => {}).then(() => {
      this.#next = undefined;
      return this.sync();
    });
    return this.#next;
  }

  async #syncNow(): Promise<void> {
    try {
      this.#file ??= Deno.open(this.path, { read: true });
      await (await this.#file).syncData();
    } catch (error) {
      const file = this.#file;
      this.#file = undefined;
      file?.then((opened) => opened.close(), () => {});
      throw new StoreSyncError(
        `Cannot sync "${this.path}": ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  /** Waits for the syncs under way, then closes the file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.#running, this.#next]);
    const file = this.#file;
    this.#file = undefined;
    try {
      (await file)?.close();
    } catch {
      // Never opened, or closed already.
    }
  }
}
