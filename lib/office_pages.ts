/**
 * The back office's pages, rendered on the server: plain HTML that works
 * without script, with headings, labels and a skip link, and `data-` hooks
 * for `/app.js` to keep the numbers live.
 *
 * @module
 */
import type { InvoiceCreated } from "../contracts/invoice.ts";
import type { StoreStockLevel } from "../contracts/stock.ts";
import type { ErroredMessage, ErrorQueueCount } from "./messaging/mod.ts";
import { type Html, type HtmlValue, markup } from "./html.ts";
import type {
  FeedEntry,
  InvoiceRow,
  InvoiceSearch,
  Summary,
} from "./office_model.ts";

/** The pages in the navigation, by path. */
const PAGES: [path: string, label: string][] = [
  ["/", "Today"],
  ["/invoices", "Invoices"],
  ["/stock", "Stock"],
  ["/errors", "Error queues"],
  ["/live", "Live"],
];

/** Options of {@linkcode layout}. */
export interface LayoutOptions {
  /** The page's title and first heading. */
  title: string;
  /** The navigation entry it belongs to. */
  section: string;
  /**
   * Whether the page follows the shop live (it opens `/events`).
   *
   * @default {false}
   */
  live?: boolean;
}

/** A whole page: head, skip link, navigation, and `body` as its main part. */
export function layout(options: LayoutOptions, body: Html): string {
  const { title, section, live = false } = options;
  return `<!doctype html>\n${markup`
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>${title} · ShoppingApp back office</title>
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
      </head>
      <body${
    live
      ? markup`
          data-live
        `
      : ""
  }>
        <a class="skip" href="#main">Skip to content</a>
        <header>
    <a class="brand" href="/">ShoppingApp back office</a>
    <nav aria-label="Pages"><ul>${
    PAGES.map(([path, label]) =>
      markup`<li><a href="${path}"${
        path === section
          ? markup`
            aria-current="page"
          `
          : ""
      }>${label}</a></li>`
    )
  }</ul></nav>
    ${
    live ? markup`<span id="live-status" class="muted">Connecting…</span>` : ""
  }
        </header>
        <main id="main" tabindex="-1">
    <h1>${title}</h1>
    ${body}
        </main>
        </body>
        </html>
  `}\n`;
}

const money = (amount: string | { toString(): string } | undefined) =>
  amount === undefined ? "" : `Rs.${amount}`;

/** A message above a page's content: done (`notice`) or failed (`error`). */
function message(
  kind: "notice" | "error",
  text: string | undefined,
): HtmlValue {
  if (!text) return undefined;
  return kind === "error"
    ? markup`<p class="error" role="alert">${text}</p>`
    : markup`<p class="notice" role="status">${text}</p>`;
}

/** The Today page: the day's totals, the chart, the stores. */
export function todayPage(summary: Summary): string {
  const max = Math.max(1, ...summary.PerMinute.map((minute) => minute.Sales));
  const width = 100 / summary.PerMinute.length;
  const last = summary.PerMinute.at(-1)?.Sales ?? 0;
  const card = (label: string, key: keyof Summary, value: string) =>
    markup`
      <div>
        <dt>${label}</dt>
        <dd data-summary="${key}" ${
      key === "Revenue"
        ? markup`
            data-money
          `
        : ""
    }>${value}</dd>
      </div>
    `;
  return layout(
    { title: `Today, ${summary.Day}`, section: "/", live: true },
    markup`
      <div data-day="${summary.Day}">
        <dl class="cards" aria-label="Totals">
      ${card("Sales", "Sales", String(summary.Sales))}
      ${card("Revenue", "Revenue", money(summary.Revenue))}
      ${card("Invoices", "Invoices", String(summary.Invoices))}
      ${card("Low stock", "LowStock", String(summary.LowStock))}
      ${card("Below zero", "NegativeStock", String(summary.NegativeStock))}
        </dl>
        <h2 id="chart-title">Sales per minute, last hour</h2>
        <figure>
          <svg id="chart" class="chart" role="img" aria-labelledby="chart-title"
            aria-label="Sales per minute over the last hour; ${last} in the last minute, at most ${max}"
            viewBox="0 0 100 100" preserveAspectRatio="none">${
      summary.PerMinute
        .map((minute, i) => {
          const height = Math.round(minute.Sales / max * 100);
          return markup`
                  <rect x="${(i * width).toFixed(3)}" width="${
            (width * 0.8)
              .toFixed(3)
          }" y="${100 - height}" height="${height}"
                    data-sales="${minute.Sales}">
                    <title>${
            minute.Minute.slice(11)
          }: ${minute.Sales} sales</title>
                  </rect>
                `;
        })
    }</svg>
          <figcaption>Each bar is a minute (UTC), the newest on the right; the tallest is <span id="chart-max">${max}</span> sales.</figcaption>
        </figure>
        <h2>Stores</h2>
        <table id="stores">
          <thead>
            <tr>
              <th scope="col">Store</th>
              <th scope="col" class="num">Sales</th>
              <th scope="col" class="num">Revenue</th>
              <th scope="col" class="num">Invoices</th>
            </tr>
          </thead>
          <tbody>${
      summary.Stores.map((store) =>
        markup`
              <tr>
                <td>${store.StoreId}</td>
                <td class="num">${store.Sales}</td>
                <td class="num">${money(store.Revenue)}</td>
                <td class="num">${store.Invoices}</td>
              </tr>
            `
      )
    }</tbody>
        </table>
      </div>
    `,
  );
}

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
                <td><time datetime="${row.CreatedAt}">${row.CreatedAt}</time></td>
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

