/**
 * The Audit page: who signed in, adjusted stock, replayed or purged error
 * queues and changed accounts, when, and from where; newest first.
 *
 * @module
 */
import type { AuditEntry } from "../accounts.ts";
import { markup } from "../html.ts";
import { layout, time } from "./layout.ts";

/** The latest entries of the audit trail. */
export function auditPage(entries: AuditEntry[]): string {
  return layout(
    { title: "Audit", section: "/audit" },
    markup`
      <table>
        <thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th>
          <th scope="col">What</th><th scope="col">Detail</th>
          <th scope="col">From</th></tr></thead>
        <tbody>${
      entries.map((entry) =>
        markup`<tr><td>${
          time(entry.At)
        }</td><td>${entry.Who}</td><td>${entry.Action}</td><td>${entry.Detail}</td><td>${entry.From}</td></tr>`
      )
    }</tbody>
      </table>
    `,
  );
}
