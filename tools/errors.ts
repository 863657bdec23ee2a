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
import { printable } from "../lib/printable.ts";
import { wholeNumber } from "../lib/whole_number.ts";
import { parseCommandLine, type Program } from "../lib/program.ts";
import { Publisher } from "../lib/publisher.ts";
import { errorQueueOf } from "../lib/topology.ts";
import { CONSUMER_QUEUES } from "../contracts/sale.ts";

const NAME = "errors";

/** The tool's command line: it reaches the broker and nothing else. */
export const program: Program = {
  name: NAME,
  script: "tools/errors.ts",
  settings: ["url"],
  options: {
    queue: { type: "string" },
    id: { type: "string" },
    limit: { type: "string" },
  },
  help: `
Error queues: see, replay or drop what a consumer set aside.

Usage:
  deno task errors -- list                          each error queue, its count
  deno task errors -- list   --queue <q>            one line per message
  deno task errors -- show   --queue <q> [--id <m>] headers and body
  deno task errors -- replay --queue <q> [--id <m>] back to the original route
  deno task errors -- purge  --queue <q> [--id <m>] drop

Options:
  --queue <q>        the error queue, e.g. billing_queue_error
  --id <m>           only the message with this message id
  --limit <n>        at most n messages`,
};

const COMMANDS = ["list", "show", "replay", "purge"];

/** The error queue of each consuming service. */
const ERROR_QUEUES = CONSUMER_QUEUES.map(errorQueueOf);

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
  if (queue === undefined && command === "list") {
    return await listQueues(config.url);
  }
  if (!queue?.endsWith("_error")) {
    throw new UsageError(
      `Invalid queue "${
        printable(queue ?? "")
      }": name an error queue (…_error)`,
    );
  }
  const id = values.id as string | undefined;
  const limit = values.limit === undefined
    ? Infinity
    : wholeNumber("limit", values.limit as string);

  const connection = await connectBroker({ url: config.url, name: NAME });
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  const publisher = await Publisher.open(connection);
  let taken = 0;
  try {
    await channel.checkQueue(queue);
    // Taken one by one, unacked, and let go of once seen: memory stays flat
    // however many there are. What is not dropped or replayed goes back.
    for (
      let message;
      taken < limit && (message = await channel.get(queue, { noAck: false }));
    ) {
      if (id !== undefined && message.properties.messageId !== id) continue;
      taken++;
      if (command === "list") {
        printLine(message);
      } else if (command === "show") {
        printMessage(message);
      } else if (command === "replay") {
        await replay(publisher, message);
        // Confirmed on its route: only now does it leave the error queue.
        channel.ack(message);
      } else {
        channel.ack(message);
      }
    }
    if (command === "list") {
      console.log(`${taken} message(s) in "${queue}".`);
    } else if (command === "replay") {
      console.log(`Replayed ${taken} message(s) from "${queue}".`);
    } else if (command === "purge") {
      console.log(`Dropped ${taken} message(s) from "${queue}".`);
    }
    channel.nackAll(true);
  } finally {
    await publisher.close();
    await channel.close().catch(() => {});
    await connection.close().catch(() => {});
  }
}

function printLine(message: GetMessage): void {
  console.log(
    [
      message.properties.messageId ?? "(no id)",
      header(message, "x-failed-at"),
      `${header(message, "x-original-exchange")}/${
        header(message, "x-original-routing-key")
      }`,
      `attempts ${header(message, "x-attempts") || "0"}`,
      header(message, "x-error-reason"),
    ].map((field) => printable(String(field))).join("  "),
  );
}

function printMessage(message: GetMessage): void {
  console.log(
    `Message ${printable(message.properties.messageId ?? "(no id)")}`,
  );
  for (
    const [name, value] of Object.entries(message.properties.headers ?? {})
  ) {
    console.log(`  ${printable(name)}: ${printable(String(value))}`);
  }
  console.log(`  body (${message.content.byteLength} bytes):`);
  console.log(
    `  ${printable(message.content.toString("utf8").slice(0, 4096))}`,
  );
}

async function replay(
  publisher: Publisher,
  message: GetMessage,
): Promise<void> {
  const headers = { ...message.properties.headers };
  for (const name of ERROR_HEADERS) delete headers[name];
  headers["x-replayed-at"] = new Date().toISOString();
  // Straight back to the queue it failed in, when known: the other
  // consumers of its exchange handled it already.
  // A quorum queue dead-letters past its delivery limit: x-first-death-queue.
  const queue = header(message, "x-original-queue") ||
    header(message, "x-first-death-queue");
  await publisher.publish({
    exchange: queue ? "" : header(message, "x-original-exchange"),
    routingKey: queue || header(message, "x-original-routing-key"),
    body: message.content,
    messageId: message.properties.messageId ?? crypto.randomUUID(),
    contentType: message.properties.contentType,
    headers,
  });
}

/** The services' error queues, each with its count; one missing is said so. */
async function listQueues(url: string): Promise<void> {
  const connection = await connectBroker({ url, name: NAME });
  connection.on("error", () => {});
  try {
    for (const queue of ERROR_QUEUES) {
      // A passive declare of a missing queue closes its channel: one each.
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      try {
        const { messageCount } = await channel.checkQueue(queue);
        console.log(`${queue.padEnd(24)} ${String(messageCount).padStart(8)}`);
        await channel.close();
      } catch {
        console.log(`${queue.padEnd(24)} ${"(none)".padStart(8)}`);
      }
    }
  } finally {
    await connection.close().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
