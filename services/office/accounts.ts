/**
 * Who may use the back office: accounts with a role, their passwords
 * hashed with scrypt (memory-hard, from `node:crypto`, so no native
 * package to keep up), the sessions of those signed in, and the audit
 * trail of what people did. All in the office's own store.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { UsageError } from "../../lib/core/mod.ts";
import { createTables, type Store } from "../../lib/store/mod.ts";

/** What a person may do: read; also adjust stock; also error queues and accounts. */
export type Role = "viewer" | "manager" | "admin";

/** The roles, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "manager", "admin"];

/** Whether `role` may do what `needed` may. */
export function allows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** A signed-in person. */
export interface Session {
  name: string;
  role: Role;
  /** The token every form of the session carries. */
  csrf: string;
}

/** An entry of the audit trail. */
export interface AuditEntry {
  At: string;
  Who: string;
  Action: string;
  Detail: string;
  From: string;
}

/** scrypt's cost: 64 MiB and about a tenth of a second a hash. */
const COST = { N: 2 ** 16, r: 8, p: 1, maxmem: 160 * 1024 * 1024 };
const KEY_BYTES = 32;
/** How long a session lasts from sign-in. */
const SESSION_MS = 8 * 3_600_000;
/** How long a browser is remembered as one its account signed in from. */
export const DEVICE_MS = 90 * 86_400_000;
const NAME = /^[a-z][a-z0-9._-]{0,31}$/;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      KEY_BYTES,
      COST,
      (error, key) => error ? reject(error) : resolve(key),
    )
  );
}

/** `scrypt$N$r$p$salt$hash`, so that the cost can be raised later. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return [
    "scrypt",
    COST.N,
    COST.r,
    COST.p,
    salt.toString("base64"),
    key
      .toString("base64"),
  ].join("$");
}

async function verifyPassword(
  password: string,
  stored: string,
): Promise<boolean> {
  const [kind, N, r, p, salt, hash] = stored.split("$");
  if (kind !== "scrypt") return false;
  const expected = Buffer.from(hash, "base64");
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, "base64"), expected.length, {
      N: Number(N),
      r: Number(r),
      p: Number(p),
      maxmem: COST.maxmem,
    }, (error, key) => error ? reject(error) : resolve(key))
  );
  return timingSafeEqual(key, expected);
}

/** A session's token as stored: its digest, so a stolen store holds none. */
function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Checks a new password.
 *
 * @throws {UsageError} for one shorter than 10 characters.
 */
export function checkPassword(password: string): void {
  if ([...password].length < 10) {
    throw new UsageError("The password must be at least 10 characters");
  }
}

const FIRST_ADMIN = /made the account "admin" with the password (\S+)/;

/** The line the first start says, with the password of the admin it made. */
export function firstAdminLine(password: string): string {
  return `office: first start: made the account "admin" with the password ${password} (shown once; change it with deno task office -- users passwd admin)`;
}

/** The first admin's password, from the lines an office printed. */
export function firstAdminPassword(lines: string[]): string | undefined {
  return lines.map((line) => FIRST_ADMIN.exec(line)?.[1]).find(Boolean);
}

/** The office's accounts, sessions and audit trail. */
export class Accounts {
  readonly #store: Store;
  /** What a name without an account is checked against, made once. */
  #nobody: Promise<string> | undefined;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Makes the tables in `store` if they are not there. */
  static async open(store: Store): Promise<Accounts> {
    await createTables(
      store,
      `CREATE TABLE IF NOT EXISTS office_user (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL,
        created_at TEXT NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_session (
        token TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL,
        expires_at TEXT NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_device (
        token TEXT PRIMARY KEY, name TEXT NOT NULL,
        expires_at TEXT NOT NULL) WITHOUT ROWID`,
      `CREATE TABLE IF NOT EXISTS office_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
        who TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL,
        source TEXT NOT NULL)`,
    );
    return new Accounts(store);
  }

