/**
 * The back office's queue: the shop's events applied once each to its read
 * model, in the transaction that records them.
 *
 * @module
 */
import {
  INVOICE_CREATED,
  OFFICE_QUEUE,
  SALE_CREATED,
  SALES_EXCHANGE,
  TILL_CLOSED,
} from "../../contracts/names.ts";
import type { ConsumedQueue, Work } from "../../lib/host/mod.ts";
import { ledgerSaleOf, type Reconciler } from "../../lib/reconcile/mod.ts";
import {
  decodeOfficeEvent,
  OFFICE_EVENTS,
  type OfficeDelivery,
  type OfficeEvent,
} from "./events.ts";
import type { OfficeModel } from "./model.ts";
import type { FeedEntry } from "./views.ts";

/** An event applied, and the line of the feed it made. */
export interface Applied {
  delivery: OfficeDelivery;
  entry: FeedEntry;
}

/**
 * `office_queue`, applied to `model`; `onCommit` is told what a batch
 * applied once it is on disk, as the ack that follows.
 */
export function officeQueue(
  model: OfficeModel,
  onCommit: (applied: Applied[]) => void = () => {},
  /** The office's own reconciliation of the closes, with the sales it took. */
  reconciler?: Reconciler,
): ConsumedQueue<OfficeEvent> {
  const apply = async ({ tx, deliveries }: Work<OfficeEvent>) => {
    const applied: Applied[] = [];
    for (const delivery of deliveries as OfficeDelivery[]) {
      applied.push({ delivery, entry: await model.apply(tx, delivery) });
      const event = delivery.value;
      if (event.kind === TILL_CLOSED) await reconciler?.take(tx, event.value);
    }
    await model.trim(tx);
    tx.onCommit(() => onCommit(applied));
  };
  return {
    exchange: SALES_EXCHANGE,
    queue: OFFICE_QUEUE,
    routingKey: OFFICE_EVENTS,
    decode: decodeOfficeEvent,
    keyOf: (delivery) => (delivery as OfficeDelivery).key,
    timeOf: ({ value: event }) =>
      event.kind === SALE_CREATED
        ? event.value.Timestamp
        : event.kind === INVOICE_CREATED
        ? event.value.CreatedAt
        : event.kind === TILL_CLOSED
        ? event.value.ClosedAt
        : event.value.At,
    handle:
      reconciler?.recorded((event: OfficeEvent) =>
        event.kind === SALE_CREATED ? ledgerSaleOf(event.value) : undefined
      )(apply) ?? apply,
  };
}
