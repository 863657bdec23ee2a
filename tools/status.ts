/**
 * The shop at a glance: the brokers, each queue's depth, consumers and rate
 * of change, each error queue's count, each service's outbox and last
 * handled sale (read from its store, read-only), and the health of the
 * services that serve HTTP_PORT.
 *
 *     deno task status                 one screen
 *     deno task status -- --json       the same, for machines
 *     deno task status -- --watch      refreshed every 2 s
 *
 * @module
 */
import { join } from "node:path";
import { CONSUMER_QUEUES as QUEUES } from "../contracts/sale.ts";
import {
  AMQP_SETTINGS,
  brokerUrls,
  redactUrl,
  unsafeBrokerUrls,
} from "../lib/config/mod.ts";
import type { Config } from "../lib/config/mod.ts";
import {
  connectBroker,
  errorQueueOf,
  serverVersion,
} from "../lib/messaging/mod.ts";
import { delay, describeError, UsageError } from "../lib/core/mod.ts";
import { SERVING_PREFIX } from "../lib/observability/mod.ts";
import {
  onShutdown,
  parseCommandLine,
  type Program,
  runMain,
} from "../lib/cli/mod.ts";
import {
  openStore,
  type Row,
  type Store,
  tableNames,
  unsafeDatabaseRole,
} from "../lib/store/mod.ts";
import { type ServiceName, SERVICES } from "../lib/programs/mod.ts";
import { closeProblems } from "../lib/reconcile/mod.ts";
import {
  type BrokerStatus,
  type EndpointStatus,
  type QueueStatus,
  render,
  type ServiceStatus,
  type Status,
} from "./_status_view.ts";

const NAME = "status";

/** The tool's command line: the brokers, the stores read-only, the services' endpoints. */
export const program: Program = {
  name: NAME,
  script: "tools/status.ts",
  settings: [
    ...AMQP_SETTINGS,
    "dataDir",
    "databaseUrl",
    "httpHost",
    "gapAgeMs",
  ],
  options: {
    json: { type: "boolean" },
    watch: { type: "boolean" },
    interval: { type: "string" },
  },
  reads: ({ config }) =>
    SERVICES.map((service) => join(config.dataDir, service)),
  // The services' endpoints listen on HTTP_HOST, on ports they choose.
  connects: ({ config }) => [config.httpHost],
  help: `
Status: the shop at a glance, read-only.

Usage:
  deno task status [-- options]

Options:
  --json             one JSON document, for machines
  --watch            refresh until Ctrl+C
  --interval <s>     seconds between samples; default 2 with --watch, else 1`,
};

/** Each broker of AMQP_URL: whether it answers, its version and cluster. */
async function brokers(config: Config): Promise<BrokerStatus[]> {
  const { url } = config;
  return await Promise.all(
    brokerUrls(url).map(async (broker) => {
      const where = redactUrl(broker.href);
      try {
        const connection = await connectBroker({
          url: broker.href,
          tls: config,
          name: NAME,
          timeout: 3000,
        });
        const properties = (connection.connection as unknown as {
          serverProperties?: { cluster_name?: unknown };
        }).serverProperties;
        await connection.close();
        return {
          Broker: where,
          Reachable: true,
          Version: serverVersion(connection),
          Cluster: String(properties?.cluster_name ?? ""),
        };
      } catch (error) {
        return { Broker: where, Reachable: false, Error: describeError(error) };
      }
    }),
  );
}

/** Each queue's depth and consumers, as a passive declare tells them. */
async function queues(
  config: Config,
  names: readonly string[],
): Promise<Map<string, QueueStatus>> {
  const found = new Map<string, QueueStatus>();
  let connection;
  try {
    connection = await connectBroker({
      url: config.url,
      tls: config,
      name: NAME,
      timeout: 3000,
    });
  } catch (error) {
    for (const queue of names) {
      found.set(queue, { Queue: queue, Error: describeError(error) });
    }
    return found;
  }
  try {
    for (const queue of names) {
      // A failed check closes its channel: one channel per queue.
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      try {
        const { messageCount, consumerCount } = await channel.checkQueue(
          queue,
        );
        found.set(queue, {
          Queue: queue,
          Messages: messageCount,
          Consumers: consumerCount,
        });
        await channel.close();
      } catch (error) {
        found.set(queue, {
          Queue: queue,
          Error: /NOT_FOUND|404/.test(describeError(error))
            ? "not declared yet"
            : describeError(error),
        });
      }
    }
  } finally {
    await connection.close().catch(() => {});
  }
  return found;
}

