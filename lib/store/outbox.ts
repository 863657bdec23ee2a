/**
 * The transactional outbox: a message is committed to the service's own
 * database, in the transaction that makes it, before anything is sent; the
 * relay (`relay.ts`) then publishes what is pending, in order, and marks a
 * message sent only once the broker has confirmed it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DatabaseSync } from "node:sqlite";
import type { Outgoing } from "../messaging/mod.ts";
import {
  addColumn,
  createTables,
  type Row,
  type Sql,
  type Store,
} from "./store.ts";

/** How long a relay's claim on a message lasts: longer than a confirm may take. */
const CLAIM_MS = 60_000;

/** Fresh messages kept in memory for the relay, at most. */
const FRESH_MAX = 4096;

const INSERT = `INSERT INTO outbox
  (message_id, exchange, routing_key, body, created_at, mandatory, headers)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;

/** A message as it goes into the outbox: its headers as text. */
export type OutboxMessage = Omit<Outgoing, "headers" | "contentType"> & {
  /** Headers as text, such as `traceparent`. */
  headers?: Record<string, string>;
};

/** A message waiting in the outbox. */
export interface OutboxEntry extends Outgoing {
  /** Its place in the outbox: messages are published in this order. */
  id: number;
}

/** Messages to publish, kept in the service's store. */
export class Outbox {
  readonly #store: Store;
  /** Who this relay is, to claim messages in a shared database. */
  readonly #claimant = crypto.randomUUID();
  #added = Promise.withResolvers<void>();
  #committedAdds = 0;
  /** Messages committed by this process, not yet taken: see {@linkcode Outbox.add}. */
  #fresh: OutboxEntry[] = [];
  /**
   * The last id of what was there at the start or was since committed and
   * synced here: past it, a read finds only this process's commits not yet
   * synced (handed on once they are) or another process's messages.
   */
  #knownThrough: number;

  private constructor(store: Store, knownThrough: number) {
    this.#store = store;
    this.#knownThrough = knownThrough;
  }

  /** Creates the outbox table in the store if it is not there. */
  static async open(store: Store): Promise<Outbox> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        message_id TEXT NOT NULL,
        exchange TEXT NOT NULL,
        routing_key TEXT NOT NULL,
        body BLOB NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        mandatory INTEGER NOT NULL DEFAULT 1,
        set_aside_at TEXT,
        set_aside_reason TEXT,
        headers TEXT
      )`,
    );
    // An outbox made before events: every message in it was a sale.
    await addColumn(store, "outbox", "mandatory INTEGER NOT NULL DEFAULT 1");
    await addColumn(store, "outbox", "set_aside_at TEXT");
    await addColumn(store, "outbox", "set_aside_reason TEXT");
    await addColumn(store, "outbox", "headers TEXT");
    if (store.dialect === "postgres") {
      await addColumn(store, "outbox", "claimed_by TEXT");
      await addColumn(store, "outbox", "claimed_until TEXT");
    }
    await store.exec(
      "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (id) WHERE sent_at IS NULL",
    );
    // Pruning goes by id, oldest first (lib/store/prune.ts): an index of the
    // times sent cost an entry for every message, and a table made before
    // kept one. (Its ids are unique by construction; a UNIQUE cost as much.)
    await store.exec("DROP INDEX IF EXISTS outbox_sent_at");
    // What an earlier run left is read from the file, however far it goes
    // (where what is known bounds a read at all: SQLite).
    const last = store.dialect === "sqlite"
      ? await store.get("SELECT max(id) AS id FROM outbox")
      : undefined;
    return new Outbox(store, Number(last?.id ?? 0));
  }

  /**
   * Adds a message in `tx`, the transaction that makes it, so that the two
   * commit together; the relay is woken once they have.
   */
  async add(
    tx: Sql,
    message: OutboxMessage,
  ): Promise<void> {
    const values = [
      message.messageId,
      message.exchange,
      message.routingKey,
      message.body,
      new Date().toISOString(),
      message.mandatory === false ? 0 : 1,
      message.headers ? JSON.stringify(message.headers) : null,
    ];
    if (!this.commitsInOrder) {
      await tx.run(INSERT, ...values);
      tx.onCommit(() => {
        this.#committedAdds++;
        this.#wake();
      });
      return;
    }
    const entry: OutboxEntry = {
      id: await tx.insert(`${INSERT} RETURNING id`, ...values),
      messageId: message.messageId,
      exchange: message.exchange,
      routingKey: message.routingKey,
      body: message.body,
      mandatory: message.mandatory !== false,
      ...(message.headers ? { headers: message.headers } : {}),
    };
    tx.onCommit(() => {
      this.#committedAdds++;
      this.#keepFresh(entry);
      this.#wake();
    });
  }

  /**
   * Keeps a message just committed (and synced) for the relay, so that it
   * is published without being read back. Bounded: while no relay takes
   * them (the broker away) the oldest are let go, and read when due.
   */
  #keepFresh(entry: OutboxEntry): void {
    if (entry.id > this.#knownThrough) this.#knownThrough = entry.id;
    if (this.#fresh.length >= FRESH_MAX) {
      this.#fresh.splice(0, FRESH_MAX / 2);
    }
    this.#fresh.push(entry);
  }

  /**
   * The fresh messages that follow `afterId` without a gap, up to `limit`,
   * if the first of them is `afterId + 1`: ids are given one after another,
   * so nothing pending lies between. Otherwise (a first read, messages
   * from an earlier run or from another process, some let go) undefined:
   * the outbox is read.
   */
  #takeFresh(limit: number, afterId: number): OutboxEntry[] | undefined {
    const fresh = this.#fresh;
    let skip = 0;
    while (skip < fresh.length && fresh[skip].id <= afterId) skip++;
    if (afterId === 0 || fresh[skip]?.id !== afterId + 1) {
      fresh.splice(0, skip);
      return undefined;
    }
    let end = skip + 1;
    while (
      end < Math.min(skip + limit, fresh.length) &&
      fresh[end].id === fresh[end - 1].id + 1
    ) end++;
    // Those passed over and those taken leave together.
    return fresh.splice(0, end).slice(skip);
  }

  /**
   * How many messages this process has made pending: each add once it is
   * committed, and each replay.
   */
  get committedAdds(): number {
    return this.#committedAdds;
  }

  /**
   * Whether messages become visible in the order of their ids: SQLite
   * commits one writer at a time; PostgreSQL's concurrent transactions may
   * commit a lower id after a higher one.
   */
  get commitsInOrder(): boolean {
    return this.#store.dialect === "sqlite";
  }

  /** Resolves at the next {@linkcode Outbox.add} (or replay). */
  nextAdd(): Promise<void> {
    return this.#added.promise;
  }

  /**
   * Up to `limit` pending messages after `afterId`, oldest first. On
   * SQLite, a read after an id other than 0 sees only what was in the file
   * at the start and what this process committed: another process's
   * messages wait for a read from the first id. In a
   * PostgreSQL database that several instances share, each message is
   * claimed for one relay for a minute (`FOR UPDATE SKIP LOCKED`: relays
   * never wait for each other), so that each is published by one relay;
   * a relay that dies leaves its claims to run out, and another takes them.
   */
  async pending(limit: number, afterId = 0): Promise<OutboxEntry[]> {
    const fresh = this.#takeFresh(limit, afterId);
    if (fresh) return fresh;
    // Read past what is known, the file would give what is being synced
    // here, and come to memory once it is: a read for nothing. Messages of
    // other processes are found by the reads from the first id.
    if (this.commitsInOrder && afterId > 0 && afterId >= this.#knownThrough) {
      return [];
    }
    const rows = this.#store.dialect === "postgres"
      ? (await this.#store.all(
        `UPDATE outbox SET claimed_by = ?, claimed_until = ?
        WHERE id IN (SELECT id FROM outbox
          WHERE sent_at IS NULL AND set_aside_at IS NULL AND id > ?
          AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?)
          ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
        RETURNING id, message_id, exchange, routing_key, body, mandatory, headers`,
        this.#claimant,
        new Date(Date.now() + CLAIM_MS).toISOString(),
        afterId,
        new Date().toISOString(),
        this.#claimant,
        limit,
      )).toSorted((a, b) => Number(a.id) - Number(b.id))
      : await this.#store.all(
        `SELECT id, message_id, exchange, routing_key, body, mandatory, headers
        FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL AND id > ?
        ORDER BY id LIMIT ?`,
        afterId,
        limit,
      );
    // What the read saw is sent once it is on disk: a message published and
    // then lost in a crash would leave its id to another.
    await this.#store.synced();
    return rows.map((row) => ({ id: Number(row.id), ...messageOf(row) }));
  }

  /** How many messages wait to be confirmed. */
  async countPending(): Promise<number> {
    const row = await this.#store.get(
      "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL",
    );
    return Number(row?.n ?? 0);
  }

  /** Marks confirmed messages sent, in one statement. */
  async markSent(ids: number[]): Promise<void> {
    this.#forgetFresh(ids);
    const now = new Date().toISOString();
    // Not durable: a mark lost in a crash sends the message again, and its
    // consumers' inboxes drop the copy.
    await this.#store.transaction(
      (tx) =>
        this.#store.dialect === "postgres"
          ? tx.run(
            "UPDATE outbox SET sent_at = ? WHERE id = ANY(?::bigint[])",
            now,
            ids,
          )
          : tx.run(
            "UPDATE outbox SET sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
            now,
            JSON.stringify(ids),
          ),
      { durable: false },
    );
  }

  /**
   * Sets a message that can never be published aside, with its reason: it
   * is kept, no longer pending, and {@linkcode Outbox.replay} makes it
   * pending again.
   */
  async setAside(id: number, reason: string): Promise<void> {
    this.#forgetFresh([id]);
    await this.#store.run(
      "UPDATE outbox SET set_aside_at = ?, set_aside_reason = ? WHERE id = ?",
      new Date().toISOString(),
      reason.slice(0, 1000),
      id,
    );
  }

  /** The messages set aside (or the one with `messageId`), oldest first. */
  async setAsideEntries(messageId?: string): Promise<SetAsideEntry[]> {
    const rows = await this.#store.all(
      `SELECT id, message_id, exchange, routing_key, set_aside_at,
      set_aside_reason FROM outbox
      WHERE sent_at IS NULL AND set_aside_at IS NOT NULL
      AND (CAST(? AS TEXT) IS NULL OR message_id = ?) ORDER BY id`,
      messageId ?? null,
      messageId ?? null,
    );
    return rows.map((row) => ({
      id: Number(row.id),
      messageId: String(row.message_id),
      exchange: String(row.exchange),
      routingKey: String(row.routing_key),
      setAsideAt: String(row.set_aside_at),
      reason: String(row.set_aside_reason),
    }));
  }

  /**
   * The messages last added with each of `messageIds`, as they were added,
   * for adding them again, by message id; one that is not kept (pruned after
   * the retention) is absent. Read a few hundred ids a statement: the
   * outbox has no index of message ids.
   */
  async latest(
    sql: Sql,
    messageIds: readonly string[],
  ): Promise<Map<string, OutboxMessage & { mandatory: boolean }>> {
    const found = new Map<string, OutboxMessage & { mandatory: boolean }>();
    for (let i = 0; i < messageIds.length; i += 500) {
      const chunk = messageIds.slice(i, i + 500);
      const rows = await sql.all(
        `SELECT message_id, exchange, routing_key, body, mandatory, headers
        FROM outbox WHERE message_id IN (${
          chunk.map(() => "?").join(", ")
        }) ORDER BY id`,
        ...chunk,
      );
      // The last added wins.
      for (const row of rows) found.set(String(row.message_id), messageOf(row));
    }
    return found;
  }

  /** Makes the messages set aside (or the one with `messageId`) pending again; how many. */
  async replay(messageId?: string): Promise<number> {
    const changes = await this.#store.run(
      `UPDATE outbox SET set_aside_at = NULL, set_aside_reason = NULL
      WHERE sent_at IS NULL AND set_aside_at IS NOT NULL
      AND (CAST(? AS TEXT) IS NULL OR message_id = ?)`,
      messageId ?? null,
      messageId ?? null,
    );
    this.#committedAdds += changes;
    if (changes > 0) this.#wake();
    return changes;
  }

  /**
   * Lets go fresh messages that are no longer pending: a relay marks only
   * what it took, which is no longer fresh, so this is rarely more than a
   * comparison.
   */
  #forgetFresh(ids: number[]): void {
    const first = this.#fresh[0]?.id;
    if (first === undefined || !ids.some((id) => id >= first)) return;
    const gone = new Set(ids);
    this.#fresh = this.#fresh.filter((entry) => !gone.has(entry.id));
  }

  #wake(): void {
    this.#added.resolve();
    this.#added = Promise.withResolvers<void>();
  }
}

