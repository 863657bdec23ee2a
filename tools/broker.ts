/**
 * The broker as the shop needs it, made by an administrator once: the
 * vhost, the topology and one user per service with the narrowest
 * permissions its declaration allows (`lib/messaging/grants.ts`). Each
 * service's AMQP URL goes to a file of its own (mode 0600) for
 * AMQP_URL_FILE; nothing secret is printed.
 *
 *     deno task broker -- setup [--vhost v] [--out dir]
 *     deno task broker -- setup --definitions defs.json [--out dir]
 *
 * @module
 */
import { join } from "node:path";
import {
  brokerUrls,
  type Config,
  redactUrl,
  vhostOf,
} from "../lib/config/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import {
  applySetup,
  type BrokerNeeds,
  definitionsOf,
  Management,
  managementOf,
  setupPlan,
} from "../lib/messaging/mod.ts";
import { type Program, runMain } from "../lib/cli/mod.ts";
import { SERVICE_PROGRAMS } from "../lib/programs/mod.ts";
import { printable } from "../contracts/text.ts";
import {
  keptPassword,
  newPassword,
  outOf,
  setupCommandLine,
  withCredentials,
  writeSecret,
} from "./_secrets.ts";

const NAME = "broker";

/** The management API's `host:port`, for `--allow-net`. */
function managementHost(values: Record<string, unknown>, config: Config) {
  try {
    return [
      new URL(
        managementOf(config.url, values["management-url"] as string).url,
      ).host,
    ];
  } catch {
    return [];
  }
}

/** The tool's command line: the management API, the folder it writes URLs to. */
export const program: Program = {
  name: NAME,
  script: "tools/broker.ts",
  settings: ["url", "dataDir", "queueType"],
  options: {
    vhost: { type: "string" },
    out: { type: "string" },
    "management-url": { type: "string" },
    definitions: { type: "string" },
    prefix: { type: "string" },
    "broker-version": { type: "string" },
  },
  writes: ({ values, config }) => [
    outOf(values, config),
    values.definitions as string | undefined,
  ],
  connects: ({ values, config }) =>
    values.definitions === undefined ? managementHost(values, config) : [],
  help: `
Broker setup: the vhost, the exchanges and queues, and one user per service
(pos, billing, inventory, office) with a random password and only the
permissions it needs. Each service's AMQP URL is written to <dir>/<service>.url
(mode 0600), for AMQP_URL_FILE; nothing secret is printed. Running it again
changes only what is not right: a password in <dir> is kept.

AMQP_URL names the broker and an administrator's credentials; the management
API (plugin rabbitmq_management) is asked at the same host, port 15672.

Usage:
  deno task broker -- setup [-- options]

Options:
  --vhost <v>            the vhost; default AMQP_URL's
  --out <dir>            where the services' URLs go; default <DATA_DIR>/secrets
  --management-url <u>   the management API, e.g. https://rmq1:15671
  --prefix <p>           users named <p>-pos, <p>-billing …; default pos, billing …
  --definitions <file>   write a definitions file for load_definitions instead
                         of asking a broker (with AMQP_URL's user as its
                         administrator, since a broker that loads one makes no
                         default user)
  --broker-version <n>   with --definitions and QUEUE_TYPE=quorum: the broker's
                         major version; default 4`,
};

/** A service's URL: the administrator's brokers, with its user and the vhost. */
function serviceUrl(
  adminUrl: string,
  vhost: string,
  user: { name: string; password: string },
): string {
  return brokerUrls(adminUrl).map((url) => {
    const copy = withCredentials(url.href, user.name, user.password);
    copy.pathname = vhost === "/" ? "" : `/${encodeURIComponent(vhost)}`;
    return copy.href;
  }).join(",");
}

async function main(): Promise<void> {
  const { values, config, out } = await setupCommandLine(program);
  const [admin] = brokerUrls(config.url);
  if (admin === undefined) throw new UsageError("AMQP_URL is empty");
  const vhost = (values.vhost as string | undefined) ?? vhostOf(admin);
  const prefix = values.prefix as string | undefined;
  if (prefix !== undefined && !/^[A-Za-z0-9_.-]{1,32}$/.test(prefix)) {
    throw new UsageError(
      `Invalid --prefix "${
        printable(prefix)
      }": letters, digits, . _ - (at most 32)`,
    );
  }

  const needs: Record<string, BrokerNeeds> = {};
  const credentials: Record<string, { name: string; password: string }> = {};
  for (const [service, declared] of Object.entries(SERVICE_PROGRAMS)) {
    if (!declared.broker) continue;
    needs[service] = declared.broker;
    const name = prefix ? `${prefix}-${service}` : service;
    credentials[service] = {
      name,
      password: await keptPassword(join(out, `${service}.url`), name) ??
        newPassword(),
    };
  }

  const definitions = values.definitions as string | undefined;
  let brokerVersion = (values["broker-version"] as string | undefined) ?? "4";
  let api: Management | undefined;
  if (definitions === undefined) {
    api = new Management({
      ...managementOf(config.url, values["management-url"] as string),
    });
    const overview = await api.get<{ rabbitmq_version?: string }>("overview");
    brokerVersion = overview?.rabbitmq_version ?? "3";
  }
  const plan = setupPlan({
    vhost,
    needs,
    credentials,
    queueType: config.queueType,
    brokerVersion,
  });

  if (api === undefined) {
    const adminUser = decodeURIComponent(admin.username || "guest");
    const withAdmin = adminUser !== "guest";
    await writeSecret(
      definitions!,
      JSON.stringify(
        definitionsOf(
          plan,
          withAdmin
            ? { name: adminUser, password: decodeURIComponent(admin.password) }
            : undefined,
        ),
        null,
        2,
      ) + "\n",
    );
    console.log(
      `${NAME}: definitions of vhost "${vhost}" written to ${definitions} (mode 0600; password hashes only)${
        withAdmin
          ? `, with "${adminUser}" of AMQP_URL as its administrator`
          : "; AMQP_URL's user is guest, so it has no administrator"
      }.`,
    );
  } else {
    const changes = await applySetup(api, plan);
    for (const change of changes) {
      if (change.outcome !== "right") {
        console.log(`${NAME}: ${change.what}: ${change.outcome}`);
      }
    }
    const right = changes.filter((change) => change.outcome === "right");
    console.log(
      `${NAME}: vhost "${vhost}" at ${api.url} (RabbitMQ ${brokerVersion}): ${
        changes.length - right.length
      } changed, ${right.length} already right.`,
    );
  }
  for (const user of plan.users) {
    await writeSecret(
      join(out, `${user.service}.url`),
      serviceUrl(config.url, vhost, user) + "\n",
    );
  }
  console.log(
    `${NAME}: each service's AMQP URL is in ${out}/<service>.url (mode 0600): ` +
      `AMQP_URL_FILE=${
        join(out, "billing.url")
      } deno task billing, and so on; ` +
      `the brokers are ${redactUrl(config.url.split(",")[0])}${
        config.url.includes(",") ? " …" : ""
      }.`,
  );
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
