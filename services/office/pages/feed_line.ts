/**
 * An event of the feed as one readable line: what it is, its store, till,
 * sale and amount; the JSON stays for who asks.
 *
 * @module
 */
import { parseExact } from "../../../contracts/exact_json.ts";
import { formatRanges, type IdRanges } from "../../../contracts/till.ts";
import type { FeedEntry } from "../views.ts";
import { money, shownTime } from "./layout.ts";

/** A field of an event's JSON, as text; empty when absent. */
function field(value: Record<string, unknown>, name: string): string {
  const found = value[name];
  return found === undefined || found === null ? "" : String(found);
}

/** `what · store · till · …`, the empty parts left out. */
function join(...parts: string[]): string {
  return parts.filter(Boolean).join(" · ");
}

/** The line of an event: kind, store, till, sale, amount. */
export function feedLine(
  entry: Pick<FeedEntry, "RoutingKey" | "Text">,
): string {
  let value: Record<string, unknown>;
  try {
    value = parseExact(entry.Text) as Record<string, unknown>;
  } catch {
    return entry.RoutingKey;
  }
  const store = field(value, "StoreId");
  const till = value.TillId === undefined
    ? ""
    : `till ${field(value, "TillId")}`;
  switch (entry.RoutingKey) {
    case "sale.created": {
      const items = Array.isArray(value.Items) ? value.Items.length : 0;
      return join(
        `Sale #${field(value, "SaleId")}`,
        store,
        till,
        `${items} item${items === 1 ? "" : "s"}`,
        money(field(value, "TotalAmount")),
      );
    }
    case "invoice.created":
      return join(
        `Invoice ${field(value, "InvoiceNumber")}`,
        `Sale #${field(value, "SaleId")}`,
        store,
        till,
        money(field(value, "Total")),
      );
    case "inventory.stock.changed": {
      const levels = Array.isArray(value.Levels)
        ? value.Levels as Record<string, unknown>[]
        : [];
      const shown = levels.slice(0, 4).map((level) =>
        `${field(level, "Sku")} ${field(level, "Quantity")}`
      ).join(", ");
      return join(
        "Stock",
        store,
        levels.length > 4 ? `${shown} and ${levels.length - 4} more` : shown,
      );
    }
    case "inventory.stock.low":
      return join(
        "Low stock",
        store,
        `${field(value, "Sku")} ${field(value, "Quantity")}, below ${
          field(value, "Threshold")
        }`,
      );
    case "till.closed":
      return join(
        "Day close",
        store,
        till,
        `day ${field(value, "BusinessDay")}`,
        `${field(value, "Count")} sales`,
        money(field(value, "TotalAmount")),
      );
    case "till.reconciled":
      return join(
        `Reconciled by ${field(value, "Service")}`,
        store,
        till,
        `day ${field(value, "BusinessDay")}`,
      );
    case "till.discrepancy":
      return join(
        `Discrepancy at ${field(value, "Service")}`,
        store,
        till,
        `day ${field(value, "BusinessDay")}`,
        `lacks ${
          formatRanges((value.MissingSaleIds ?? []) as IdRanges) || "no sale"
        }`,
      );
  }
  return join(entry.RoutingKey, store, till);
}

/** A feed entry as the Live page's script shows it: its line, and its time in the shop's zone. */
export function shownEntry(
  entry: FeedEntry,
): FeedEntry & { Line: string; Time: string } {
  return {
    ...entry,
    Line: feedLine(entry),
    Time: shownTime(entry.At),
  };
}
