/**
 * `<service> outbox [list|replay] [--id <message id>]`: what a service's
 * relay set aside in its outbox as impossible to publish, and putting it
 * back to be sent (after the cause is mended, e.g. a broker limit raised).
 *
 * @module
 */
import { UsageError } from "../core/mod.ts";
import { openStore, Outbox } from "../store/mod.ts";
import { printable } from "../../contracts/text.ts";
import type { CommandLine } from "../cli/mod.ts";

/**
 * Runs `<name> outbox [list|replay] [--id <m>]`, as parsed, on the
 * service's own database.
 *
 * @throws {UsageError} for an unknown action.
 */
export async function outboxCommand(
  name: string,
  command: CommandLine,
): Promise<void> {
  const { config, positionals: [, action = "list"] } = command;
  const id = command.values.id as string | undefined;
  if (action !== "list" && action !== "replay") {
    throw new UsageError(
      `Unknown outbox action "${action}": use list or replay`,
    );
  }
  const store = await openStore({
    name,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  try {
    const outbox = await Outbox.open(store);
    if (action === "list") {
      const entries = await outbox.setAsideEntries(id);
      for (const entry of entries) {
        console.log(
          [
            printable(entry.messageId),
            entry.setAsideAt,
            `${printable(entry.exchange) || "(default)"}/${
              printable(entry.routingKey)
            }`,
            printable(entry.reason),
          ].join("  "),
        );
      }
      console.log(
        `${entries.length} message(s) set aside in ${name}'s outbox.`,
      );
    } else {
      const replayed = await outbox.replay(id);
      console.log(
        `${replayed} message(s) of ${name}'s outbox are pending again.`,
      );
    }
  } finally {
    await store.close();
  }
}