/** One invoice, as a customer would read it; it prints on its own. */
export function invoicePage(invoice: InvoiceCreated): string {
  const till = invoice.TillId === undefined ? "" : ` (till ${invoice.TillId})`;
  const total = (label: string, amount: HtmlValue) =>
    markup`
      <tr>
        <th scope="row" colspan="3">${label}</th>
        <td class="num">${amount}</td>
      </tr>
    `;
  return layout(
    { title: `Invoice ${invoice.InvoiceNumber}`, section: "/invoices" },
    markup`
      <p>Store ${invoice.StoreId}, Sale #${invoice.SaleId}${till}, <time datetime="${invoice.CreatedAt}">${invoice.CreatedAt}</time></p>
      <table id="invoice">
        <thead>
          <tr>
            <th scope="col">SKU</th>
            <th scope="col" class="num">Quantity</th>
            <th scope="col" class="num">Unit price</th>
            <th scope="col" class="num">Line total</th>
          </tr>
        </thead>
        <tbody>${
      invoice.Lines.map((line) =>
        markup`
            <tr>
              <td>${line.Sku}</td>
              <td class="num">${line.Quantity}</td>
              <td class="num">${money(line.UnitPrice)}</td>
              <td class="num">${money(line.LineTotal)}</td>
            </tr>
          `
      )
    }</tbody>
        <tfoot>
      ${invoice.Subtotal ? total("Subtotal", money(invoice.Subtotal)) : ""}
      ${total("Sale total", money(invoice.TotalAmount))}
      ${
      invoice.Tax ? total(`Tax at ${invoice.TaxRate}`, money(invoice.Tax)) : ""
    }
      ${total("Total due", markup`<strong>${money(invoice.Total)}</strong>`)}
        </tfoot>
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

/** What the Stock page's forms were given, to show again with an error. */
export interface AdjustForm {
  mode?: string;
  store?: string;
  sku?: string;
  quantity?: string;
  threshold?: string;
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
                <td>${row.UpdatedAt}</td>
              </tr>
            `
      )
    }</tbody>
      </table>
      ${rows.length === 0 ? markup`<p>No stock recorded yet.</p>` : ""}
    `,
  );
}

/** The error queues and their counts. */
export function errorQueuesPage(
  counts: ErrorQueueCount[],
  options: { error?: string } = {},
): string {
  return layout(
    { title: "Error queues", section: "/errors" },
    markup`
      ${message("error", options.error)}
      <p>Messages a service could not handle are set aside here, with the reason. Replay puts one back where it failed; purge drops it.</p>
      <table id="error-queues">
        <thead>
          <tr>
            <th scope="col">Error queue</th>
            <th scope="col" class="num">Messages</th>
          </tr>
        </thead>
        <tbody>${
      counts.map(({ Queue, Messages }) =>
        markup`
            <tr>
              <td>${
          Messages === undefined
            ? Queue
            : markup`<a href="/errors/${
              encodeURIComponent(Queue)
            }">${Queue}</a>`
        }</td>
              <td class="num">${Messages ?? "not declared yet"}</td>
            </tr>
          `
      )
    }</tbody>
      </table>
    `,
  );
}

