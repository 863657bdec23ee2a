/**
 * Inventory's command line and what it may reach (`services/inventory.ts`).
 *
 * @module
 */
import {
  DEFAULT_STORE,
  INVENTORY_CLOSE_QUEUE,
  INVENTORY_COMMAND_QUEUE,
  INVENTORY_QUEUE,
  SALE_CREATED,
  SALES_EXCHANGE,
  STOCK_ADJUST,
  STOCK_CHANGED,
  STOCK_LOW,
  TILL_CLOSED,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
} from "../../contracts/names.ts";
import type { Program } from "../cli/mod.ts";
import { CONSUMER_SETTINGS, outboxCommandOf } from "./_shared.ts";

const NAME = "inventory";

/** Inventory's command line, and what it may read: its folder and a stock file to load. */
export const program: Program = {
  name: NAME,
  script: "services/inventory.ts",
  settings: CONSUMER_SETTINGS,
  service: true,
  keepsData: true,
  broker: {
    exchange: SALES_EXCHANGE,
    publishes: [STOCK_LOW, STOCK_CHANGED, TILL_RECONCILED, TILL_DISCREPANCY],
    consumes: [{
      exchange: SALES_EXCHANGE,
      queue: INVENTORY_QUEUE,
      routingKey: SALE_CREATED,
    }, {
      exchange: SALES_EXCHANGE,
      queue: INVENTORY_COMMAND_QUEUE,
      routingKey: STOCK_ADJUST,
    }, {
      exchange: SALES_EXCHANGE,
      queue: INVENTORY_CLOSE_QUEUE,
      routingKey: TILL_CLOSED,
    }],
  },
  options: {},
  help: `
Inventory: takes every sale on "${INVENTORY_QUEUE}" off the stock of its store,
applies the deliveries and counts sent on "${INVENTORY_COMMAND_QUEUE}"
("${STOCK_ADJUST}"), publishes "${STOCK_CHANGED}" with the new levels, and
"${STOCK_LOW}" when a SKU falls below its threshold.

Usage:
  deno task inventory [-- options]          consume sales
  deno task stock [-- options]              the stock; load, set, add (--help)
  deno task inventory -- outbox [list|replay]   what the relay set aside (--help)`,
  commands: {
    stock: {
      settings: ["dataDir", "databaseUrl"],
      options: {
        json: { type: "boolean" },
        store: { type: "string" },
        threshold: { type: "string" },
        limit: { type: "string" },
        new: { type: "boolean" },
        "if-empty": { type: "boolean" },
      },
      reads: ({ positionals: [, action, file] }) =>
        action === "load" ? [file] : [],
      help: `
Stock: the stock per store and SKU, and changes made by hand.

Usage:
  deno task stock [-- --json]               print the stock per store and SKU
  deno task stock -- load <file.csv>        opening stock: store,sku,quantity[,threshold]
  deno task stock -- set <sku> <qty>        a count: the stock is now <qty>
  deno task stock -- add <sku> <qty>        a delivery: <qty> more

Options:
  --store <s>        with set and add: the store; default ${DEFAULT_STORE};
                     when printing: only this store's
  --threshold <t>    with set and add: the low-stock threshold of the SKU
  --new              with set and add: the SKU is new to the store (without
                     it, a SKU or store with no stock yet is refused)
  --if-empty         with load: only when no stock is recorded yet (the demo
                     of deno task start starts stocked, once)
  --limit <n>        when printing: at most n lines
  --json             when printing: a JSON array, PascalCase as on the wire`,
    },
    outbox: outboxCommandOf(NAME),
  },
};
