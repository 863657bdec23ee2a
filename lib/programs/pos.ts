/**
 * The POS's command line and what it may reach (`services/pos.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  DEFAULT_STORE,
  DEMO_CATALOG,
  SALE_CREATED,
  SALES_EXCHANGE,
  TILL_CLOSED,
} from "../../contracts/names.ts";
import { join } from "node:path";
import type { OwnSetting, Program } from "../cli/mod.ts";
import { AMQP_SETTINGS, type Config } from "../config/mod.ts";
import { outboxCommandOf } from "./_shared.ts";

const NAME = "pos";

/** Seconds a one-shot POS waits for a broker that does not answer. */
export const DEFAULT_TIMEOUT_S = 30;

const POS_SETTINGS: readonly (keyof Config)[] = [
  ...AMQP_SETTINGS,
  "dataDir",
  "databaseUrl",
  "httpPort",
  "httpHost",
  "retentionMs",
  "money",
];

/** The till's id, a setting of the POS and its commands. */
const TILL: OwnSetting = {
  flag: "till",
  env: "TILL_ID",
  value: "id",
  help:
    "this till's id, part of each sale's key; default made at the first start and kept",
};

/** The POS's command line, and what it may read: its folder, the catalog, a file of sales. */
export const program: Program = {
  name: NAME,
  script: "services/pos.ts",
  settings: POS_SETTINGS,
  own: {
    catalog: {
      flag: "catalog",
      env: "CATALOG",
      value: "path",
      help: "the catalog CSV; default contracts/catalog.csv",
      default: fileURLToPath(DEMO_CATALOG),
    },
    till: TILL,
  },
  oneOf: [["items", "file", "count"]],
  needs: { rate: "count" },
  service: true,
  keepsData: true,
  broker: { exchange: SALES_EXCHANGE, publishes: [SALE_CREATED, TILL_CLOSED] },
  options: {
    items: { type: "string" },
    file: { type: "string" },
    count: { type: "string" },
    rate: { type: "string" },
    store: { type: "string" },
    quiet: { type: "boolean" },
    timeout: { type: "string" },
  },
  reads: ({ values, own }) => [values.file as string | undefined, own.catalog],
  commands: {
    outbox: outboxCommandOf(NAME),
    close: {
      settings: POS_SETTINGS,
      own: { till: TILL },
      options: {
        store: { type: "string" },
        timeout: { type: "string" },
      },
      help: `
Day close: ends this till's business day. Its sales and a "${TILL_CLOSED}"
event (the day, its sale ids, their count and exact sum) commit together; the
event is sent, and Billing, Inventory and the back office each reconcile it
with what they have. Sales rung after it belong to the next day. With nothing
sold since the last close, that close is sent again (taken once).

Usage:
  deno task pos -- close [-- options]

Options:
  --store <id>       the till's store; default ${DEFAULT_STORE}
  --timeout <s>      how long to wait for a broker that does not answer
                     (exit 75, the close kept and sent at the next start);
                     default ${DEFAULT_TIMEOUT_S}`,
    },
    resend: {
      settings: POS_SETTINGS,
      own: { till: TILL },
      options: {
        ids: { type: "string" },
        missing: { type: "boolean" },
        store: { type: "string" },
        timeout: { type: "string" },
      },
      // The open discrepancies are read from each service's own store.
      reads: ({ config }) =>
        ["billing", "inventory", "office"].map((name) =>
          join(config.dataDir, name)
        ),
      help: `
Resend: sends this till's stored sales again, as the same messages (same ids,
same content), so that each consumer's inbox takes each at most once.

Usage:
  deno task pos -- resend --ids 10041-10043,10050
  deno task pos -- resend --missing     every id the open discrepancies of
                                        Billing, Inventory and the back office
                                        name (read from their stores)

Options:
  --ids <ranges>     sale ids and ranges of them, comma-separated
  --missing          the ids the services said they lack
  --store <id>       the till's store; default ${DEFAULT_STORE}
  --timeout <s>      as for close; default ${DEFAULT_TIMEOUT_S}`,
    },
  },
  help: `
Point of Sale: prices sales from the catalog and publishes them to
"${SALES_EXCHANGE}" with "${SALE_CREATED}".

Usage:
  deno task pos [-- options]                      press a to sell a random
                                                  basket, c to close the
                                                  day, q to stop
  deno task pos -- --items "MILK-1L:2,EGGS-12:1"  one sale
  deno task pos -- --file sales.csv               many sales: every row is
  deno task pos -- --file sales.jsonl             checked first; bad rows are
                                                  reported by line, not sent
  deno task pos -- --count N [--rate R]           N random sales from the
                                                  catalog, R a second
Each exits once the broker has confirmed every sale it made.
  deno task pos -- close                          end the till's business day
                                                  (--help)
  deno task pos -- resend                         send stored sales again
                                                  (--help)
  deno task pos -- outbox [list|replay]           what the relay set aside
                                                  (--help)

Options:
  --items <list>     SKU:quantity, comma-separated
  --file <path>      CSV (receipt,sku,quantity[,store]: lines of a receipt
                     are one sale) or JSON Lines ({"Items":[{"Sku","Quantity"}]})
  --count <n>        n random baskets from the catalog; 0 sends what is
                     waiting in the outbox and exits
  --rate <r>         sales per second; default as fast as confirmed
  --store <id>       the store's id; default ${DEFAULT_STORE}
  --timeout <s>      with --items, --file, --count: how long to wait for a
                     broker that does not answer before exiting (code 75)
                     with the sales kept for the next start; default ${DEFAULT_TIMEOUT_S}
  --quiet            print only the summary`,
};
