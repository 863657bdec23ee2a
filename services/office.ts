/**
 * The back office: the shop's day in a browser. It consumes the events it
 * shows from its own queue (`office_queue`: sales, invoices, stock changes
 * and low-stock events) into its own read model, once each (its inbox), and
 * serves pages that follow them live. It never reads another service's
 * data: a restock or a count from its Stock page is a command
 * (`inventory.stock.adjust`) sent through its outbox, which Inventory
 * applies as it applies `deno task stock -- add`.
 *
 *     deno task office                     http://127.0.0.1:8000
 *     deno task office -- --port 8080 --host 0.0.0.0
 *
 * @module
 */
import type { ChannelModel } from "amqplib";
import { ContractError } from "../contracts/codec.ts";
import {
  code,
  CONSUMER_QUEUES,
  INVENTORY_COMMAND_QUEUE,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import {
  encodeStockAdjust,
  STOCK_ADJUST,
  STOCK_CHANGED,
  type StockAdjust,
} from "../contracts/stock.ts";
import { type Config, wholeNumber } from "../lib/config/mod.ts";
import {
  connectBroker,
  errorQueueOf,
  Publisher,
} from "../lib/messaging/mod.ts";
import { errorMessage, UsageError } from "../lib/core/mod.ts";
import {
  Accounts,
  type AdjustForm,
  EventStream,
  firstAdminLine,
  officeHandler,
  OfficeModel,
  officeQueue,
  page,
  presentWith,
  problemPage,
  shownEntry,
  today,
  visitorAddress,
} from "./office/mod.ts";
import { parseCatalog } from "../contracts/catalog.ts";
import {
  markServing,
  Monitor,
  serveMonitor,
} from "../lib/observability/mod.ts";
import { openStore, Outbox, type Store } from "../lib/store/mod.ts";
import { runConsumer, serviceMain } from "../lib/host/mod.ts";
import type { Log } from "../lib/log/mod.ts";
import { checkedOption, readInput } from "../lib/cli/mod.ts";
import { printable } from "../contracts/text.ts";
import { listenOf, program } from "../lib/programs/office.ts";
import { closeSettings, gapsOf, Reconciler } from "../lib/reconcile/mod.ts";

const NAME = program.name;

/** The error queues the back office shows. */
const ERROR_QUEUES = CONSUMER_QUEUES.map(errorQueueOf);

/** The back office's command line, declared in `lib/programs/office.ts`. */
export { program };

/**
 * The origins the office answers: where it listens (on loopback, by each
 * loopback name; on every address, by loopback names only) and its public
 * URL.
 */
function servedOrigins(served: string, publicUrl?: string): string[] {
  const { hostname, port } = new URL(served);
  const loopback = ["127.0.0.1", "localhost", "[::1]"];
  const everywhere = hostname === "0.0.0.0" || hostname === "[::]";
  const names = everywhere || loopback.includes(hostname)
    ? loopback
    : [hostname];
  return [
    ...names.map((name) => `http://${name}:${port}`),
    ...(publicUrl ? [new URL(publicUrl).origin] : []),
  ];
}

/**
 * At the first start, with no account yet: an admin whose password is
 * shown once, so that the back office is never open without a login.
 */
async function firstAdmin(accounts: Accounts, log: Log): Promise<void> {
  if ((await accounts.list()).length > 0) return;
  const password = crypto.randomUUID().replaceAll("-", "").slice(0, 20);
  await accounts.add("admin", "admin", password);
  await accounts.audit({
    Who: "office",
    Action: "made the first account",
    Detail: "admin (admin)",
    From: "-",
  });
  log.warn(firstAdminLine(password));
}

/** The command a Stock form asks for. */
function adjustmentOf(form: AdjustForm): StockAdjust {
  if (form.mode !== "add" && form.mode !== "set") {
    throw new UsageError(
      `Invalid mode "${
        printable(form.mode ?? "")
      }": use add (a delivery) or set (a count)`,
    );
  }
  const mode = form.mode;
  return {
    AdjustmentId: crypto.randomUUID(),
    StoreId: checkedOption(code, "store", form.store),
    Sku: checkedOption(code, "SKU", form.sku),
    Mode: mode,
    Quantity: wholeNumber("quantity", form.quantity, {
      min: mode === "set" ? -(2 ** 31 - 1) : 1,
    }),
    Threshold: form.threshold?.trim()
      ? wholeNumber("threshold", form.threshold)
      : undefined,
    RequestedBy: NAME,
    RequestedAt: new Date().toISOString(),
  };
}

async function serve(
  config: Config,
  listen: ReturnType<typeof listenOf>,
  catalogPath: string,
): Promise<void> {
  const monitor = new Monitor(NAME);
  const { log } = monitor;
  presentWith({ ...config.money, timeZone: config.timeZone });
  // The products' names, for invoices that carry SKUs.
  const names = new Map(
    [...parseCatalog(await readInput(catalogPath), catalogPath).products]
      .map(([sku, product]) => [sku, product.name]),
  );
  const store: Store = await openStore({ name: NAME, ...config });
  const outbox = await Outbox.open(store);
  const model = await OfficeModel.open(store);
  const reconciler = await Reconciler.open(store, {
    service: NAME,
    outbox,
    monitor,
    ...closeSettings(config),
  });
  const accounts = await Accounts.open(store);
  await firstAdmin(accounts, log);
  const stream = new EventStream({
    // It catches up when it reconnects: the page asks for what it missed.
    onDrop: () =>
      log.warn(
        "office: dropped a live page that fell behind; it catches up when it reconnects",
      ),
  });

  // The Today pages get the totals at most five times a second, however
  // many events come: one query for all of them.
  let summaryDue: ReturnType<typeof setTimeout> | undefined;
  const pushSummary = () => {
    if (summaryDue !== undefined || stream.size === 0) return;
    summaryDue = setTimeout(async () => {
      summaryDue = undefined;
      try {
        stream.send("summary", await model.summary(today()));
      } catch (error) {
        log.warn(
          `office: no summary for the live pages: ${errorMessage(error)}`,
        );
      }
    }, 200);
  };

  // One connection for the error queue pages, made when first needed and
  // again after it is lost: not one per request.
  let shared:
    | Promise<{ connection: ChannelModel; publisher: Publisher }>
    | undefined;
  const brokerForPages = () =>
    shared ??= (async () => {
      const connection = await connectBroker({
        url: config.url,
        tls: config,
        name: `${NAME} error queues`,
        timeout: 3000,
      });
      connection.on("error", () => {});
      connection.on("close", () => shared = undefined);
      return { connection, publisher: await Publisher.open(connection) };
    })().catch((error) => {
      shared = undefined;
      throw error;
    });

  /** Runs `work` on the error queue pages' connection. */
  async function withBroker<T>(
    work: (connection: ChannelModel, publisher: Publisher) => Promise<T>,
  ): Promise<T> {
    const { connection, publisher } = await brokerForPages();
    return await work(connection, publisher);
  }

  async function sendAdjustment(form: AdjustForm): Promise<string> {
    const command = adjustmentOf(form);
    // A mistyped SKU or store would make a new stock line: a new one is
    // said so on the form.
    if (form.new !== "on") {
      const levels = await model.stock(command.StoreId);
      if (levels.length === 0) {
        throw new UsageError(
          `Unknown store "${
            printable(command.StoreId)
          }": no stock is recorded there; tick "New to this store" to start it`,
        );
      }
      if (!levels.some((level) => level.Sku === command.Sku)) {
        throw new UsageError(
          `Unknown SKU "${printable(command.Sku)}" in ${
            printable(command.StoreId)
          }: tick "New to this store" to add it`,
        );
      }
    }
    let body;
    try {
      body = encodeStockAdjust(command);
    } catch (error) {
      if (!(error instanceof ContractError)) throw error;
      throw new UsageError(error.message.replace(/^Message is invalid: /, ""));
    }
    await store.transaction((tx) =>
      outbox.add(tx, {
        exchange: SALES_EXCHANGE,
        routingKey: STOCK_ADJUST,
        messageId: `adjust:${command.AdjustmentId}`,
        body,
      })
    );
    log.info(
      `office: sent ${
        command.Mode === "set" ? "a count" : "a delivery"
      } of ${command.Quantity} ${command.Sku} in ${command.StoreId} to Inventory (${command.AdjustmentId})`,
      { store: command.StoreId },
    );
    return command.AdjustmentId;
  }

  const trustedProxies = new Set(listen.trustedProxies);
  let origins: string[] = [];
  const answer = officeHandler({
    model,
    stream,
    log,
    errorQueues: ERROR_QUEUES,
    names,
    gaps: () =>
      gapsOf(store, new Date(Date.now() - config.gapAgeMs).toISOString()),
    withBroker,
    sendAdjustment,
    origins: () => origins,
    auth: {
      accounts,
      log,
      secure: listen.publicUrl?.startsWith("https:") ?? false,
      callers: new WeakMap(),
    },
  });
  const server = await serveMonitor(monitor, {
    port: listen.port,
    hostname: listen.hostname,
    handler: async (request, peer) => {
      try {
        return await answer(
          request,
          visitorAddress(request, peer.hostname, trustedProxies),
        );
      } catch (error) {
        if (error instanceof UsageError) {
          return page(problemPage("Not understood", error.message), 400);
        }
        log.error(
          `office: ${new URL(request.url).pathname}: ${errorMessage(error)}`,
        );
        return page(
          problemPage("Something failed", `It failed: ${errorMessage(error)}`),
          500,
        );
      }
    },
  });
  origins = servedOrigins(server.url, listen.publicUrl);
  const unmark = markServing(config, NAME, server.url);
  log.info(`Back office at ${server.url}`);
  try {
    await runConsumer({
      name: NAME,
      monitor,
      config,
      store,
      outbox,
      // Shown once on disk, as the ack that follows: the next batch is
      // handled meanwhile.
      queues: [officeQueue(model, (applied) => {
        for (const { delivery, entry } of applied) {
          stream.send("feed", shownEntry(entry));
          const event = delivery.value;
          if (event.kind === STOCK_CHANGED) stream.send("stock", event.value);
        }
        if (applied.length > 0) pushSummary();
      }, reconciler)],
      background: (signal) => reconciler.run(signal),
      sendsTo: [{
        exchange: SALES_EXCHANGE,
        queue: INVENTORY_COMMAND_QUEUE,
        routingKey: STOCK_ADJUST,
      }],
    });
  } finally {
    clearTimeout(summaryDue);
    stream.close();
    await shared?.then(
      ({ connection }) => connection.close(),
      () => {},
    ).catch(() => {});
    await server.close();
    await unmark();
  }
}

if (import.meta.main) {
  Deno.exit(
    await serviceMain(program, {
      serve: ({ config, own }) => serve(config, listenOf(own), own.catalog!),
      commands: {
        users: async (commandLine, args) => {
          // Loaded only here: a running office does not carry the tool.
          const { usersCommand } = await import("../tools/office_users.ts");
          await usersCommand(commandLine, args);
        },
      },
    }),
  );
}
