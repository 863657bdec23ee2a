/**
 * Tools for an error queue: see what failed and why, put messages back on
 * their original route (the queue they failed in), or drop them, through
 * `lib/messaging/error_queue.ts`.
 *
 *     deno task errors -- list   --queue billing_queue_error
 *     deno task errors -- show   --queue billing_queue_error [--id <message-id>]
 *     deno task errors -- replay --queue billing_queue_error [--id <message-id>]
 *     deno task errors -- purge  --queue billing_queue_error [--id <message-id>]
 *
 * @module
 */
import {
  connectBroker,
  countErrorQueues,
  type ErroredMessage,
  type ErrorQueueAction,
  errorQueueOf,
  Publisher,
  readErrored,
  walkErrorQueue,
} from "../lib/messaging/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import { parseCommandLine, type Program, runMain } from "../lib/cli/mod.ts";
import { printable } from "../contracts/text.ts";
import { AMQP_SETTINGS, type Config, wholeNumber } from "../lib/config/mod.ts";
import { CONSUMER_QUEUES } from "../contracts/sale.ts";

const NAME = "errors";

/** The tool's command line: it reaches the broker and nothing else. */
export const program: Program = {
  name: NAME,
  script: "tools/errors.ts",
  settings: AMQP_SETTINGS,
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
    return await listQueues(config);
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

  const connection = await connectBroker({
    url: config.url,
    tls: config,
    name: NAME,
  });
  connection.on("error", () => {});
  const publisher = await Publisher.open(connection);
  try {
    const taken = await walkErrorQueue(connection, {
      queue,
      action: command === "show" ? "list" : command as ErrorQueueAction,
      publisher,
      id,
      limit,
      onMessage: (message) =>
        command === "show"
          ? printMessage(readErrored(message))
          : command === "list"
          ? printLine(readErrored(message))
          : undefined,
    });
    if (id !== undefined && taken === 0) {
      throw new Error(`No message "${printable(id)}" in "${queue}"`);
    }
    if (command === "list") {
      console.log(`${taken} message(s) in "${queue}".`);
    } else if (command === "replay") {
      console.log(`Replayed ${taken} message(s) from "${queue}".`);
    } else if (command === "purge") {
      console.log(`Dropped ${taken} message(s) from "${queue}".`);
    }
  } finally {
    await publisher.close();
    await connection.close().catch(() => {});
  }
}

function printLine(message: ErroredMessage): void {
  console.log(
    [
      message.MessageId,
      message.FailedAt,
      message.Route,
      `attempts ${message.Attempts}`,
      message.Reason,
    ].map((field) => printable(field)).join("  "),
  );
}

function printMessage(message: ErroredMessage): void {
  console.log(`Message ${printable(message.MessageId)}`);
  for (const [name, value] of Object.entries(message.Headers)) {
    console.log(`  ${printable(name)}: ${printable(value)}`);
  }
  console.log(`  body (${message.Bytes} bytes):`);
  console.log(`  ${printable(message.Body)}`);
}

/** The services' error queues, each with its count; one missing is said so. */
async function listQueues(config: Config): Promise<void> {
  const connection = await connectBroker({
    url: config.url,
    tls: config,
    name: NAME,
  });
  connection.on("error", () => {});
  try {
    for (
      const { Queue, Messages } of await countErrorQueues(
        connection,
        ERROR_QUEUES,
      )
    ) {
      console.log(
        `${Queue.padEnd(32)} ${String(Messages ?? "(none)").padStart(8)}`,
      );
    }
  } finally {
    await connection.close().catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
