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
import { stayConnected } from "./broker.ts";
import { fail, onShutdown, parseCommandLine, retrying } from "./service.ts";

const NAME = "watch";
const HELP = `
Watch: prints every event on "${SALES_EXCHANGE}" matching a topic pattern.

Usage:
  deno task watch -- "<pattern>"       e.g. "#", "sale.*", "inventory.stock.low"

Options:
  --json             print only each event's body, one JSON document a line`;

if (import.meta.main) {
  const { values, positionals, config } = parseCommandLine({
    name: NAME,
    help: HELP,
    options: { json: { type: "boolean" } },
  });
  const [pattern = "#"] = positionals;
  if (!/^[\w*#-]+(\.[\w*#-]+)*$/.test(pattern)) {
    fail(
      NAME,
      `Invalid pattern "${pattern}": use words, * and # joined by dots`,
      2,
    );
  }
  const stop = new AbortController();
  onShutdown(() => {
    stop.abort();
    return Promise.resolve();
  });
  try {
    await stayConnected({
      url: config.url,
      name: NAME,
      signal: stop.signal,
      onRetry: (message, delay) => retrying(NAME, message, delay),
      session: async (connection) => {
        const channel = await connection.createChannel();
        channel.on("error", () => {});
        await channel.assertExchange(SALES_EXCHANGE, "topic", {
          durable: true,
        });
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
  } catch (error) {
    fail(NAME, error);
  }
}