/** A message the relay set aside because it can never be published as it is. */
export interface SetAsideEntry {
  id: number;
  messageId: string;
  exchange: string;
  routingKey: string;
  setAsideAt: string;
  reason: string;
}

/**
 * Every message in the outbox of the database file at `path`, oldest first,
 * read without writing: for tools, tests and the benchmark. None when there
 * is no file or no outbox yet.
 */
export function readOutbox(
  path: string,
): { messageId: string; body: Uint8Array; sent: boolean }[] {
  try {
    Deno.statSync(path);
  } catch {
    return [];
  }
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    // A service just started may have made its file and not yet its table.
    const made = db.prepare(
      "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
    ).get();
    if (!made) return [];
    return db.prepare(
      "SELECT message_id, body, sent_at FROM outbox ORDER BY id",
    ).all().map((row) => ({
      messageId: String(row.message_id),
      body: row.body as Uint8Array,
      sent: row.sent_at !== null,
    }));
  } finally {
    db.close();
  }
}

/** The message of an outbox row, its body a view of the bytes read. */
function messageOf(row: Row): OutboxMessage & { mandatory: boolean } {
  return {
    messageId: String(row.message_id),
    exchange: String(row.exchange),
    routingKey: String(row.routing_key),
    body: bufferOf(row.body as Uint8Array),
    mandatory: Number(row.mandatory) !== 0,
    ...(typeof row.headers === "string"
      ? { headers: JSON.parse(row.headers) }
      : {}),
  };
}

/** The bytes as a Buffer, without copying them. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
