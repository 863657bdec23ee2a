/**
 * The names the services and the article's .NET services share on the
 * broker (the exchange, routing keys and queues), and the demo shop's
 * defaults. Apart from the schemas, so that a program's declaration
 * (`lib/programs/`) reads them without loading a validator.
 *
 * @module
 */

/** The durable topic exchange every sale is published to. */
export const SALES_EXCHANGE = "sales_exchange";
/** The routing key of a new sale. */
export const SALE_CREATED = "sale.created";
/** The routing key of a new invoice. */
export const INVOICE_CREATED = "invoice.created";
/** The routing key of a low-stock event. */
export const STOCK_LOW = "inventory.stock.low";
/** The routing key of new stock levels. */
export const STOCK_CHANGED = "inventory.stock.changed";
/** The routing key of a command to change a stock. */
export const STOCK_ADJUST = "inventory.stock.adjust";
/** The routing key of a till's day close. */
export const TILL_CLOSED = "till.closed";
/** The routing key of a service's reconciliation of a close. */
export const TILL_RECONCILED = "till.reconciled";
/** The routing key of a service's discrepancy with a close. */
export const TILL_DISCREPANCY = "till.discrepancy";
/** The article's Billing queue; the .NET Billing service consumes it too. */
export const BILLING_QUEUE = "billing_queue";
/** The article's Inventory queue; the .NET Inventory service consumes it too. */
export const INVENTORY_QUEUE = "inventory_queue";
/** Inventory's commands (`inventory.stock.adjust`), apart from the sales. */
export const INVENTORY_COMMAND_QUEUE = "inventory_command_queue";
/**
 * Billing's day closes, apart from its sales: the .NET Billing, which may
 * consume `billing_queue` beside ours, reads only sales.
 */
export const BILLING_CLOSE_QUEUE = "billing_close_queue";
/** Inventory's day closes, apart from its sales for the same reason. */
export const INVENTORY_CLOSE_QUEUE = "inventory_close_queue";
/** The back office's queue: every event it shows. */
export const OFFICE_QUEUE = "office_queue";
/** The queues the services consume, each with its error queue. */
export const CONSUMER_QUEUES: readonly string[] = [
  BILLING_QUEUE,
  BILLING_CLOSE_QUEUE,
  INVENTORY_QUEUE,
  INVENTORY_COMMAND_QUEUE,
  INVENTORY_CLOSE_QUEUE,
  OFFICE_QUEUE,
];
/** The events the office shows, by routing key. */
export const OFFICE_EVENTS: readonly string[] = [
  SALE_CREATED,
  INVOICE_CREATED,
  STOCK_LOW,
  STOCK_CHANGED,
  TILL_CLOSED,
  TILL_RECONCILED,
  TILL_DISCREPANCY,
];
/** The demo shop's store, where a command names none. */
export const DEFAULT_STORE = "NEPAL-01";
/** The shipped demo catalog: a small grocery in Kathmandu, in rupees. */
export const DEMO_CATALOG = new URL("./catalog.csv", import.meta.url);
