/**
 * The events the back office consumes, read by their routing key, each with
 * the key that makes it unique in the office's inbox.
 *
 * @module
 */
import type { ConsumeMessage } from "amqplib";
import { ContractError } from "../../contracts/codec.ts";
import {
  decodeInvoice,
  INVOICE_CREATED,
  type InvoiceCreated,
} from "../../contracts/invoice.ts";
import {
  decodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
} from "../../contracts/sale.ts";
import {
  decodeStockChanged,
  decodeStockLow,
  STOCK_CHANGED,
  STOCK_LOW,
  type StockChanged,
  type StockLow,
} from "../../contracts/stock.ts";
import {
  closeKey,
  decodeTillClosed,
  decodeTillDiscrepancy,
  decodeTillReconciled,
  TILL_CLOSED,
  TILL_DISCREPANCY,
  TILL_RECONCILED,
  type TillClosed,
  type TillDiscrepancy,
  type TillReconciled,
} from "../../contracts/till.ts";
import { OFFICE_EVENTS } from "../../contracts/names.ts";
import { type Delivery, delivery } from "../../lib/store/mod.ts";

export { OFFICE_EVENTS };

/** An event the office consumes, read. */
export type OfficeEvent =
  | { kind: typeof SALE_CREATED; value: SaleDetails }
  | { kind: typeof INVOICE_CREATED; value: InvoiceCreated }
  | { kind: typeof STOCK_LOW; value: StockLow }
  | { kind: typeof STOCK_CHANGED; value: StockChanged }
  | { kind: typeof TILL_CLOSED; value: TillClosed }
  | { kind: typeof TILL_RECONCILED; value: TillReconciled }
  | { kind: typeof TILL_DISCREPANCY; value: TillDiscrepancy };

/** An event as delivered: read, with its inbox key and its body as text. */
export interface OfficeDelivery extends Delivery<OfficeEvent> {
  /** What makes it unique in the office's inbox. */
  key: string;
  /** Its body as text (valid UTF-8: it was read). */
  text: string;
}

const decoder = new TextDecoder();

/**
 * Reads a message by its routing key.
 *
 * @throws {ContractError} for a routing key the office does not take, or a
 * body that is not of its event.
 */
export function decodeOfficeEvent(
  body: Uint8Array,
  message: ConsumeMessage,
): OfficeDelivery {
  const { routingKey } = message.fields;
  const read = (): OfficeEvent => {
    switch (routingKey) {
      case SALE_CREATED:
        return { kind: SALE_CREATED, value: decodeSale(body) };
      case INVOICE_CREATED:
        return { kind: INVOICE_CREATED, value: decodeInvoice(body) };
      case STOCK_LOW:
        return { kind: STOCK_LOW, value: decodeStockLow(body) };
      case STOCK_CHANGED:
        return { kind: STOCK_CHANGED, value: decodeStockChanged(body) };
      case TILL_CLOSED:
        return { kind: TILL_CLOSED, value: decodeTillClosed(body) };
      case TILL_RECONCILED:
        return { kind: TILL_RECONCILED, value: decodeTillReconciled(body) };
      case TILL_DISCREPANCY:
        return { kind: TILL_DISCREPANCY, value: decodeTillDiscrepancy(body) };
    }
    throw new ContractError(
      `Unknown event "${routingKey}": the office takes ${
        OFFICE_EVENTS.join(", ")
      }`,
    );
  };
  const received = delivery(body, read, message);
  const event = received.value;
  // Sales and invoices carry what makes them unique; the stock events are
  // told apart by the message id their outbox gave them.
  const key = event.kind === SALE_CREATED
    ? `sale:${saleKey(event.value)}`
    : event.kind === INVOICE_CREATED
    ? `invoice:${event.value.InvoiceNumber}`
    : event.kind === TILL_CLOSED
    ? closeKey(event.value)
    : `${event.kind}:${message.properties.messageId ?? received.digest}`;
  return { ...received, key, text: decoder.decode(body) };
}
