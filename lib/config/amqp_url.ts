/**
 * AMQP_URL: one broker or several (the nodes of a cluster), comma-separated,
 * each a full `amqp://` or `amqps://` URL; and how to print one safely.
 *
 * @module
 */
import { BrokerError } from "../core/mod.ts";

/** Where the services find the broker unless AMQP_URL says otherwise. */
export const DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672";

/** The URL as it is safe to print: no password, no query. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const user = parsed.username ? `${parsed.username}@` : "";
    const port = parsed.port ? `:${parsed.port}` : "";
    const vhost = parsed.pathname === "/" ? "" : parsed.pathname;
    return `${parsed.protocol}//${user}${parsed.hostname}${port}${vhost}`;
  } catch {
    return "(an invalid URL)";
  }
}

/** The vhost a broker's URL names: its path, decoded; `/` when it has none. */
export function vhostOf(url: URL): string {
  return url.pathname.length > 1
    ? decodeURIComponent(url.pathname.slice(1))
    : "/";
}

/**
 * The brokers listed in an AMQP URL.
 *
 * @throws {BrokerError} when an entry is not an AMQP URL.
 */
export function brokerUrls(url: string): URL[] {
  return url.split(",").map((entry) => entry.trim()).filter(Boolean).map(
    (entry) => {
      let parsed: URL;
      try {
        parsed = new URL(entry);
      } catch {
        throw new BrokerError(`Invalid AMQP URL "${redactUrl(entry)}"`, {
          permanent: true,
        });
      }
      if (parsed.protocol !== "amqp:" && parsed.protocol !== "amqps:") {
        throw new BrokerError(
          `Invalid AMQP URL "${redactUrl(entry)}": use amqp:// or amqps://`,
          { permanent: true },
        );
      }
      const heartbeat = parsed.searchParams.get("heartbeat");
      if (
        heartbeat !== null &&
        !(/^\d{1,5}$/.test(heartbeat) && Number(heartbeat) <= 65535)
      ) {
        throw new BrokerError(
          `Invalid AMQP URL "${
            redactUrl(entry)
          }": heartbeat "${heartbeat}" is not a whole number of seconds from 0 to 65535`,
          { permanent: true },
        );
      }
      return parsed;
    },
  );
}

/** Whether `text` is an IPv4 or IPv6 address, written as such. */
export function isIpAddress(text: string): boolean {
  return /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/.test(
    text,
  );
}

/** `host:port`, an IPv6 address in brackets, as URLs and `--allow-net` write it. */
export function joinHostPort(host: string, port: string | number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The `host:port` a broker URL connects to, as `--allow-net` takes it. */
export function hostAndPort(url: URL): string {
  const port = url.port || (url.protocol === "amqps:" ? "5671" : "5672");
  return `${url.hostname}:${port}`;
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

/**
 * What in an AMQP URL a stolen credential or a listener on the way could
 * use, one line each: the broker's default `guest` user, and a plain
 * `amqp://` to a host that is not this machine.
 *
 * @example
 * ```ts
 * import { unsafeBrokerUrls } from "./amqp_url.ts";
 *
 * unsafeBrokerUrls("amqp://broker.example"); // guest, and plain amqp://
 * ```
 */
export function unsafeBrokerUrls(url: string): string[] {
  let urls: URL[];
  try {
    urls = brokerUrls(url);
  } catch {
    return [];
  }
  return urls.flatMap((url) => {
    const host = hostAndPort(url);
    const found: string[] = [];
    if (decodeURIComponent(url.username || "guest") === "guest") {
      found.push(
        `${host} is reached as guest, who may do anything there: give each service a user of its own`,
      );
    }
    if (url.protocol === "amqp:" && !LOOPBACK.includes(url.hostname)) {
      found.push(
        `${host} is reached over plain amqp://, passwords and sales readable on the way: use amqps://`,
      );
    }
    return found;
  });
}
