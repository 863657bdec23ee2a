/**
 * One long-lived connection per service: connect to the first broker of
 * AMQP_URL that answers, and stay connected, connecting again with backoff
 * and jitter when the connection is lost or the work on it fails.
 *
 * @module
 */
import { isIP } from "node:net";
import { type ChannelModel, connect, type Options } from "amqplib";
import { brokerUrls, joinHostPort, redactUrl, vhostOf } from "../config/mod.ts";
import {
  backoff,
  BrokerError,
  delay,
  describeError,
  IRRECOVERABLE_REPLY_CODES,
  replyCodeOf,
  UsageError,
} from "../core/mod.ts";
import { coalesceWrites } from "./coalesce_writes.ts";
import type { Log } from "../log/mod.ts";

/** Options of {@linkcode connectBroker}. */
export interface ConnectOptions {
  /** One AMQP URL, or several separated by commas, tried in turn. */
  url: string;
  /** The name the management UI shows for the connection. */
  name: string;
  /**
   * Seconds between heartbeats, unless the URL says `?heartbeat=`.
   *
   * @default {30}
   */
  heartbeat?: number;
  /**
   * Milliseconds to wait for the TCP and TLS handshake.
   *
   * @default {5000}
   */
  timeout?: number;
  /**
   * Over `amqps://`: the CA certificates to verify the broker by, and a
   * client certificate with its key, as PEM files; each read at connect.
   *
   * @default {{}} (the system's CAs, no client certificate)
   */
  tls?: TlsFiles;
  /**
   * Which broker of the list to try first; the others follow in turn.
   *
   * @default {0}
   */
  start?: number;
}

/** PEM files of a TLS connection (the settings AMQP_CA_FILE, AMQP_CERT_FILE, AMQP_KEY_FILE). */
export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * The PEM texts of `files`, as node:tls takes them.
 *
 * @throws {BrokerError} (permanent) naming a file that cannot be read.
 */
function readTls(
  files: TlsFiles,
): { ca?: string; cert?: string; key?: string } {
  const read = (variable: string, path: string | undefined) => {
    if (path === undefined) return undefined;
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new BrokerError(
        `Cannot read ${variable} "${path}": ${describeError(error)}`,
        { permanent: true, cause: error },
      );
    }
  };
  const ca = read("AMQP_CA_FILE", files.caFile);
  const cert = read("AMQP_CERT_FILE", files.certFile);
  const key = read("AMQP_KEY_FILE", files.keyFile);
  return {
    ...ca === undefined ? {} : { ca },
    ...cert === undefined ? {} : { cert },
    ...key === undefined ? {} : { key },
  };
}

/** The brokers in the order to try them: from `start`, wrapping around. */
export function inTurn<T>(urls: T[], start: number): T[] {
  const first = ((start % urls.length) + urls.length) % urls.length;
  return [...urls.slice(first), ...urls.slice(0, first)];
}

/**
 * Opens one long-lived connection, with Nagle's algorithm off (it stalls
 * small writes by 40 ms) and heartbeats on.
 *
 * @throws {BrokerError} naming the URL, without its password, and the
 * reason; `permanent` when no broker of the list can ever accept us.
 */
export async function connectBroker(
  options: ConnectOptions,
): Promise<ChannelModel> {
  const { name, heartbeat = 30, timeout = 5000 } = options;
  const urls = brokerUrls(options.url);
  if (urls.length === 0) {
    throw new BrokerError("AMQP_URL is empty", { permanent: true });
  }
  const failures: string[] = [];
  let permanent = true;
  let cause: unknown;
  const tls = urls.some((url) => url.protocol === "amqps:")
    ? readTls(options.tls ?? {})
    : {};
  for (const url of inTurn(urls, options.start ?? 0)) {
    const secure = url.protocol === "amqps:";
    const config: Options.Connect = {
      protocol: secure ? "amqps" : "amqp",
      hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : secure ? 5671 : 5672,
      username: decodeURIComponent(url.username || "guest"),
      password: decodeURIComponent(url.password || "guest"),
      vhost: vhostOf(url),
      heartbeat: Number(url.searchParams.get("heartbeat") ?? heartbeat),
    };
    try {
      const model = await connect(config, {
        noDelay: true,
        timeout,
        clientProperties: { connection_name: name },
        ...(secure ? tls : {}),
        // TLS names a server only by host name (SNI): never by address.
        ...(secure && isIP(config.hostname ?? "") === 0
          ? { servername: config.hostname }
          : {}),
      });
      coalesceWrites(model);
      return model;
    } catch (error) {
      cause = error;
      permanent &&= isPermanent(error);
      failures.push(
        `Cannot connect to "${redactUrl(url.href)}": ${describeError(error)}`,
      );
    }
  }
  throw new BrokerError(failures.join("; "), {
    permanent,
    replyCode: replyCodeOf(cause),
    cause,
  });
}

