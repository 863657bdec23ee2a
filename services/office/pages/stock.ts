/**
 * The Stock page: every store's levels, and the form that sends Inventory a
 * delivery or a count.
 *
 * @module
 */
import type { StoreStockLevel } from "../../../contracts/stock.ts";
import { type HtmlValue, markup } from "../html.ts";
import { layout, message, time } from "./layout.ts";

/** What the Stock page's forms were given, to show again with an error. */
export interface AdjustForm {
  mode?: string;
  store?: string;
  sku?: string;
  quantity?: string;
  threshold?: string;
  /** `on` when the SKU is meant to be new to the store. */
  new?: string;
}

/** Options of {@linkcode stockPage}. */
export interface StockPageOptions {
  /** Only this store's. */
  store?: string;
  /** The store the forms start with. */
  defaultStore: string;
  /** An adjustment just sent, and what it made once Inventory applied it. */
  sent?: {
    id: string;
    applied?: { StoreId: string; Sku: string; Quantity: number };
  };
  /** What went wrong with the last form. */
  error?: string;
  /** What the last form held, when it is shown again. */
  form?: AdjustForm;
}

/** What became of an adjustment the page sent. */
function sentNotice(sent: StockPageOptions["sent"]): HtmlValue {
  if (!sent) return undefined;
  const { id, applied } = sent;
  return markup`<p class="notice" role="status" data-adjustment="${id}">${
    applied
      ? `Applied by Inventory: ${applied.Sku} in ${applied.StoreId} is now ${applied.Quantity}.`
      : `Sent to Inventory as adjustment ${id}; this page shows the new level once Inventory has applied it.`
  }</p>`;
}

/** The Stock page: levels with their flags; restock and count forms. */
export function stockPage(
  rows: StoreStockLevel[],
  options: StockPageOptions,
): string {
  const { form = {}, defaultStore } = options;
  const skus = [...new Set(rows.map((row) => row.Sku))].sort();
  const adjustForm = (mode: "add" | "set", legend: string, hint: string) => {
    const mine = form.mode === mode;
    const id = (name: string) => `${mode}-${name}`;
    return markup`
      <form class="inline" method="post" action="/stock/adjust"
        aria-labelledby="${id("title")}">
        <h3 id="${id("title")}" class="muted"
          style="width:100%;margin:0">${legend}: ${hint}</h3>
        <input type="hidden" name="mode" value="${mode}">
        <label
          for="${id("store")}">Store<input id="${
      id(
        "store",
      )
    }" name="store" required value="${
      mine ? form.store : defaultStore
    }"></label>
        <label
          for="${id("sku")}">SKU<input id="${
      id(
        "sku",
      )
    }" name="sku" required list="skus" value="${mine ? form.sku : ""}"></label>
        <label
          for="${id("quantity")}">Quantity<input id="${
      id(
        "quantity",
      )
    }" name="quantity" type="number" step="1" required${
      mode === "add"
        ? markup`
              min="1"
            `
        : ""
    } value="${mine ? form.quantity : ""}"></label>
        <label
          for="${id("threshold")}">Threshold (optional)<input id="${
      id(
        "threshold",
      )
    }" name="threshold" type="number" step="1" min="0" value="${
      mine ? form.threshold : ""
    }"></label>
        <label for="${id("new")}"><input id="${
      id("new")
    }" name="new" type="checkbox"${
      mine && form.new === "on"
        ? markup`
              checked
            `
        : ""
    }> New to this store</label>
        <button type="submit">${
      mode === "add" ? "Restock" : "Set count"
    }</button>
      </form>
    `;
  };
  return layout(
    { title: "Stock", section: "/stock", live: true },
    markup`
      ${message("error", options.error)}
      ${sentNotice(options.sent)}
      <h2>Change stock</h2>
      <datalist id="skus">${
      skus.map((sku) => markup`<option value="${sku}">`)
    }</datalist>
      ${adjustForm("add", "Restock", "a delivery adds to the stock")}
      ${adjustForm("set", "Count", "the stock is now the quantity counted")}
      <h2>Levels</h2>
      <form class="inline" method="get" action="/stock">
        <label
          for="filter-store">Only store<input id="filter-store" name="store" value="${
      options
        .store ?? ""
    }"></label>
        <button type="submit">Show</button>
      </form>
      <table id="stock">
        <thead>
          <tr>
            <th scope="col">Store</th>
            <th scope="col">SKU</th>
            <th scope="col" class="num">Quantity</th>
            <th scope="col" class="num">Threshold</th>
            <th scope="col">Flags</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody${
      options.store
        ? markup`
            data-store="${options.store}"
          `
        : ""
    }>${
      rows.map((row) =>
        markup`
              <tr data-store="${row.StoreId}" data-sku="${row.Sku}">
                <td>${row.StoreId}</td>
                <td>${row.Sku}</td>
                <td class="num">${row.Quantity}</td>
                <td class="num">${row.Threshold ?? ""}</td>
                <td>${
          row.Quantity < 0
            ? markup`<span class="flag negative">NEGATIVE</span>`
            : row.Low
            ? markup`<span class="flag low">LOW</span>`
            : ""
        }</td>
                <td>${time(row.UpdatedAt)}</td>
              </tr>
            `
      )
    }</tbody>
      </table>
      ${rows.length === 0 ? markup`<p>No stock recorded yet.</p>` : ""}
    `,
  );
}
