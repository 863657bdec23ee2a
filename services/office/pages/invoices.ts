/**
 * The Invoices page, a search over the invoices that reached the office, and
 * one invoice.
 *
 * @module
 */
import {
  type InvoiceCreated,
  invoiceTotals,
} from "../../../contracts/invoice.ts";
import { markup } from "../html.ts";
import type { InvoiceRow, InvoiceSearch } from "../views.ts";
import { layout, message, money, time } from "./layout.ts";

/** The query string of an invoice search, for links to its pages. */
function searchQuery(search: InvoiceSearch, page: number): string {
  const query = new URLSearchParams();
  if (search.store) query.set("store", search.store);
  if (search.sale !== undefined) query.set("sale", String(search.sale));
  if (search.from) query.set("from", search.from);
  if (search.to) query.set("to", search.to);
  query.set("page", String(page));
  return `?${query}`;
}

/** The Invoices page: the search form and a page of results. */
export function invoicesPage(
  search: InvoiceSearch,
  result: { rows: InvoiceRow[]; more: boolean; error?: string },
): string {
  const page = search.page ?? 1;
  const field = (
    name: string,
    label: string,
    value: string | number | undefined,
    type = "text",
  ) =>
    markup`
      <label
        for="${name}">${label}<input id="${name}" name="${name}" type="${type}" value="${
      value ??
        ""
    }"${
      type === "number"
        ? markup`
            min="1" step="1"
          `
        : ""
    }></label>
    `;
  return layout(
    { title: "Invoices", section: "/invoices" },
    markup`
      <form class="inline" method="get" action="/invoices" role="search"
        aria-label="Search invoices">
      ${field("store", "Store", search.store)}
      ${field("sale", "Sale id", search.sale, "number")}
      ${field("from", "From (day)", search.from, "date")}
      ${field("to", "To (day)", search.to, "date")}
      <button type="submit">Search</button>
      </form>
      ${message("error", result.error)}
      ${
      result.rows.length === 0 ? markup`<p>No invoices match.</p>` : markup`
        <table id="invoices">
          <caption class="muted">Page ${page}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Invoice</th>
              <th scope="col">Store</th>
              <th scope="col">Till</th>
              <th scope="col" class="num">Sale</th>
              <th scope="col" class="num">Total due</th>
              <th scope="col">Made at</th>
            </tr>
          </thead>
          <tbody>${
        result.rows.map((row) =>
          markup`
              <tr>
                <td><a href="/invoices/${
            encodeURIComponent(row.Number)
          }">${row.Number}</a></td>
                <td>${row.StoreId}</td>
                <td>${row.TillId}</td>
                <td class="num">${row.SaleId}</td>
                <td class="num">${money(row.Total)}</td>
                <td>${time(row.CreatedAt)}</td>
              </tr>
            `
        )
      }</tbody>
        </table>
      `
    }
      <nav aria-label="Pages of results">
        <p>${
      page > 1
        ? markup`
            <a href="/invoices${
          searchQuery(
            search,
            page - 1,
          )
        }" rel="prev">Previous page</a>
          `
        : ""
    }${
      result.more
        ? markup`<a href="/invoices${
          searchQuery(search, page + 1)
        }" rel="next">Next page</a>`
        : ""
    }</p>
      </nav>
    `,
  );
}

/**
 * One invoice, as a customer reads a receipt: a line per product with its
 * name, quantity, unit price and amount; tax only where there is tax. It
 * prints on its own.
 */
export function invoicePage(
  invoice: InvoiceCreated,
  /** Product names by SKU, from the catalog. */
  names: ReadonlyMap<string, string> = new Map(),
): string {
  const till = invoice.TillId === undefined ? "" : ` (till ${invoice.TillId})`;
  return layout(
    { title: `Invoice ${invoice.InvoiceNumber}`, section: "/invoices" },
    markup`
      <p>Store ${invoice.StoreId}, Sale #${invoice.SaleId}${till}, ${
      time(invoice.CreatedAt)
    }</p>
      <table id="invoice">
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col" class="num">Quantity</th>
            <th scope="col" class="num">Unit price</th>
            <th scope="col" class="num">Amount</th>
          </tr>
        </thead>
        <tbody>${
      invoice.Lines.map((line) =>
        markup`
            <tr data-sku="${line.Sku}">
              <td>${names.get(line.Sku) ?? line.Sku} <span class="muted">${
          names.has(line.Sku) ? line.Sku : ""
        }</span></td>
              <td class="num">${line.Quantity}</td>
              <td class="num">${money(line.UnitPrice)}</td>
              <td class="num">${money(line.LineTotal)}</td>
            </tr>
          `
      )
    }</tbody>
        <tfoot>${
      invoiceTotals(invoice).map(({ label, amount, due }) =>
        markup`
          <tr${due ? markup` class="due"` : ""}>
            <th scope="row" colspan="3">${label}</th>
            <td class="num">${
          due ? markup`<strong>${money(amount)}</strong>` : money(amount)
        }</td>
          </tr>`
      )
    }</tfoot>
      </table>
      ${
      invoice.Mismatch
        ? markup`
          <p
            class="error">Flagged: the lines add up to ${
          money(
            invoice.Subtotal,
          )
        }, the sale says ${money(invoice.TotalAmount)}.</p>
        `
        : invoice.Subtotal
        ? ""
        : markup`<p class="muted">The sale carried no unit prices: lines are not priced.</p>`
    }
      <p
        class="noprint"><button type="button" data-print hidden>Print</button> <a href="/invoices">All invoices</a></p>
    `,
  );
}
