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
  CONSUMER_QUEUES,
  DEFAULT_STORE,
  INVENTORY_COMMAND_QUEUE,
  OFFICE_QUEUE,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import {
  encodeStockAdjust,
  STOCK_ADJUST,
  STOCK_CHANGED,
  type StockAdjust,
} from "../contracts/stock.ts";
import { type Config, readEnv, wholeNumber } from "../lib/config/mod.ts";
import {
  connectBroker,
  countErrorQueues,
  type ErroredMessage,
  errorQueueOf,
  Publisher,
  readErrored,
  walkErrorQueue,
} from "../lib/messaging/mod.ts";
import { errorMessage, UsageError } from "../lib/core/mod.ts";
import { EventStream } from "../lib/event_stream.ts";
import {
  markServing,
  Monitor,
  serveMonitor,
} from "../lib/observability/mod.ts";
import { Inbox, openStore, Outbox, type Store } from "../lib/store/mod.ts";
import { parseCommandLine, runMain } from "../lib/cli/mod.ts";
import { SCRIPT, STYLE } from "../lib/office_assets.ts";
import {
  decodeOfficeEvent,
  FEED_LINES,
  type FeedEntry,
  OFFICE_EVENTS,
  type OfficeDelivery,
  OfficeModel,
} from "../lib/office_model.ts";
import {
  type AdjustForm,
  confirmPage,
  errorQueuePage,
  errorQueuesPage,
  invoicePage,
  invoicesPage,
  livePage,
  problemPage,
  stockPage,
  todayPage,
} from "../lib/office_pages.ts";
import { outboxCommand, runConsumer } from "../lib/host/mod.ts";
import { printable } from "../contracts/text.ts";
import { listenOf, program } from "../lib/programs/office.ts";

const NAME = program.name;

/** The error queues the back office shows. */
const ERROR_QUEUES = CONSUMER_QUEUES.map(errorQueueOf);

/** Messages an error queue's page lists. */
const LISTED = 50;

/** The back office's command line, declared in `lib/programs/office.ts`. */
export { program };

/** Today, `2026-11-27`, in UTC as the read model's days are. */
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A day given in a query, `2026-11-27`, or undefined when none is given. */
function dayParam(name: string, text: string | null): string | undefined {
  if (text === null || text === "") return undefined;
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(text) ||
    Number.isNaN(new Date(text).getTime())
  ) {
    throw new UsageError(
      `Invalid ${name} "${text}": use a day, e.g. 2026-11-27`,
    );
  }
  return text;
}

/** A part of a path, decoded. */
function pathPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UsageError(`Invalid path part "${text}": a % that is not UTF-8`);
  }
}

const htmlHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
};

function page(body: string, status = 200): Response {
  return new Response(body, { status, headers: htmlHeaders });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

/**
 * Whether a form was posted from another site: a page elsewhere cannot
 * make the office restock or drop messages.
 */
function crossSite(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(request.url).origin) return true;
  return request.headers.get("sec-fetch-site") === "cross-site";
}

