/**
 * Billing's command line and what it may reach (`services/billing.ts`).
 *
 * @module
 */
import {
  BILLING_CLOSE_QUEUE,
  BILLING_QUEUE,
  INVOICE_CREATED,
  SALE_CREATED,
  SALES_EXCHANGE,
  TILL_CLOSED,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
} from "../../contracts/names.ts";
import type { Program } from "../cli/mod.ts";
import { CONSUMER_SETTINGS, outboxCommandOf } from "./_shared.ts";

const NAME = "billing";

/** Billing's command line, and what it may read: its folder and TAX_RATE. */
export const program: Program = {
  name: NAME,
  script: "services/billing.ts",
  settings: CONSUMER_SETTINGS,
  own: {
    taxRate: {
      flag: "tax-rate",
      env: "TAX_RATE",
      value: "r",
      help: "tax on each sale's total, e.g. 0.13; default none",
    },
  },
  service: true,
  keepsData: true,
  broker: {
    exchange: SALES_EXCHANGE,
    publishes: [INVOICE_CREATED, TILL_RECONCILED, TILL_DISCREPANCY],
    consumes: [{
      exchange: SALES_EXCHANGE,
      queue: BILLING_QUEUE,
      routingKey: SALE_CREATED,
    }, {
      exchange: SALES_EXCHANGE,
      queue: BILLING_CLOSE_QUEUE,
      routingKey: TILL_CLOSED,
    }],
  },
  options: {},
  help: `
Billing: makes an invoice for every sale on "${BILLING_QUEUE}" and publishes
"${INVOICE_CREATED}".

Usage:
  deno task billing [-- options]            consume sales
  deno task invoices [-- options]           print the stored invoices (--help)
  deno task billing -- outbox [list|replay] what the relay set aside (--help)`,
  commands: {
    invoices: {
      settings: ["dataDir", "databaseUrl", "money", "timeZone"],
      options: {
        json: { type: "boolean" },
        sale: { type: "string" },
        store: { type: "string" },
        till: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        limit: { type: "string" },
      },
      help: `
Invoices: what Billing stored, in store and number order.

Usage:
  deno task invoices [-- options]           one line per invoice
  deno task invoices -- --sale <id>         one invoice, readably
  deno task invoices -- --json              JSON, for machines

Options:
  --sale <id>        only this sale's invoice (one per till that made it)
  --store <s>        only this store's
  --till <t>         only this till's
  --from <time>      made at or after, e.g. 2026-11-27
  --to <time>        made before
  --limit <n>        at most n
  --json             a JSON array of invoices, as on the wire (PascalCase)`,
    },
    outbox: outboxCommandOf(NAME),
  },
};