/** A store's outbox and the last sale it made or handled. */
async function service(
  config: Config,
  name: ServiceName,
): Promise<ServiceStatus> {
  let store: Store;
  try {
    store = await openStore({
      name,
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      readOnly: true,
    });
  } catch (error) {
    return {
      Service: name,
      Error: error instanceof Deno.errors.NotFound
        ? "no store yet"
        : describeError(error),
    };
  }
  const status: ServiceStatus = { Service: name, Store: store.where };
  try {
    const tables = await tableNames(store);
    if (tables.has("outbox")) {
      const row = await store.get(
        "SELECT count(*) AS n FROM outbox WHERE sent_at IS NULL AND set_aside_at IS NULL",
      );
      status.OutboxPending = Number(row?.n ?? 0);
    }
    const last = name === "pos"
      ? tables.has("sales")
        ? await store.get(
          "SELECT store_id || ':' || sale_id AS key, created_at AS at FROM sales ORDER BY sale_id DESC LIMIT 1",
        )
        : undefined
      : tables.has("inbox")
      ? lastSale(
        await store.all(
          "SELECT key, handled_at AS at FROM inbox ORDER BY handled_at DESC LIMIT 100",
        ),
      )
      : undefined;
    if (last) {
      status.LastHandled = String(last.key);
      status.LastHandledAt = String(last.at);
    }
    if (tables.has("till_close")) {
      const { discrepancies, gaps } = await closeProblems(
        store,
        new Date(Date.now() - config.gapAgeMs).toISOString(),
      );
      status.Discrepancies = discrepancies;
      status.Gaps = gaps;
    }
  } catch (error) {
    status.Error = describeError(error);
  } finally {
    await store.close();
  }
  return status;
}

/**
 * The newest sale among inbox rows, newest first: a sale's key is
 * `<store>:<id>[@<till>]` (`sale:` before it in the office's); the keys of
 * adjustments, closes and other events are not sales.
 */
function lastSale(rows: Row[]): Row | undefined {
  const row = rows.find((found) =>
    /^(sale:)?[^:]+:\d+(@[\w-]+)?$/.test(String(found.key))
  );
  return row && { ...row, key: String(row.key).replace(/^sale:/, "") };
}

/** The instances that left where they serve in their folders. */
async function endpoints(config: Config): Promise<EndpointStatus[]> {
  const found: EndpointStatus[] = [];
  for (const name of SERVICES) {
    const folder = join(config.dataDir, name);
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(folder));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.name.startsWith(SERVING_PREFIX)) continue;
      try {
        const { Url, Pid } = JSON.parse(
          await Deno.readTextFile(join(folder, entry.name)),
        );
        found.push({ Service: name, Url: String(Url), Pid: Number(Pid) });
      } catch {
        // Being written or removed right now.
      }
    }
  }
  await Promise.all(found.map(async (endpoint) => {
    try {
      const response = await fetch(`${endpoint.Url}/health`, {
        signal: AbortSignal.timeout(2000),
      });
      endpoint.Health = await response.json();
    } catch (error) {
      endpoint.Error = `not answering (${describeError(error)})`;
    }
  }));
  return found;
}

/** Takes the status, with rates over `seconds` between two samples of the queues. */
async function take(config: Config, seconds: number): Promise<Status> {
  const names = [...QUEUES, ...QUEUES.map(errorQueueOf)];
  const before = await queues(config, QUEUES);
  await delay(seconds * 1000);
  const [after, brokerList, services, serving, database] = await Promise.all([
    queues(config, names),
    brokers(config),
    Promise.all(SERVICES.map((name) => service(config, name))),
    endpoints(config),
    config.databaseUrl === undefined
      ? []
      : unsafeDatabaseRole(config.databaseUrl, SERVICES),
  ]);
  const queueList = QUEUES.map((queue) => {
    const now = after.get(queue) as QueueStatus;
    const then = before.get(queue)?.Messages;
    return now.Messages === undefined || then === undefined ? now : {
      ...now,
      ChangePerSecond: Math.round((now.Messages - then) / seconds * 10) / 10,
    };
  });
  return {
    At: new Date().toISOString(),
    Unsafe: [...unsafeBrokerUrls(config.url), ...database],
    Brokers: brokerList,
    Queues: queueList,
    ErrorQueues: QUEUES.map((queue) => after.get(errorQueueOf(queue))!),
    Services: services,
    Endpoints: serving,
  };
}

async function main(): Promise<void> {
  const { values, positionals, config } = parseCommandLine(program);
  if (positionals.length > 0) {
    throw new UsageError(`Unknown command "${positionals[0]}": see --help`);
  }
  const watch = Boolean(values.watch);
  const text = values.interval as string | undefined;
  const seconds = text === undefined ? (watch ? 2 : 1) : Number(text);
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new UsageError(
      `Invalid interval "${text}": use seconds from 0.1 to 3600`,
    );
  }
  if (!watch) {
    const status = await take(config, seconds);
    console.log(
      values.json ? JSON.stringify(status, null, 2) : render(status),
    );
    return;
  }
  let stopped = false;
  const remove = onShutdown(() => {
    stopped = true;
    return Promise.resolve();
  });
  try {
    while (!stopped) {
      const status = await take(config, seconds);
      if (stopped) break;
      console.log(
        values.json
          ? JSON.stringify(status)
          // Clear the screen and print from the top.
          : `\x1b[2J\x1b[H${
            render(status)
          }\n\nRefreshed every ${seconds} s; Ctrl+C to stop.`,
      );
    }
  } finally {
    remove();
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