/** The command a Stock form asks for. */
function adjustmentOf(form: AdjustForm): StockAdjust {
  const mode = form.mode === "set" ? "set" : "add";
  return {
    AdjustmentId: crypto.randomUUID(),
    StoreId: (form.store ?? "").trim(),
    Sku: (form.sku ?? "").trim(),
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
  listen: { hostname: string; port: number },
): Promise<void> {
  const monitor = new Monitor(NAME);
  const { log } = monitor;
  const store: Store = await openStore({
    name: NAME,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  const inbox = await Inbox.open(store);
  const outbox = await Outbox.open(store);
  const model = await OfficeModel.open(store);
  const stream = new EventStream();

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

  async function handle(deliveries: OfficeDelivery[]): Promise<void> {
    await store.transaction(async (tx) => {
      const applied: { delivery: OfficeDelivery; entry: FeedEntry }[] = [];
      for (const delivery of deliveries) {
        if (!await inbox.admit(tx, delivery.key, delivery.digest)) continue;
        applied.push({ delivery, entry: await model.apply(tx, delivery) });
      }
      await model.trim(tx);
      // Shown once on disk, as the ack that follows: the next batch is
      // handled meanwhile.
      tx.onCommit(() => {
        for (const { delivery, entry } of applied) {
          stream.send("feed", entry);
          const event = delivery.value;
          if (event.kind === STOCK_CHANGED) stream.send("stock", event.value);
        }
        if (applied.length > 0) pushSummary();
      });
    }, { waitForSync: false });
  }

  /** Runs `work` on a connection of its own, for the error queue pages. */
  async function withBroker<T>(
    work: (connection: ChannelModel, publisher: Publisher) => Promise<T>,
  ): Promise<T> {
    const connection = await connectBroker({
      url: config.url,
      name: `${NAME} error queues`,
      timeout: 3000,
    });
    connection.on("error", () => {});
    const publisher = await Publisher.open(connection);
    try {
      return await work(connection, publisher);
    } finally {
      await publisher.close().catch(() => {});
      await connection.close().catch(() => {});
    }
  }

  async function sendAdjustment(form: AdjustForm): Promise<string> {
    const command = adjustmentOf(form);
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

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const { pathname, searchParams: query } = url;
    const method = request.method === "HEAD" ? "GET" : request.method;
    if (method === "POST" && crossSite(request)) {
      return page(
        problemPage(
          "Refused",
          "A form from another site cannot change the shop.",
        ),
        403,
      );
    }
    if (method === "GET") {
      if (pathname === "/favicon.ico") {
        return new Response(null, { status: 204 });
      }
      if (pathname === "/app.css") {
        return new Response(STYLE, {
          headers: { "content-type": "text/css; charset=utf-8" },
        });
      }
      if (pathname === "/app.js") {
        return new Response(SCRIPT, {
          headers: { "content-type": "text/javascript; charset=utf-8" },
        });
      }
      if (pathname === "/events") {
        const after = query.get("after");
        return stream.response([
          { event: "summary", data: await model.summary(today()) },
          // What came since the page was made.
          ...(after
            ? (await model.feed(FEED_LINES, wholeNumber("after", after)))
              .toReversed().map((entry) => ({ event: "feed", data: entry }))
            : []),
        ]);
      }
      const adjustment = /^\/api\/adjustments\/([^/]+)$/.exec(pathname);
      if (adjustment) {
        const applied = await model.adjustment(
          pathPart(adjustment[1]),
        );
        return applied
          ? Response.json(applied, { headers: { "cache-control": "no-store" } })
          : Response.json({ Applied: false }, { status: 404 });
      }
      if (pathname === "/" || pathname === "/api/summary") {
        const summary = await model.summary(
          dayParam("day", query.get("day")) ?? today(),
        );
        return pathname === "/"
          ? page(todayPage(summary))
          : Response.json(summary, {
            headers: { "cache-control": "no-store" },
          });
      }
      if (pathname === "/api/stock") {
        return Response.json(
          await model.stock(query.get("store") || undefined),
          { headers: { "cache-control": "no-store" } },
        );
      }
      if (pathname === "/invoices") {
        const sale = query.get("sale");
        const search = {
          store: query.get("store")?.trim() || undefined,
          sale: sale ? wholeNumber("sale id", sale, { min: 1 }) : undefined,
          from: dayParam("from", query.get("from")),
          to: dayParam("to", query.get("to")),
          page: query.get("page")
            ? wholeNumber("page", query.get("page") ?? "", { min: 1 })
            : 1,
        };
        return page(invoicesPage(search, await model.invoices(search)));
      }
      const invoice = /^\/invoices\/([^/]+)$/.exec(pathname);
      if (invoice) {
        const number = pathPart(invoice[1]);
        const found = await model.invoice(number);
        return found ? page(invoicePage(found)) : page(
          problemPage(
            "No such invoice",
            `No invoice "${number}" has reached the back office.`,
          ),
          404,
        );
      }
      if (pathname === "/stock") {
        const filter = query.get("store")?.trim() || undefined;
        const sent = query.get("sent");
        return page(stockPage(await model.stock(filter), {
          store: filter,
          defaultStore: DEFAULT_STORE,
          sent: sent === null
            ? undefined
            : { id: sent, applied: await model.adjustment(sent) },
        }));
      }
      if (pathname === "/errors") {
        return page(
          errorQueuesPage(
            await withBroker((connection) =>
              countErrorQueues(connection, ERROR_QUEUES)
            ),
          ),
        );
      }
      if (pathname === "/live") return page(livePage(await model.feed(100)));
    }
    const errorQueue = /^\/errors\/([^/]+)(?:\/(confirm|replay|purge))?$/
      .exec(pathname);
    if (errorQueue) {
      const queue = pathPart(errorQueue[1]);
      if (!ERROR_QUEUES.includes(queue)) {
        return page(
          problemPage(
            "No such error queue",
            `"${queue}" is not an error queue of the shop: ${
              ERROR_QUEUES.join(", ")
            }`,
          ),
          404,
        );
      }
      return await errorQueueRoute(request, queue, errorQueue[2]);
    }
    if (method === "POST" && pathname === "/stock/adjust") {
      const form = Object.fromEntries(
        await request.formData(),
      ) as Record<string, string>;
      try {
        const id = await sendAdjustment(form);
        return redirect(`/stock?sent=${encodeURIComponent(id)}`);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        return page(
          stockPage(await model.stock(), {
            defaultStore: DEFAULT_STORE,
            error: `Nothing was sent: ${error.message}`,
            form,
          }),
          400,
        );
      }
    }
    return page(
      problemPage("Not found", `Nothing at ${pathname}: see the pages above.`),
      404,
    );
  }

  async function errorQueueRoute(
    request: Request,
    queue: string,
    action: string | undefined,
  ): Promise<Response> {
    const query = new URL(request.url).searchParams;
    const base = `/errors/${encodeURIComponent(queue)}`;
    if (request.method === "GET" && action === undefined) {
      const messages: ErroredMessage[] = [];
      await withBroker((connection, publisher) =>
        walkErrorQueue(connection, {
          queue,
          action: "list",
          publisher,
          limit: LISTED + 1,
          onMessage: (message) => messages.push(readErrored(message)),
        })
      );
      return page(errorQueuePage(queue, messages.slice(0, LISTED), {
        done: query.get("done") ?? undefined,
        more: messages.length > LISTED,
      }));
    }
    if (request.method === "GET" && action === "confirm") {
      const verb = query.get("action");
      if (verb !== "replay" && verb !== "purge") {
        throw new UsageError(`Invalid action "${verb}": use replay or purge`);
      }
      const [{ Messages = 0 }] = await withBroker((connection) =>
        countErrorQueues(connection, [queue])
      );
      return page(confirmPage(queue, {
        action: verb,
        id: query.get("id") ?? undefined,
        count: Messages,
      }));
    }
    if (
      request.method === "POST" && (action === "replay" || action === "purge")
    ) {
      const form = await request.formData();
      const id = form.get("id");
      const taken = await withBroker((connection, publisher) =>
        walkErrorQueue(connection, {
          queue,
          action,
          publisher,
          id: typeof id === "string" && id !== "" ? id : undefined,
        })
      );
      const done = `${
        action === "replay" ? "Replayed" : "Dropped"
      } ${taken} message(s).`;
      log.info(`office: ${done.toLowerCase()} from "${queue}"`);
      return redirect(`${base}?done=${encodeURIComponent(done)}`);
    }
    return page(problemPage("Not found", `Nothing at ${base}/${action}.`), 404);
  }

  const server = serveMonitor(monitor, {
    port: listen.port,
    hostname: listen.hostname,
    handler: async (request) => {
      try {
        return await route(request);
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
  const unmark = markServing(config, NAME, server.url);
  log.info(`Back office at ${server.url}`);
  try {
    await runConsumer({
      name: NAME,
      monitor,
      config,
      store,
      outbox,
      exchange: SALES_EXCHANGE,
      queue: OFFICE_QUEUE,
      routingKey: OFFICE_EVENTS,
      sendsTo: [{
        exchange: SALES_EXCHANGE,
        queue: INVENTORY_COMMAND_QUEUE,
        routingKey: STOCK_ADJUST,
      }],
      decode: decodeOfficeEvent,
      handle,
      onSetAside: (reason) =>
        log.error(`Rejected a message: ${printable(reason)}`),
    });
  } finally {
    clearTimeout(summaryDue);
    stream.close();
    await server.close();
    await unmark();
  }
}

async function main(): Promise<void> {
  const commandLine = parseCommandLine(program);
  const { values, positionals, config } = commandLine;
  if (positionals[0] === "outbox") return outboxCommand(NAME, commandLine);
  if (positionals.length > 0) {
    throw new UsageError(`Unknown command "${positionals[0]}": see --help`);
  }
  await serve(config, listenOf(values, readEnv));
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
