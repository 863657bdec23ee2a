/**
 * The back office's style sheet and its one small script, served from
 * memory: no CDN, no build step, nothing fetched at run time. Pages work
 * without the script; with it, they follow the shop live (Server-Sent
 * Events from `/events`).
 *
 * @module
 */

/** `/app.css`. */
export const STYLE = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de;
  --accent: #0b5cad; --low: #8a5a00; --low-bg: #fff4d6; --neg: #a40e26; --neg-bg: #ffe3e6;
  font-family: system-ui, sans-serif; color: var(--ink); }
body { margin: 0; line-height: 1.45; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
header { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: center;
  padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header .brand { font-weight: 700; text-decoration: none; color: var(--ink); }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; color: var(--ink); }
main { padding: 1rem 1.5rem 3rem; max-width: 72rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .75rem; margin: 0; }
.cards div { border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; }
.cards dt { color: var(--muted); font-size: .9rem; }
.cards dd { margin: .25rem 0 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.num, th.num { text-align: right; }
.flag { display: inline-block; padding: 0 .4rem; border-radius: 4px; font-size: .8rem; font-weight: 700; }
.flag.low { color: var(--low); background: var(--low-bg); }
.flag.negative { color: var(--neg); background: var(--neg-bg); }
form.inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; margin: .5rem 0 1rem; }
form.inline label { display: flex; flex-direction: column; font-size: .9rem; color: var(--muted); }
input, select, button { font: inherit; padding: .3rem .5rem; }
button { cursor: pointer; }
form.act { display: inline; }
.notice { border-left: 4px solid var(--accent); background: #eef5fc; padding: .5rem .75rem; }
.error { border-left: 4px solid var(--neg); background: var(--neg-bg); padding: .5rem .75rem; }
.bad { color: var(--neg); }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: .9rem; }
svg.chart { width: 100%; height: 10rem; border-bottom: 1px solid var(--line); }
svg.chart rect { fill: var(--accent); }
ol.feed { list-style: none; padding: 0; font-size: .9rem; }
ol.feed li { border-bottom: 1px solid var(--line); padding: .25rem 0; }
ol.feed summary { cursor: pointer; }
ol.feed pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0 .5rem 1rem; }
tr.due th, tr.due td { border-top: 2px solid var(--line); }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
@media print { header, .noprint, .skip { display: none; } main { padding: 0; } }
`;

/** `/app.js`: live numbers, chart, stock and feed; the print button. */
export const SCRIPT = `"use strict";
(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  for (const button of $$("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  const live = $("[data-live]");
  if (!live || !("EventSource" in window)) return;
  // Money and times as the server prints them: MONEY and TIME_ZONE.
  const shown = document.body.dataset;
  const grouping = new Intl.NumberFormat(shown.locale || "en-US");
  const mark = (grouping.formatToParts(1.5).find((part) => part.type === "decimal") || { value: "." }).value;
  const money = (amount) => {
    const digits = /^(-?)(\\d+)(?:\\.(\\d+))?$/.exec(String(amount));
    return digits
      ? digits[1] + shown.symbol + " " + grouping.format(BigInt(digits[2])) + (digits[3] === undefined ? "" : mark + digits[3])
      : shown.symbol + " " + amount;
  };
  const clock = new Intl.DateTimeFormat("en-US", {
    timeZone: shown.zone || "UTC", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
  });
  const when = (instant) => {
    const parts = {};
    for (const part of clock.formatToParts(new Date(instant))) parts[part.type] = part.value;
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute + ":" + parts.second + " " + parts.timeZoneName;
  };
  // What the page shows is as of its rendering: the stream starts after the
  // last feed line it has, and the stock is read again once it is open.
  const feed = $("#feed");
  const after = feed && feed.firstElementChild ? feed.firstElementChild.dataset.id : "";
  const source = new EventSource("/events" + (after ? "?after=" + encodeURIComponent(after) : ""));
  const status = $("#live-status");
  source.addEventListener("open", () => {
    if (status) status.textContent = "Up to date";
    catchUp();
  });
  source.addEventListener("error", () => { if (status) status.textContent = "Reconnecting…"; });

  const cell = (text, className) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };

  source.addEventListener("summary", (event) => {
    const summary = JSON.parse(event.data);
    const today = $("[data-day]");
    if (!today || today.dataset.day !== summary.Day) return;
    for (const element of $$("[data-summary]")) {
      const value = summary[element.dataset.summary];
      element.textContent = element.dataset.money === undefined ? String(value) : money(value);
    }
    const stores = $("#stores tbody");
    if (stores) {
      stores.replaceChildren(...summary.Stores.map((store) => {
        const row = document.createElement("tr");
        row.append(cell(store.StoreId), cell(String(store.Sales), "num"),
          cell(money(store.Revenue), "num"), cell(String(store.Invoices), "num"));
        return row;
      }));
    }
    const chart = $("#chart");
    if (chart) {
      const max = Math.max(1, ...summary.PerMinute.map((m) => m.Sales));
      const bars = $$("rect", chart);
      summary.PerMinute.forEach((minute, i) => {
        const bar = bars[i];
        if (!bar) return;
        const height = Math.round((minute.Sales / max) * 100);
        bar.setAttribute("y", String(100 - height));
        bar.setAttribute("height", String(height));
        bar.dataset.sales = String(minute.Sales);
        bar.firstElementChild.textContent = minute.Minute.slice(11) + ": " + minute.Sales + " sales";
      });
      const last = summary.PerMinute[summary.PerMinute.length - 1];
      chart.setAttribute("aria-label", "Sales per minute over the last hour; "
        + (last ? last.Sales : 0) + " in the last minute, at most " + max);
      $("#chart-max").textContent = String(max);
    }
    if (status) status.textContent = "Up to date, " + when(new Date()).slice(11);
  });

  const showLevel = (table, storeId, level, at) => {
    const selector = 'tr[data-store="' + CSS.escape(storeId) + '"][data-sku="' + CSS.escape(level.Sku) + '"]';
    let row = $(selector, table);
    const filter = table.dataset.store;
    if (!row && filter && filter !== storeId) return;
    if (!row) {
      row = document.createElement("tr");
      row.dataset.store = storeId;
      row.dataset.sku = level.Sku;
      row.append(cell(storeId), cell(level.Sku), cell("", "num"), cell("", "num"), cell(""), cell(""));
      table.append(row);
    }
    const cells = row.children;
    cells[2].textContent = String(level.Quantity);
    cells[3].textContent = level.Threshold === null ? "" : String(level.Threshold);
    const flags = [];
    if (level.Quantity < 0) flags.push(["negative", "NEGATIVE"]);
    else if (level.Low) flags.push(["low", "LOW"]);
    cells[4].replaceChildren(...flags.map(([name, text]) => {
      const span = document.createElement("span");
      span.className = "flag " + name;
      span.textContent = text;
      return span;
    }));
    cells[5].textContent = when(at);
  };
  const pending = $("[data-adjustment]");
  const showApplied = (applied) => {
    pending.textContent = "Applied by Inventory: " + applied.Sku + " in " + applied.StoreId + " is now " + applied.Quantity + ".";
  };

  source.addEventListener("stock", (event) => {
    const change = JSON.parse(event.data);
    const table = $("#stock tbody");
    if (!table) return;
    for (const level of change.Levels) showLevel(table, change.StoreId, level, change.At);
    if (pending && change.AdjustmentId === pending.dataset.adjustment) {
      showApplied({ StoreId: change.StoreId, ...change.Levels[0] });
    }
  });

  async function catchUp() {
    const table = $("#stock tbody");
    if (!table) return;
    const store = table.dataset.store;
    const levels = await (await fetch("/api/stock" + (store ? "?store=" + encodeURIComponent(store) : ""))).json();
    for (const level of levels) showLevel(table, level.StoreId, level, level.UpdatedAt);
    if (pending) {
      const response = await fetch("/api/adjustments/" + encodeURIComponent(pending.dataset.adjustment));
      if (response.ok) showApplied(await response.json());
    }
  }

  source.addEventListener("feed", (event) => {
    const entry = JSON.parse(event.data);
    if (!feed) return;
    const item = document.createElement("li");
    item.dataset.id = String(entry.Id);
    item.dataset.key = entry.RoutingKey;
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const time = document.createElement("time");
    time.dateTime = entry.At;
    time.textContent = entry.Time;
    const line = document.createElement("span");
    line.className = "line";
    line.textContent = entry.Line;
    summary.append(time, " ", line);
    const json = document.createElement("pre");
    json.textContent = entry.Text;
    details.append(summary, json);
    item.append(details);
    feed.prepend(item);
    while (feed.children.length > 200) feed.lastElementChild.remove();
  });

  addEventListener("pagehide", () => source.close());
})();
`;
