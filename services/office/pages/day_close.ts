/**
 * The Day close page: each till's close, as the till stated it, and each
 * service's answer (reconciled, or the sale ids it lacks); the tills still
 * open; the gaps seen before any close; the sales no close covers. And the
 * notice of open discrepancies the Today page shows first.
 *
 * @module
 */
import { ANSWERING, countOf, formatRanges } from "../../../contracts/till.ts";
import type { Gap } from "../../../lib/reconcile/mod.ts";
import { type HtmlValue, markup } from "../html.ts";
import { type DayClose, type OpenDay, type Untilled } from "../closes.ts";
import { layout, money, time } from "./layout.ts";

/** What the Day close page shows. */
export interface DayClosePage {
  closes: DayClose[];
  open: OpenDay[];
  gaps: Gap[];
  untilled: Untilled[];
}

/** A service's answer to a close, as a cell. */
function answerCell(close: DayClose, service: string): HtmlValue {
  const answer = close.Answers.find((found) => found.Service === service);
  if (!answer) {
    return markup`<td data-service="${service}" data-state="waiting" class="muted">waiting</td>`;
  }
  if (answer.State === "reconciled") {
    return markup`<td data-service="${service}" data-state="reconciled">reconciled</td>`;
  }
  const missing = countOf(answer.Missing);
  return markup`<td data-service="${service}" data-state="discrepancy" class="bad">${
    missing > 0
      ? `lacks ${missing}: ${formatRanges(answer.Missing)}`
      : `has ${money(answer.SeenAmount)}, not ${money(close.TotalAmount)}`
  }</td>`;
}

/** The Day close page. */
export function dayClosePage(view: DayClosePage): string {
  const { closes, open, gaps, untilled } = view;
  return layout(
    { title: "Day close", section: "/close" },
    markup`
      <p>Each till closes its business day with <code>deno task pos -- close</code>
      (or <kbd>c</kbd> at the till); Billing, Inventory and the back office
      each check the close against what they have. Sales a service lacks are
      sent again with <code>deno task pos -- resend --missing</code>.</p>
      <h2>Closes</h2>
      ${
      closes.length === 0
        ? markup`<p class="muted">No till has closed a day yet.</p>`
        : markup`
      <table id="closes">
        <thead>
          <tr>
            <th scope="col">Store</th>
            <th scope="col">Till</th>
            <th scope="col">Day</th>
            <th scope="col" class="num">Sales</th>
            <th scope="col" class="num">Sum at the till</th>
            ${
          ANSWERING.map((service) => markup`<th scope="col">${service}</th>`)
        }
          </tr>
        </thead>
        <tbody>${
          closes.map((close) =>
            markup`
          <tr data-close="${close.Key}">
            <td>${close.StoreId}</td>
            <td>${close.TillId}</td>
            <td><time datetime="${close.ClosedAt}">${close.BusinessDay}</time></td>
            <td class="num">${close.Count}</td>
            <td class="num">${money(close.TotalAmount)}</td>
            ${ANSWERING.map((service) => answerCell(close, service))}
          </tr>`
          )
        }</tbody>
      </table>`
    }
      <h2>Open</h2>
      ${
      open.length === 0
        ? markup`<p class="muted">No till has sold since its last close.</p>`
        : markup`
      <table id="open-days">
        <thead><tr><th scope="col">Store</th><th scope="col">Till</th>
          <th scope="col" class="num">Sales since its last close</th>
          <th scope="col" class="num">Last sale</th></tr></thead>
        <tbody>${
          open.map((day) =>
            markup`<tr data-till="${day.TillId}"><td>${day.StoreId}</td><td>${day.TillId}</td>
              <td class="num">${day.Sales}</td><td class="num">#${day.LastSaleId}</td></tr>`
          )
        }</tbody>
      </table>`
    }
      <h2>Gaps</h2>
      ${
      gaps.length === 0
        ? markup`<p class="muted">No sale is missing between two a till sent.</p>`
        : markup`
      <ul id="gaps">${
          gaps.map((gap) =>
            markup`<li data-gap="${gap.tillId}:${gap.saleId}" class="bad">Sale #${gap.saleId} of till ${gap.tillId} (${gap.storeId}) has not come, though the till's next one came at ${
              time(gap.since)
            }.</li>`
          )
        }</ul>`
    }
      <h2>No day close</h2>
      ${
      untilled.length === 0
        ? markup`<p class="muted">Every sale came from a till that closes its day.</p>`
        : markup`
      <p>Sales with no till (the article's .NET POS sends none), which no close covers:</p>
      <table id="untilled">
        <thead><tr><th scope="col">Day</th><th scope="col">Store</th>
          <th scope="col" class="num">Sales</th></tr></thead>
        <tbody>${
          untilled.map((row) =>
            markup`<tr><td>${row.Day}</td><td>${row.StoreId}</td><td class="num">${row.Sales}</td></tr>`
          )
        }</tbody>
      </table>`
    }
    `,
  );
}

/** The open discrepancies, first on the Today page; nothing when there are none. */
export function discrepancyNotice(discrepancies: DayClose[]): HtmlValue {
  if (discrepancies.length === 0) return undefined;
  return markup`
    <section id="discrepancies" class="error" role="alert" aria-labelledby="discrepancies-title">
      <h2 id="discrepancies-title">Sales missing after a day close</h2>
      <ul>${
    discrepancies.map((close) =>
      markup`<li data-close="${close.Key}">Till ${close.TillId} of ${close.StoreId}, day ${close.BusinessDay}: ${
        close.Answers.filter((answer) => answer.State === "discrepancy").map(
          (answer) =>
            countOf(answer.Missing) > 0
              ? `${answer.Service} lacks ${formatRanges(answer.Missing)}`
              : `${answer.Service} has ${money(answer.SeenAmount)}, not ${
                money(close.TotalAmount)
              }`,
        ).join("; ")
      }.</li>`
    )
  }</ul>
      <p><a href="/close">Day close</a> · send them again with <code>deno task pos -- resend --missing</code></p>
    </section>`;
}
