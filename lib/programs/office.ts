/**
 * The back office's command line and what it may reach (`services/office.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  CONSUMER_QUEUES,
  DEMO_CATALOG,
  OFFICE_EVENTS,
  OFFICE_QUEUE,
  SALES_EXCHANGE,
  STOCK_ADJUST,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
} from "../../contracts/names.ts";
import { isIpAddress, joinHostPort, wholeNumber } from "../config/mod.ts";
import { UsageError } from "../core/mod.ts";
import type { Program } from "../cli/mod.ts";
import { CONSUMER_SETTINGS, outboxCommandOf } from "./_shared.ts";

const NAME = "office";

/** Where the back office listens unless told. */
export const DEFAULT_PORT = 8000;
const DEFAULT_HOST = "127.0.0.1";

/**
 * Where to listen and what stands in front, from the office's own settings
 * (`--port`/PORT, `--host`, `--public-url`, `--trust-proxy`).
 *
 * @throws {UsageError} for a port that is not one, a public URL that is not
 * http(s), or a proxy that is not an IP address.
 */
export function listenOf(
  own: Record<string, string | undefined>,
): {
  hostname: string;
  port: number;
  publicUrl?: string;
  trustedProxies: string[];
} {
  const { publicUrl } = own;
  if (publicUrl !== undefined && !/^https?:\/\/[^/]/.test(publicUrl)) {
    throw new UsageError(
      `Invalid public URL "${publicUrl}": use http:// or https:// and a host`,
    );
  }
  const trustedProxies = (own.trustProxy ?? "").split(",").map((address) =>
    address.trim()
  ).filter(Boolean);
  for (const address of trustedProxies) {
    if (!isIpAddress(address)) {
      throw new UsageError(
        `Invalid proxy address "${address}": --trust-proxy takes IP addresses, comma-separated`,
      );
    }
  }
  return {
    hostname: own.host ?? DEFAULT_HOST,
    port: wholeNumber("port", own.port ?? String(DEFAULT_PORT), { max: 65535 }),
    ...(publicUrl === undefined ? {} : { publicUrl }),
    trustedProxies,
  };
}

/**
 * The back office's command line, and what it may reach: the broker, its
 * own listen address and its own folder.
 */
export const program: Program = {
  name: NAME,
  script: "services/office.ts",
  // Its pages, /health and /metrics share one address: no HTTP_PORT.
  settings: [
    ...CONSUMER_SETTINGS.filter((key) =>
      key !== "httpPort" && key !== "httpHost"
    ),
    "money",
    "timeZone",
  ],
  own: {
    port: {
      flag: "port",
      env: "PORT",
      value: "n",
      help: `where to serve; default ${DEFAULT_PORT}`,
      default: String(DEFAULT_PORT),
    },
    host: {
      flag: "host",
      value: "h",
      help: `the address to serve on; default ${DEFAULT_HOST}`,
      default: DEFAULT_HOST,
    },
    catalog: {
      flag: "catalog",
      env: "CATALOG",
      value: "path",
      help:
        "the catalog CSV, for the products' names; default contracts/catalog.csv",
      default: fileURLToPath(DEMO_CATALOG),
    },
    publicUrl: {
      flag: "public-url",
      env: "PUBLIC_URL",
      value: "url",
      help:
        "the address people open, e.g. https://office.example behind a proxy; only it and the address served on are answered",
    },
    trustProxy: {
      flag: "trust-proxy",
      env: "TRUST_PROXY",
      value: "addresses",
      help:
        "the reverse proxies in front (IP addresses, comma-separated), whose X-Forwarded-For names the visitor for sign-in limits and the audit; default none",
    },
  },
  service: true,
  keepsData: true,
  broker: {
    exchange: SALES_EXCHANGE,
    publishes: [STOCK_ADJUST, TILL_RECONCILED, TILL_DISCREPANCY],
    consumes: [{
      exchange: SALES_EXCHANGE,
      queue: OFFICE_QUEUE,
      routingKey: OFFICE_EVENTS,
    }],
    // Its Error queues page lists, replays and purges them.
    tendsErrorsOf: CONSUMER_QUEUES.filter((queue) => queue !== OFFICE_QUEUE),
  },
  options: {},
  reads: ({ own }) => [own.catalog],
  connects: ({ own }) => {
    try {
      const { hostname, port } = listenOf(own);
      return [joinHostPort(hostname, port)];
    } catch {
      return []; // The office says what is wrong with it.
    }
  },
  help: `
Office: the back office in a browser. Consumes the shop's events
(${OFFICE_EVENTS.join(", ")})
from "${OFFICE_QUEUE}" into its own read model, and serves the Today, Invoices,
Stock, Error queues and Live pages, /api/summary, /health and /metrics.

Usage:
  deno task office [-- options]
  deno task office -- outbox [list|replay]  what the relay set aside (--help)`,
  commands: {
    outbox: outboxCommandOf(NAME),
    users: {
      settings: ["dataDir", "databaseUrl"],
      options: { role: { type: "string" } },
      help: `
Users: the back office's accounts. A password is typed without echo, or
read as the first line of standard input when it is not a terminal.

Usage:
  deno task office -- users list                     the accounts and roles
  deno task office -- users add <name> --role <r>    a new account
  deno task office -- users passwd <name>            a new password; its
                                                     sessions end
  deno task office -- users remove <name>            no more account

Options:
  --role <r>         viewer (reads the pages), manager (also adjusts stock)
                     or admin (also error queues and the audit page)`,
    },
  },
};
