/**
 * The error queues' pages: their counts, one queue's messages, and the
 * confirmation before a replay or purge.
 *
 * @module
 */
import type {
  ErroredMessage,
  ErrorQueueCount,
} from "../../../lib/messaging/mod.ts";
import { markup } from "../html.ts";
import { layout, message } from "./layout.ts";

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