  /** The accounts, by name. */
  async list(): Promise<{ name: string; role: Role; created: string }[]> {
    const rows = await this.#store.all(
      "SELECT name, role, created_at FROM office_user ORDER BY name",
    );
    return rows.map((row) => ({
      name: String(row.name),
      role: String(row.role) as Role,
      created: String(row.created_at),
    }));
  }

  /**
   * Adds an account.
   *
   * @throws {UsageError} for a bad name, role or password, or a name taken.
   */
  async add(name: string, role: string, password: string): Promise<void> {
    if (!NAME.test(name)) {
      throw new UsageError(
        `Invalid name "${name}": use 1 to 32 lowercase letters, digits, ., _ or -, starting with a letter`,
      );
    }
    if (!ROLES.includes(role as Role)) {
      throw new UsageError(
        `Invalid role "${role}": use ${ROLES.join(", ")}`,
      );
    }
    checkPassword(password);
    const hash = await hashPassword(password);
    const added = await this.#store.run(
      "INSERT INTO office_user (name, role, hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
      name,
      role,
      hash,
      new Date().toISOString(),
    );
    if (added === 0) throw new UsageError(`"${name}" has an account already`);
  }

  /**
   * Sets an account's password and ends its sessions.
   *
   * @throws {UsageError} for an unknown name or a bad password.
   */
  async passwd(name: string, password: string): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password);
    await this.#store.transaction(async (tx) => {
      const changed = await tx.run(
        "UPDATE office_user SET hash = ? WHERE name = ?",
        hash,
        name,
      );
      if (changed === 0) throw new UsageError(`No account "${name}"`);
      await tx.run("DELETE FROM office_session WHERE name = ?", name);
      await tx.run("DELETE FROM office_device WHERE name = ?", name);
    });
  }

  /**
   * Removes an account and its sessions.
   *
   * @throws {UsageError} for an unknown name.
   */
  async remove(name: string): Promise<void> {
    await this.#store.transaction(async (tx) => {
      const removed = await tx.run(
        "DELETE FROM office_user WHERE name = ?",
        name,
      );
      if (removed === 0) throw new UsageError(`No account "${name}"`);
      await tx.run("DELETE FROM office_session WHERE name = ?", name);
      await tx.run("DELETE FROM office_device WHERE name = ?", name);
    });
  }

  /**
   * Signs `name` in with `password`: a new session's token, or undefined
   * when they do not match (the same time either way).
   */
  async signIn(name: string, password: string): Promise<string | undefined> {
    const row = await this.#store.get(
      "SELECT hash FROM office_user WHERE name = ?",
      name,
    );
    // A name that is not there costs the same check as one that is.
    const stored = row
      ? String(row.hash)
      : await (this.#nobody ??= hashPassword(crypto.randomUUID()));
    if (!await verifyPassword(password, stored) || !row) return undefined;
    return await this.#issue("office_session", name, SESSION_MS, {
      csrf: randomBytes(24).toString("base64url"),
    });
  }

  /**
   * A new token for `name` in `table` (its digest kept, as a stolen copy of
   * the table must not sign anyone in), lasting `lifetimeMs`; the expired
   * ones go.
   */
  async #issue(
    table: "office_session" | "office_device",
    name: string,
    lifetimeMs: number,
    more: Record<string, string> = {},
  ): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    await this.#store.run(
      `DELETE FROM ${table} WHERE expires_at < ?`,
      new Date(now).toISOString(),
    );
    const columns = ["token", "name", ...Object.keys(more), "expires_at"];
    await this.#store.run(
      `INSERT INTO ${table} (${columns.join(", ")}) VALUES (${
        columns.map(() => "?").join(", ")
      })`,
      digest(token),
      name,
      ...Object.values(more),
      new Date(now + lifetimeMs).toISOString(),
    );
    return token;
  }

  /** The session of `token`, when it is one and has not expired. */
  async session(token: string | undefined): Promise<Session | undefined> {
    if (!token) return undefined;
    const row = await this.#store.get(
      `SELECT s.name, s.csrf, s.expires_at, u.role FROM office_session s
      JOIN office_user u ON u.name = s.name WHERE s.token = ?`,
      digest(token),
    );
    if (!row || String(row.expires_at) < new Date().toISOString()) {
      return undefined;
    }
    return {
      name: String(row.name),
      role: String(row.role) as Role,
      csrf: String(row.csrf),
    };
  }

  /**
   * Remembers a browser `name` signed in from: a token for its device
   * cookie. Tries from it are limited on their own, so that wrong passwords
   * sent by others for the same name do not keep its owner out.
   */
  rememberDevice(name: string): Promise<string> {
    return this.#issue("office_device", name, DEVICE_MS);
  }

  /** Whether `token` is a device `name` signed in from, not yet expired. */
  async knownDevice(token: string | undefined, name: string): Promise<boolean> {
    if (!token) return false;
    const row = await this.#store.get(
      "SELECT name, expires_at FROM office_device WHERE token = ?",
      digest(token),
    );
    return row !== undefined && String(row.name) === name &&
      String(row.expires_at) >= new Date().toISOString();
  }

  /** Ends the session of `token`. */
  async signOut(token: string): Promise<void> {
    await this.#store.run(
      "DELETE FROM office_session WHERE token = ?",
      digest(token),
    );
  }

  /** Adds an entry to the audit trail. */
  async audit(entry: Omit<AuditEntry, "At">): Promise<void> {
    await this.#store.run(
      "INSERT INTO office_audit (at, who, action, detail, source) VALUES (?, ?, ?, ?, ?)",
      new Date().toISOString(),
      entry.Who,
      entry.Action,
      entry.Detail,
      entry.From,
    );
  }

  /** The latest entries of the audit trail, newest first. */
  async trail(limit = 200): Promise<AuditEntry[]> {
    const rows = await this.#store.all(
      "SELECT at, who, action, detail, source FROM office_audit ORDER BY id DESC LIMIT ?",
      limit,
    );
    return rows.map((row) => ({
      At: String(row.at),
      Who: String(row.who),
      Action: String(row.action),
      Detail: String(row.detail),
      From: String(row.source),
    }));
  }
}
