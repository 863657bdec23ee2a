/**
 * Prints every event on `sales_exchange` whose routing key matches a topic
 * pattern, as it happens, from a temporary queue of its own (exclusive,
 * deleted when the watch ends), so watching takes nothing from anyone.
 *
 *     deno task watch -- "#"                  everything
 *     deno task watch -- "inventory.stock.*"  low-stock events
 *
 * @module
 */
import { SALES_EXCHANGE } from "../contracts/sale.ts";
import {
  declareExchange,
  reportRetry,
  stayConnected,
} from "../lib/messaging/mod.ts";
import { createLog } from "../lib/log/mod.ts";
import { AMQP_SETTINGS } from "../lib/config/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import {
  onShutdown,
  parseCommandLine,
  type Program,
  runMain,
} from "../lib/cli/mod.ts";

const NAME = "watch";

/** The tool's command line: it reaches the broker and nothing else. */
export const program: Program = {
  name: NAME,
  script: "tools/watch.ts",
  settings: AMQP_SETTINGS,
  options: { json: { type: "boolean" } },
  help: `
Watch: prints every event on "${SALES_EXCHANGE}" matching a topic pattern.

Usage:
  deno task watch -- "<pattern>"       e.g. "#", "sale.*", "inventory.stock.low"

Options:
  --json             print only each event's body, one JSON document a line`,
};

async function main(): Promise<void> {
  const { values, positionals, config } = parseCommandLine(program);
  const [pattern = "#"] = positionals;
  if (!/^[\w*#-]+(\.[\w*#-]+)*$/.test(pattern)) {
    throw new UsageError(
      `Invalid pattern "${pattern}": use words, * and # joined by dots`,
    );
  }
  const stop = new AbortController();
  onShutdown(() => {
    stop.abort();
    return Promise.resolve();
  });
  await stayConnected({
    url: config.url,
    tls: config,
    name: NAME,
    signal: stop.signal,
    onRetry: reportRetry(createLog(NAME)),
    session: async (connection, ready) => {
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      await declareExchange(channel, SALES_EXCHANGE);
      const { queue } = await channel.assertQueue("", {
        exclusive: true,
        autoDelete: true,
        durable: false,
      });
      await channel.bindQueue(queue, SALES_EXCHANGE, pattern);
      const closed = new Promise<void>((_, reject) =>
        channel.on("close", () => reject(new Error("Channel closed")))
      );
      await channel.consume(queue, (message) => {
        if (!message) return;
        const body = message.content.toString("utf8");
        console.log(
          values.json ? body : `${message.fields.routingKey}  ${body}`,
        );
      }, { noAck: true });
      ready();
      console.error(
        `Watching "${pattern}" on "${SALES_EXCHANGE}". Press Ctrl+C to exit.`,
      );
      await Promise.race([
        closed,
        new Promise<void>((resolve) =>
          stop.signal.addEventListener("abort", () => resolve(), {
            once: true,
          })
        ),
      ]);
      await channel.close().catch(() => {});
    },
  });
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