/** Whether a failed connect can never succeed: refused by the broker, or by our own permissions. */
function isPermanent(error: unknown): boolean {
  if (error instanceof Deno.errors.NotCapable) return true;
  // A certificate that does not verify (unknown authority, another host's
  // name, expired) will not verify on the next try either.
  if (isCertificateError(error)) return true;
  if ((error as { code?: unknown })?.code === "EPERM") return true;
  const code = replyCodeOf(error);
  return code === 403 || code === 530;
}

/** Whether a TLS handshake failed on the peer's certificate. */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && /CERT|SELF_SIGNED|ALTNAME/.test(code)) {
    return true;
  }
  return /certificate|UnknownIssuer|NotValidForName|BadSignature/i.test(
    describeError(error),
  );
}

/**
 * Whether a failed session would fail the same way every time: a permanent
 * broker error, a usage error, or the broker closing a channel with an
 * irrecoverable reply code (a queue declared with other arguments, access
 * to a resource refused).
 */
function cannotRecover(error: unknown): boolean {
  if (error instanceof UsageError) return true;
  if (error instanceof BrokerError) return error.permanent;
  const code = replyCodeOf(error);
  return code !== undefined && IRRECOVERABLE_REPLY_CODES.includes(code);
}

/** Options of {@linkcode stayConnected}. */
export interface StayConnectedOptions extends ConnectOptions {
  /** Ends the loop: no more tries; a session watches it to end its work cleanly. */
  signal: AbortSignal;
  /**
   * Runs on each new connection: declares topology, opens channels, works,
   * and returns when the work is done (the loop ends) or throws when it
   * failed (the loop connects again). It calls `ready` once it works: only
   * then does the backoff start again from its shortest wait.
   */
  session(connection: ChannelModel, ready: () => void): Promise<void>;
  /** Told of each lost or failed connection and the wait before the next try. */
  onRetry?(message: string, delayMs: number): void | Promise<void>;
}

/**
 * Keeps a connection for as long as it is wanted: connects (trying each
 * broker of the URL), runs the session, and when the connection is lost or
 * the session fails, connects again after a backoff with jitter.
 *
 * @throws {BrokerError} at once for what retrying cannot mend (refused
 * credentials, a host not permitted, an irrecoverable reply code).
 */
export async function stayConnected(
  options: StayConnectedOptions,
): Promise<void> {
  const { signal, session, onRetry } = options;
  let attempt = 0;
  // Each (re)connect starts from the next broker: a dead first node then
  // costs one timeout in a round, not one on every reconnect.
  let start = 0;
  const retry = async (error: unknown) => {
    const wait = backoff(attempt++);
    await onRetry?.(describeError(error), wait);
    await delay(wait, { signal });
  };
  while (!signal.aborted) {
    let connection: ChannelModel;
    try {
      connection = await connectBroker({ ...options, start: start++ });
    } catch (error) {
      if (error instanceof BrokerError && error.permanent) throw error;
      await retry(error);
      continue;
    }
    connection.on("error", () => {});
    const lost = new Promise<never>((_, reject) => {
      connection.once("close", (error?: Error) => {
        reject(
          new BrokerError(
            `Connection lost${error ? `: ${describeError(error)}` : ""}`,
            { cause: error },
          ),
        );
      });
    });
    lost.catch(() => {});
    try {
      // A session that fails before it works must not retry at full speed.
      await Promise.race([session(connection, () => attempt = 0), lost]);
      await connection.close().catch(() => {});
      return;
    } catch (error) {
      await connection.close().catch(() => {});
      if (signal.aborted) return;
      if (cannotRecover(error)) throw error;
      await retry(error);
    }
  }
}

/**
 * An `onRetry` for {@linkcode stayConnected} that writes one warning:
 * `<service>: <why>[; <detail>]; trying again in 1.2 s`.
 */
export function reportRetry(
  log: Log,
  detail?: () => string | Promise<string>,
): (message: string, delayMs: number) => Promise<void> {
  return async (message, delayMs) => {
    const said = detail
      ? await Promise.resolve().then(detail).catch(() => "")
      : "";
    const more = said ? `; ${said}` : "";
    log.warn(
      `${log.service}: ${message}${more}; trying again in ${
        (delayMs / 1000).toFixed(1)
      } s`,
    );
  };
}

/** The `host:port` a connection reached, for health and status lines. */
export function brokerOf(connection: ChannelModel): string {
  const stream = (connection.connection as unknown as {
    stream?: { remoteAddress?: string; remotePort?: number };
  }).stream;
  return joinHostPort(stream?.remoteAddress ?? "?", stream?.remotePort ?? "?");
}

/** The broker's version from its server properties, e.g. "3.10.8". */
export function serverVersion(connection: ChannelModel): string {
  const properties = (connection.connection as unknown as {
    serverProperties?: { version?: unknown };
  }).serverProperties;
  return String(properties?.version ?? "");
}
