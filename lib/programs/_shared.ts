/**
 * What the services' declarations share: the settings of a consuming
 * service, and the `outbox` command every service has. The declarations
 * stand apart from the services' code so that `tools/exec_line.ts` derives
 * a service's permissions without loading it (amqplib, zod, OpenTelemetry).
 *
 * @module
 */
import { AMQP_SETTINGS, type Config } from "../config/mod.ts";
import type { Command } from "../cli/mod.ts";

/** The settings a consuming service reads, for its program declaration. */
export const CONSUMER_SETTINGS: readonly (keyof Config)[] = [
  ...AMQP_SETTINGS,
  "dataDir",
  "databaseUrl",
  "prefetch",
  "maxMessageBytes",
  "queueType",
  "httpPort",
  "httpHost",
  "retentionMs",
  "closeGraceMs",
  "gapAgeMs",
];

/** The `outbox` command of service `name`, for its program declaration. */
export function outboxCommandOf(name: string): Command {
  return {
    settings: ["dataDir", "databaseUrl"],
    options: { id: { type: "string" } },
    help: `
The outbox of ${name}: what its relay set aside as impossible to publish.

Usage:
  deno task ${name} -- outbox [list]        what was set aside, and why
  deno task ${name} -- outbox replay        pending again (a running
                                            service sends it)

Options:
  --id <m>           only the message with this id`,
  };
}