/** One error queue's messages, with replay and purge. */
export function errorQueuePage(
  queue: string,
  messages: ErroredMessage[],
  options: { done?: string; more: boolean },
): string {
  const path = `/errors/${encodeURIComponent(queue)}`;
  // A button to the confirmation page: nothing happens before the confirm.
  const act = (action: "replay" | "purge", id?: string) =>
    markup`<form class="act" method="get" action="${path}/confirm"><input type="hidden" name="action" value="${action}">${
      id === undefined
        ? ""
        : markup`<input type="hidden" name="id" value="${id}">`
    }<button type="submit">${action === "replay" ? "Replay" : "Purge"}${
      id === undefined ? " all" : markup`<span class="sr-only"> ${id}</span>`
    }…</button></form>`;
  return layout(
    { title: `Error queue ${queue}`, section: "/errors" },
    markup`${message("notice", options.done)}
<p><a href="/errors">All error queues</a></p>
${
      messages.length === 0
        ? markup`<p>This error queue is empty.</p>`
        : markup`
        <p>${messages.length}${options.more ? "+" : ""} message(s). ${
          act(
            "replay",
          )
        } · ${act("purge")}</p>
        <table id="messages">
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col">Failed at</th>
              <th scope="col">Route</th>
              <th scope="col" class="num">Attempts</th>
              <th scope="col">Reason</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>${
          messages.map((m) =>
            markup`
              <tr>
                <td>${m.MessageId}<details><summary>Body, ${m.Bytes} bytes</summary><pre>${m.Body}</pre></details></td>
                <td>${m.FailedAt}</td>
                <td>${m.Route}</td>
                <td class="num">${m.Attempts}</td>
                <td>${m.Reason}</td>
                <td>${
              m.MessageId === "(no id)"
                ? ""
                : markup`${act("replay", m.MessageId)} ${
                  act("purge", m.MessageId)
                }`
            }</td>
              </tr>
            `
          )
        }</tbody>
        </table>
      `
    }`,
  );
}

/** The confirmation step before a replay or a purge. */
export function confirmPage(
  queue: string,
  options: { action: "replay" | "purge"; id?: string; count: number },
): string {
  const { action, id, count } = options;
  const what = id === undefined
    ? `all ${count} message(s) of ${queue}`
    : `message ${id} of ${queue}`;
  const verb = action === "replay" ? "Replay" : "Purge";
  return layout(
    { title: `${verb} ${what}?`, section: "/errors" },
    markup`<p>${
      action === "replay"
        ? "Each message goes back to the queue it failed in, and leaves the error queue once the broker has taken it."
        : "Each message is dropped for good."
    }</p>
<form method="post" action="/errors/${encodeURIComponent(queue)}/${action}">
${id === undefined ? "" : markup`<input type="hidden" name="id" value="${id}">`}
<button type="submit">Yes, ${verb.toLowerCase()} ${what}</button>
<a href="/errors/${encodeURIComponent(queue)}">Cancel</a>
</form>`,
  );
}

/** The Live page: the event feed, newest first. */
export function livePage(feed: FeedEntry[]): string {
  return layout(
    { title: "Live", section: "/live", live: true },
    markup`<p>Every event the back office takes, as it comes (newest first), as <code>deno task watch</code> shows it.</p>
<ol id="feed" class="feed" aria-label="Events">${
      feed.map((entry) =>
        markup`
          <li
            data-id="${entry.Id}"><time datetime="${entry.At}">${
          entry.At.slice(
            11,
            19,
          )
        } </time><span class="key">${entry.RoutingKey}</span>  ${entry.Text}</li>
        `
      )
    }</ol>`,
  );
}

/** A page that says what is wrong, for 404 and 400. */
export function problemPage(title: string, text: string): string {
  return layout(
    { title, section: "" },
    markup`
      <p class="error" role="alert">${text}</p>
      <p><a href="/">Back to Today</a></p>
    `,
  );
}
