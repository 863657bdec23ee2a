/**
 * Tools for an error queue: see what failed and why, put messages back on
 * their original route (the queue they failed in), or drop them. A message leaves the error queue only
 * after the broker confirmed its replay; the rest are returned untouched.
 *
 *     deno task errors -- list   --queue billing_queue_error
 *     deno task errors -- show   --queue billing_queue_error [--id <message-id>]
 *     deno task errors -- replay --queue billing_queue_error [--id <message-id>]
 *     deno task errors -- purge  --queue billing_queue_error [--id <message-id>]
 *
 * @module
 */
import type { GetMessage } from "amqplib";
import { connectBroker } from "../lib/connection.ts";
import { UsageError } from "../lib/errors.ts";
import { ERROR_HEADERS } from "../lib/failure_policy.ts";
import { runMain } from "../lib/main.ts";
import { parseCommandLine, type Program } from "../lib/program.ts";
import { Publisher } from "../lib/publisher.ts";

const NAME = "errors";

/** The tool's command line: it reaches the broker and nothing else. */
export const program: Program = {
  name: NAME,
  script: "tools/errors.ts",
  settings: ["url"],
  options: { queue: { type: "string" }, id: { type: "string" } },
  help: `
Error queues: see, replay or drop what a consumer set aside.

Usage:
  deno task errors -- list   --queue <q>            one line per message
  deno task errors -- show   --queue <q> [--id <m>] headers and body
  deno task errors -- replay --queue <q> [--id <m>] back to the original route
  deno task errors -- purge  --queue <q> [--id <m>] drop

Options:
  --queue <q>        the error queue, e.g. billing_queue_error
  --id <m>           only the message with this message id`,
};

const COMMANDS = ["list", "show", "replay", "purge"];

function header(message: GetMessage, name: string): string {
  const value = message.properties.headers?.[name];
  return value === undefined ? "" : String(value);
}

async function main(): Promise<void> {
  const { values, positionals, config } = parseCommandLine(program);
  const [command] = positionals;
  if (!COMMANDS.includes(command)) {
    throw new UsageError(
      `Unknown command "${command ?? ""}": use ${COMMANDS.join(", ")}`,
    );
  }
  const queue = values.queue as string | undefined;
  if (!queue?.endsWith("_error")) {
    throw new UsageError(
      `Invalid queue "${queue ?? ""}": name an error queue (…_error)`,
    );
  }
  const id = values.id as string | undefined;

  const connection = await connectBroker({ url: config.url, name: NAME });
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  const publisher = await Publisher.open(connection);
  let taken = 0;
  try {
    await channel.checkQueue(queue);
    // Taken one by one, unacked: what is not dropped or replayed goes back.
    const messages: GetMessage[] = [];
    for (let message; (message = await channel.get(queue, { noAck: false }));) {
      messages.push(message);
    }
    const chosen = messages.filter((message) =>
      id === undefined || message.properties.messageId === id
    );
    if (command === "list") {
      for (const message of chosen) {
        console.log(
          [
            message.properties.messageId ?? "(no id)",
            header(message, "x-failed-at"),
            `${header(message, "x-original-exchange")}/${
              header(message, "x-original-routing-key")
            }`,
            `attempts ${header(message, "x-attempts") || "0"}`,
            header(message, "x-error-reason"),
          ].join("  "),
        );
      }
      console.log(`${chosen.length} message(s) in "${queue}".`);
    } else if (command === "show") {
      for (const message of chosen) {
        console.log(`Message ${message.properties.messageId ?? "(no id)"}`);
        for (
          const [name, value] of Object.entries(
            message.properties.headers ?? {},
          )
        ) {
          console.log(`  ${name}: ${String(value)}`);
        }
        console.log(`  body (${message.content.byteLength} bytes):`);
        console.log(`  ${message.content.toString("utf8").slice(0, 4096)}`);
      }
    } else if (command === "replay") {
      for (const message of chosen) {
        const headers = { ...message.properties.headers };
        for (const name of ERROR_HEADERS) delete headers[name];
        headers["x-replayed-at"] = new Date().toISOString();
        // Straight back to the queue it failed in, when known: the other
        // consumers of its exchange handled it already.
        const queue = header(message, "x-original-queue");
        await publisher.publish({
          exchange: queue ? "" : header(message, "x-original-exchange"),
          routingKey: queue || header(message, "x-original-routing-key"),
          body: message.content,
          messageId: message.properties.messageId ?? crypto.randomUUID(),
          contentType: message.properties.contentType,
          headers,
        });
        // Confirmed on its route: only now does it leave the error queue.
        channel.ack(message);
        taken++;
      }
      console.log(`Replayed ${taken} message(s) from "${queue}".`);
    } else {
      for (const message of chosen) {
        channel.ack(message);
        taken++;
      }
      console.log(`Dropped ${taken} message(s) from "${queue}".`);
    }
    const kept = messages.filter((message) =>
      !chosen.includes(message) || command === "list" || command === "show"
    );
    for (const message of kept) channel.nack(message, false, true);
  } finally {
    await publisher.close();
    await channel.close().catch(() => {});
    await connection.close().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
