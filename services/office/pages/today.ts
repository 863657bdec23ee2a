/**
 * The Today page (the day's totals, the chart, the stores) and the Live page.
 *
 * @module
 */
import { markup } from "../html.ts";
import type { FeedEntry, Summary } from "../views.ts";
import { layout, money, time } from "./layout.ts";
import { feedLine } from "./feed_line.ts";
import type { DayClose } from "../closes.ts";
import { discrepancyNotice } from "./day_close.ts";

/**
 * The Today page: sales missing after a day close first, then the day's
 * totals, the chart, the stores.
 */
export function todayPage(
  summary: Summary,
  discrepancies: DayClose[] = [],
): string {
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
      ${discrepancyNotice(discrepancies)}
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

/** The Live page: the event feed, newest first, a readable line each. */
export function livePage(feed: FeedEntry[]): string {
  return layout(
    { title: "Live", section: "/live", live: true },
    markup`<p>Every event the back office takes, as it comes (newest first); each line opens to its JSON, as <code>deno task watch</code> shows it.</p>
<ol id="feed" class="feed" aria-label="Events">${
      feed.map((entry) =>
        markup`
          <li data-id="${entry.Id}" data-key="${entry.RoutingKey}"><details><summary>${
          time(entry.At)
        } <span class="line">${
          feedLine(entry)
        }</span></summary><pre>${entry.Text}</pre></details></li>
        `
      )
    }</ol>`,
  );
}
