/**
 * Point of Sale: rings up sales priced from the catalog and publishes each
 * to `sales_exchange` with routing key `sale.created`. A sale is committed to
 * the POS's own SQLite file, with a sale id that never repeats, before it is
 * published; it counts as sent only once the broker has confirmed it.
 *
 *     deno task pos                              the article's key-press loop
 *     deno task pos -- --items "MILK-1L:2,EGGS-12:1"
 *     deno task pos -- --file sales.csv|sales.jsonl
 *     deno task pos -- --simulate --count N [--rate R]
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { type Basket, parseItems, priceItems } from "../contracts/basket.ts";
import {
  type Catalog,
  DEMO_CATALOG,
  parseCatalog,
} from "../contracts/catalog.ts";
import {
  code,
  decodeSale,
  DEFAULT_STORE,
  encodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
  saleSpanAttributes,
  tillId,
} from "../contracts/sale.ts";
import { parseSalesFile, type SalesFile } from "../contracts/sales_file.ts";
import { type Config, readEnv } from "../lib/config.ts";
import { serverVersion, stayConnected } from "../lib/connection.ts";
import { serveIfAsked } from "../lib/http_server.ts";
import { delay } from "../lib/delay.ts";
import {
  DeferredError,
  describeError,
  errorMessage,
  UnroutableError,
  UsageError,
} from "../lib/errors.ts";
import { backoff } from "../lib/backoff.ts";
import { isStoreFailure } from "../lib/database.ts";
import { keys } from "../lib/keys.ts";
import { runMain } from "../lib/main.ts";
import type { Log } from "../lib/log.ts";
import { Monitor } from "../lib/monitor.ts";
import { outboxCommand, outboxCommandOf } from "../lib/outbox_command.ts";
import { Outbox, type OutboxEntry } from "../lib/outbox.ts";
import { parseCommandLine, type Program } from "../lib/program.ts";
import { readInput } from "../lib/read_input.ts";
import { Relay, reportSetAside } from "../lib/relay.ts";
import { runSession } from "../lib/session.ts";
import { openStore, type Store } from "../lib/store.ts";
import { printable } from "../lib/printable.ts";
import { pruneEvery } from "../lib/prune.ts";
import { onShutdown } from "../lib/shutdown.ts";
import { declareExchange } from "../lib/topology.ts";
import {
  endSpan,
  type Span,
  startSpan,
  traceIdOf,
  TRACEPARENT,
  traceparentOf,
} from "../lib/tracing.ts";
import { wholeNumber } from "../lib/whole_number.ts";

const NAME = "pos";
/** The article's first sale id. */
const FIRST_SALE_ID = 10000;
const MAX_SALE_ID = 2_147_483_647;
const PROMPT = "Press a to add new item and q to cancel/stop: ";
/** Sales rung up in one transaction when many are made at once. */
const RING_CHUNK = 500;
/** Seconds a one-shot POS waits for a broker that does not answer. */
const DEFAULT_TIMEOUT_S = 30;

/** The POS's command line, and what it may read: its folder, the catalog, a file of sales. */
export const program: Program = {
  name: NAME,
  script: "services/pos.ts",
  settings: [
    "url",
    "dataDir",
    "databaseUrl",
    "httpPort",
    "httpHost",
    "retentionMs",
  ],
  env: ["CATALOG", "TILL_ID"],
  service: true,
  keepsData: true,
  options: {
    items: { type: "string" },
    file: { type: "string" },
    simulate: { type: "boolean" },
    count: { type: "string" },
    rate: { type: "string" },
    store: { type: "string" },
    till: { type: "string" },
    catalog: { type: "string" },
    quiet: { type: "boolean" },
    timeout: { type: "string" },
  },
  reads: ({ values }, env) => [
    values.file as string | undefined,
    catalogPath(values, env),
  ],
  commands: { outbox: outboxCommandOf(NAME) },
  help: `
Point of Sale: prices sales from the catalog and publishes them to
"${SALES_EXCHANGE}" with "${SALE_CREATED}".

Usage:
  deno task pos [-- options]                      press a to sell a random
                                                  basket, q to stop
  deno task pos -- --items "MILK-1L:2,EGGS-12:1"  one sale
  deno task pos -- --file sales.csv               many sales: every row is
  deno task pos -- --file sales.jsonl             checked first; bad rows are
                                                  reported by line, not sent
  deno task pos -- --simulate --count N [--rate R]
                                                  N random sales, R a second
Each exits once the broker has confirmed every sale it made.
  deno task pos -- outbox [list|replay]           what the relay set aside
                                                  (--help)

Options:
  --items <list>     SKU:quantity, comma-separated
  --file <path>      CSV (receipt,sku,quantity[,store]: lines of a receipt
                     are one sale) or JSON Lines ({"Items":[{"Sku","Quantity"}]})
  --simulate         random baskets from the catalog (with --count)
  --count <n>        how many; 0 sends what is waiting in the outbox and exits
  --rate <r>         sales per second; default as fast as confirmed
  --store <id>       the store's id; default ${DEFAULT_STORE}
  --till <id>        TILL_ID   this till's id, part of each sale's key, so the
                     tills of a store never clash; default: made at the
                     first start (till-1a2b3c4d) and kept in the till's data
  --catalog <path>   CATALOG   the catalog CSV; default contracts/catalog.csv
  --timeout <s>      with --items, --file, --count: how long to wait for a
                     broker that does not answer before exiting (code 75)
                     with the sales kept for the next start; default ${DEFAULT_TIMEOUT_S}
  --quiet            print only the summary`,
};

/** The catalog to price from: `--catalog`, else CATALOG, else the demo's. */
function catalogPath(
  values: Record<string, unknown>,
  env: (name: string) => string | undefined,
): string {
  return (values.catalog as string | undefined) ?? env("CATALOG") ??
    fileURLToPath(DEMO_CATALOG);
}

/** A basket a shopper might bring: one to five products, mostly one or two of each. */
function randomBasket(catalog: Catalog): Basket {
  const skus = [...catalog.products.keys()];
  const size = 1 + Math.floor(Math.random() * 5);
  const chosen = new Set<string>();
  while (chosen.size < Math.min(size, skus.length)) {
    chosen.add(skus[Math.floor(Math.random() * skus.length)]);
  }
  return {
    Items: [...chosen].map((Sku) => ({
      Sku,
      Quantity: 1 + Math.floor(Math.random() ** 3 * 4),
    })),
  };
}

/** The POS's store: its sales and their outbox. */
class Till {
  readonly #store: Store;
  readonly #shop: string;
  readonly #catalog: Catalog;
  readonly outbox: Outbox;
  /** This till's id, part of every sale's key. */
  readonly id: string;

  private constructor(
    store: Store,
    outbox: Outbox,
    options: { shop: string; catalog: Catalog; id: string },
  ) {
    this.#store = store;
    this.outbox = outbox;
    this.#shop = options.shop;
    this.#catalog = options.catalog;
    this.id = options.id;
  }

  /** Opens the till's tables in `store`, making them if need be. */
  static async open(
    store: Store,
    options: { store: string; catalog: Catalog; till?: string },
  ): Promise<Till> {
    if (store.dialect === "sqlite") {
      await store.exec(`CREATE TABLE IF NOT EXISTS sales (
        sale_id INTEGER PRIMARY KEY AUTOINCREMENT,
        store_id TEXT NOT NULL,
        total TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`);
      // AUTOINCREMENT never hands out an id twice, even after deletes.
      await store.exec(`INSERT INTO sqlite_sequence (name, seq)
        SELECT 'sales', ${FIRST_SALE_ID - 1}
        WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sales')`);
    } else {
      // The tills of a shop on one database share this sequence.
      await store.exec(`CREATE TABLE IF NOT EXISTS sales (
        sale_id BIGINT GENERATED BY DEFAULT AS IDENTITY
          (START WITH ${FIRST_SALE_ID}) PRIMARY KEY,
        store_id TEXT NOT NULL,
        total TEXT NOT NULL,
        created_at TEXT NOT NULL
      )`);
    }
    await store.exec("CREATE TABLE IF NOT EXISTS till (id TEXT NOT NULL)");
    return new Till(store, await Outbox.open(store), {
      shop: options.store,
      catalog: options.catalog,
      id: await Till.#identify(store, options.till),
    });
  }

  /**
   * The till's id: the one given, else the one kept from an earlier start,
   * else a new one, made once and kept, so that two tills with their own
   * data never share an id unless told to. Tills that share a PostgreSQL
   * database share its sale ids too: there, one without an id gets a new
   * one at each start.
   */
  static async #identify(
    store: Store,
    given: string | undefined,
  ): Promise<string> {
    const made = `till-${crypto.randomUUID().slice(0, 8)}`;
    if (store.dialect === "postgres") return given ?? made;
    const kept = (await store.get("SELECT id FROM till"))?.id;
    const id = given ?? (kept === undefined ? undefined : String(kept)) ?? made;
    if (id !== kept) {
      await store.transaction(async (tx) => {
        await tx.run("DELETE FROM till");
        await tx.run("INSERT INTO till (id) VALUES (?)", id);
      });
    }
    return id;
  }

  /** Random baskets from the catalog. */
  randomBaskets(count: number): Basket[] {
    return Array.from({ length: count }, () => randomBasket(this.#catalog));
  }

  /** Rings up baskets in one transaction, each priced, into the outbox. */
  ring(baskets: Basket[]): Promise<SaleDetails[]> {
    const spans: Span[] = [];
    return this.#store.transaction(async (tx) => {
      const sales: SaleDetails[] = [];
      for (const basket of baskets) {
        const { items, total } = priceItems(this.#catalog, basket);
        const storeId = basket.StoreId ?? this.#shop;
        const timestamp = new Date().toISOString();
        const saleId = await tx.insert(
          "INSERT INTO sales (store_id, total, created_at) VALUES (?, ?, ?) RETURNING sale_id",
          storeId,
          total.toString(),
          timestamp,
        );
        if (saleId > MAX_SALE_ID) {
          throw new RangeError(
            `Sale id ${saleId} does not fit a 32-bit SaleId: the id range is used up`,
          );
        }
        const sale: SaleDetails = {
          SaleId: saleId,
          StoreId: storeId,
          TillId: this.id,
          Items: items,
          Timestamp: timestamp,
          TotalAmount: total,
        };
        // A trace per sale, carried on by whoever handles it.
        const span = startSpan("pos sale", {
          attributes: {
            ...saleSpanAttributes({ SaleId: saleId, StoreId: storeId }),
            "shoppingapp.till_id": this.id,
          },
        });
        if (span) spans.push(span);
        await this.outbox.add(tx, {
          exchange: SALES_EXCHANGE,
          routingKey: SALE_CREATED,
          messageId: saleKey(sale),
          body: encodeSale(sale),
          headers: span && { [TRACEPARENT]: traceparentOf(span) },
        });
        sales.push(sale);
      }
      return sales;
    }).then((sales) => {
      for (const span of spans) endSpan(span);
      return sales;
    }, (error) => {
      for (const span of spans) endSpan(span, error);
      throw error;
    });
  }
}

/**
 * Sends the outbox in the background for as long as the POS runs: connects
 * (again and again, with backoff, when the broker is away) and relays what
 * is pending, in order. Whoever waits for a sale, or for the outbox to be
 * empty, waits on the relay.
 */
class Sender {
  readonly relay: Relay;
  /** The POS's log. */
  readonly log: Log;
  readonly #stop = new AbortController();
  readonly #running: Promise<void>;
  /** Resolves once it first can send, after its ready line. */
  readonly ready: Promise<void>;
  /** Rejects when sending cannot go on (credentials refused, a host not permitted). */
  readonly failed: Promise<never>;

  constructor(
    outbox: Outbox,
    config: Config,
    options: {
      quiet: boolean;
      monitor: Monitor;
      /** Told where it sends, once it first can. */
      onReady(where: string): void;
      /**
       * Milliseconds without a broker after which {@linkcode Sender.failed}
       * rejects with a {@linkcode DeferredError}; none when undefined.
       */
      timeoutMs?: number;
    },
  ) {
    const { monitor } = options;
    const { log } = monitor;
    this.log = log;
    const first = Promise.withResolvers<void>();
    this.ready = first.promise;
    this.relay = new Relay(outbox, {
      onSetAside: reportSetAside(log),
      storeFailing: isStoreFailure,
      onConfirm: (seconds) =>
        monitor.confirmSeconds.observe(monitor.labels, seconds),
      onSent: options.quiet ? undefined : (entries: OutboxEntry[]) =>
        log.lines(
          "info",
          entries.map((entry) => {
            const sale = decodeSale(entry.body);
            return {
              message: `Sent SaleEvent #${sale.SaleId}.`,
              saleId: sale.SaleId,
              store: sale.StoreId,
              traceId: traceIdOf(entry.headers?.[TRACEPARENT]),
            };
          }),
        ),
    });
    monitor.watchOutbox(outbox);
    this.#running = stayConnected({
      url: config.url,
      name: NAME,
      signal: this.#stop.signal,
      onRetry: monitor.onRetry(async () =>
        `${await outbox.countPending()} sale(s) waiting`
      ),
      session: (connection, ready) => {
        const broker = monitor.watchConnection(connection);
        connection.on("blocked", (reason: string) =>
          log.warn(
            `${NAME}: the broker blocked publishing (${reason}); sales wait in the outbox`,
          ));
        connection.on(
          "unblocked",
          () => log.warn(`${NAME}: the broker unblocked publishing`),
        );
        return runSession(connection, {
          signal: this.#stop.signal,
          relay: this.relay,
          declare: (channel) => declareExchange(channel, SALES_EXCHANGE),
          ready: () => {
            ready();
            monitor.setWorking(true);
            options.onReady(
              `at ${broker}, RabbitMQ ${serverVersion(connection)}`,
            );
            first.resolve();
          },
        });
      },
    });
    const gaveUp = Promise.withResolvers<never>();
    if (options.timeoutMs !== undefined) {
      const { timeoutMs } = options;
      let awaySince: number | undefined = performance.now();
      const watch = setInterval(() => {
        if (monitor.isConnected()) {
          awaySince = undefined;
        } else if (awaySince === undefined) {
          awaySince = performance.now();
        } else if (performance.now() - awaySince >= timeoutMs) {
          clearInterval(watch);
          gaveUp.reject(
            new DeferredError(
              `No broker answered within ${timeoutMs / 1000} s`,
            ),
          );
        }
      }, Math.min(250, timeoutMs));
      this.#running.finally(() => clearInterval(watch)).catch(() => {});
    }
    this.failed = Promise.race([
      this.#running.then(() => new Promise<never>(() => {})),
      gaveUp.promise,
    ]);
    this.failed.catch(() => {});
  }

  /**
   * Waits up to `timeoutMs` for the broker's word on a sale.
   *
   * @throws {UnroutableError} when no queue took it (it stays pending).
   */
  async waitSent(sale: SaleDetails, timeoutMs: number): Promise<void> {
    const key = saleKey(sale);
    const timeout = new AbortController();
    try {
      await Promise.race([
        this.relay.sent(key),
        delay(timeoutMs, { signal: timeout.signal }),
        this.failed,
      ]);
    } finally {
      timeout.abort();
      this.relay.forget(key);
    }
  }

  /**
   * Resolves once nothing is pending.
   *
   * @throws {UnroutableError} when a sale came back unroutable.
   */
  async drain(): Promise<void> {
    await Promise.race([this.relay.drained(), this.failed]);
  }

  /** Resolves once at most `limit` sales are pending. */
  async pendingAtMost(limit: number): Promise<void> {
    await Promise.race([this.relay.pendingAtMost(limit), this.failed]);
  }

  /** Stops after the publish under way; what is pending stays for the next start. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }
}

/**
 * Rings up baskets; while the till's own store fails (a database server
 * restarting), waits and tries again, saying so once: the sales are not
 * made until they can be kept.
 */
async function ringPatiently(
  till: Till,
  baskets: Basket[],
  log: Log,
): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await till.ring(baskets);
      if (attempt > 0) log.warn(`${NAME}: its store works again`);
      return;
    } catch (error) {
      if (!isStoreFailure(error)) throw error;
      if (attempt === 0) {
        log.error(
          `${NAME}: its store is failing (${
            describeError(error)
          }); the sales wait until it works`,
        );
      }
      await delay(backoff(attempt, { initial: 500, max: 10_000 }));
    }
  }
}

/** Rings up baskets, all at once or at `rate` a second, and waits for every confirm. */
async function ringAndSend(
  till: Till,
  sender: Sender,
  options: {
    /** Baskets `from` up to `to` of the `count`. */
    baskets: (from: number, to: number) => Basket[];
    count: number;
    rate?: number;
  },
): Promise<void> {
  const { count, rate } = options;
  // Rung up once the broker answers (soon): the sales are not held in the
  // outbox while the connection opens, the first of them timed from then.
  await readySoon(sender);
  const started = performance.now();
  if (rate === undefined) {
    // In chunks, a few ahead of the relay: it sends the first while the
    // next are rung up, and memory stays flat however many there are.
    for (let i = 0; i < count; i += RING_CHUNK) {
      await ringPatiently(
        till,
        options.baskets(i, Math.min(count, i + RING_CHUNK)),
        sender.log,
      );
      await sender.pendingAtMost(4 * RING_CHUNK);
    }
  } else {
    // Made as they fall due, not all at first: memory stays flat however
    // many; the ones due at once (the till fell behind) go in one commit.
    for (let i = 0; i < count;) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await delay(wait);
      const due = Math.floor((performance.now() - started) * rate / 1000) + 1;
      const to = Math.min(count, Math.max(i + 1, due), i + RING_CHUNK);
      await ringPatiently(till, options.baskets(i, to), sender.log);
      i = to;
    }
  }
  await sender.drain();
  const seconds = (performance.now() - started) / 1000;
  sender.log.info(
    `Sent ${count} sale(s), all confirmed by the broker, in ${
      seconds.toFixed(2)
    } s.`,
  );
}

/** Waits for the sender to be ready, for 2 s at most: it may be away for long. */
async function readySoon(sender: Sender): Promise<void> {
  await delay(2000, { until: sender.ready });
}

async function interactive(till: Till, sender: Sender): Promise<void> {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  const prompt = async () => {
    const waiting = await till.outbox.countPending();
    write(waiting > 0 ? `(${waiting} waiting) ${PROMPT}` : PROMPT);
  };
  let stop = false;
  const removeHandlers = onShutdown(() => {
    stop = true;
    // Ends the read of the next key or line.
    Deno.stdin.close();
    return Promise.resolve();
  });
  // The ready line first, when the broker answers soon; selling works
  // without it all the same.
  await readySoon(sender);
  await prompt();
  try {
    for await (const key of keys()) {
      if (Deno.stdin.isTerminal()) write(`${key}\n`);
      if (key === "q") break;
      if (key === "a") {
        const [sale] = await till.ring(till.randomBaskets(1));
        // The sale is safe in the outbox; wait a little for the broker's word.
        try {
          await sender.waitSent(sale, 2000);
        } catch (error) {
          if (!(error instanceof UnroutableError)) throw error;
          sender.log.error(
            `Error: ${error.message}. The sale is kept and sent again.`,
          );
        }
      } else if (key !== "" && key !== "\r" && key !== "\n") {
        sender.log.warn(`Unknown key "${key}": press a or q.`);
      }
      if (stop) break;
      await prompt();
    }
  } catch (error) {
    if (!stop) throw error;
  } finally {
    removeHandlers();
    // A terminal echoed the last key and its newline; anything else leaves
    // the prompt open, and the next line would start on it.
    if (!Deno.stdin.isTerminal()) write("\n");
  }
}

/** What to ring up, from the command line. */
type Mode =
  | { kind: "interactive" }
  | { kind: "simulate"; count: number; rate?: number }
  | { kind: "items"; basket: Basket }
  | { kind: "file"; path: string };

/** Reads the catalog; a bad file is a one-line error naming its rows. */
async function loadCatalog(path: string): Promise<Catalog> {
  return parseCatalog(await readInput(path), path);
}

async function sell(
  config: Config,
  options: {
    mode: Mode;
    store: string;
    till?: string;
    catalog: string;
    quiet: boolean;
    /** Seconds a one-shot POS waits for a broker. */
    timeoutS?: number;
  },
): Promise<void> {
  const { mode } = options;
  const monitor = new Monitor(NAME, {
    work: `publishing ${SALE_CREATED} to ${SALES_EXCHANGE}`,
  });
  const { log } = monitor;
  const catalog = await loadCatalog(options.catalog);
  // A file is read and checked whole before any sale is made from it.
  let imported: SalesFile | undefined;
  if (mode.kind === "file") {
    imported = parseSalesFile(await readInput(mode.path), mode.path, catalog);
    log.lines(
      "error",
      [...imported.problems, ...imported.skipped].map((message) => ({
        message,
      })),
    );
  } else if (mode.kind === "items") {
    priceItems(catalog, mode.basket);
  }
  const store = await openStore({
    name: NAME,
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
  });
  const till = await Till.open(store, {
    store: options.store,
    catalog,
    till: options.till,
  });
  const started = performance.now();
  const server = serveIfAsked(config, monitor);
  const stopPruning = pruneEvery(store, {
    retentionMs: config.retentionMs,
    tables: ["outbox"],
  });
  // Sales left from an earlier run go first, in order.
  let announced = false;
  const sender = new Sender(till.outbox, config, {
    quiet: options.quiet,
    monitor,
    timeoutMs: mode.kind === "interactive" || options.timeoutS === undefined
      ? undefined
      : options.timeoutS * 1000,
    onReady: (where) => {
      // A one-shot POS says what it sent, not where it runs.
      if (announced || mode.kind !== "interactive") return;
      announced = true;
      log.info(
        `${NAME} running as ${till.id} of ${options.store}: publishing ${SALE_CREATED} to ${SALES_EXCHANGE} ${where}; store ${store.where}.`,
      );
    },
  });
  let failure: { error: unknown } | undefined;
  let deferred: DeferredError | undefined;
  try {
    if (mode.kind === "simulate") {
      await ringAndSend(till, sender, {
        baskets: (from, to) => till.randomBaskets(to - from),
        count: mode.count,
        rate: mode.rate,
      });
    } else if (mode.kind === "items") {
      await ringAndSend(till, sender, {
        baskets: () => [mode.basket],
        count: 1,
      });
    } else if (imported) {
      const { baskets } = imported;
      await ringAndSend(till, sender, {
        baskets: (from, to) => baskets.slice(from, to),
        count: baskets.length,
      });
    } else {
      await Promise.race([interactive(till, sender), sender.failed]);
    }
  } catch (error) {
    if (!(error instanceof DeferredError)) throw error;
    deferred = error;
  } finally {
    monitor.setDraining();
    // After a failure that ends the POS, its one line says it all.
    failure = await sender.close().then(
      () => undefined,
      (error) => ({ error }),
    );
    const waiting = failure ? 0 : await till.outbox.countPending();
    if (deferred) {
      deferred = new DeferredError(
        `${deferred.message}: ${waiting} sale(s) are kept in the outbox and sent at the next start`,
      );
    } else if (waiting > 0) {
      log.warn(
        `${waiting} sale(s) are waiting in the outbox; they are sent on the next start.`,
      );
    }
    await server?.close();
    await stopPruning();
    await store.close();
    if (!options.quiet && mode.kind === "interactive") {
      log.info(
        `${NAME} stopped: up ${
          ((performance.now() - started) / 1000).toFixed(1)
        } s.`,
      );
    }
  }
  if (failure) throw failure.error;
  if (deferred) throw deferred;
  if (imported && imported.problems.length > 0) {
    throw new Error(
      `${imported.problems.length} bad row(s) in "${
        (mode as { path: string }).path
      }" were not sent`,
    );
  }
}

function parseMode(values: Record<string, unknown>): Mode {
  const count = values.count === undefined
    ? undefined
    : wholeNumber("count", values.count as string, {
      max: Number.MAX_SAFE_INTEGER,
    });
  let rate: number | undefined;
  if (values.rate !== undefined) {
    rate = Number(values.rate);
    if (!(rate > 0)) {
      throw new UsageError(
        `Invalid rate "${values.rate}": use a positive number`,
      );
    }
    if (count === undefined) throw new UsageError("--rate goes with --count");
  }
  const chosen = ["items", "file", "count"].filter((name) =>
    values[name] !== undefined
  );
  if (chosen.length > 1) {
    throw new UsageError(`Use one of --${chosen.join(", --")}, not several`);
  }
  if (values.simulate && count === undefined) {
    throw new UsageError("--simulate goes with --count");
  }
  if (count !== undefined) return { kind: "simulate", count, rate };
  if (typeof values.file === "string") {
    return { kind: "file", path: values.file };
  }
  if (typeof values.items === "string") {
    try {
      return { kind: "items", basket: parseItems(values.items) };
    } catch (error) {
      throw new UsageError(errorMessage(error), { cause: error });
    }
  }
  return { kind: "interactive" };
}

/** A value for a field of the sale, checked by its schema. */
function checked(
  schema: z.ZodType<string>,
  name: string,
  value: unknown,
): string {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new UsageError(
      `Invalid ${name} "${printable(String(value))}": ${
        result.error.issues[0].message
      }`,
    );
  }
  return result.data;
}

async function main(): Promise<void> {
  const commandLine = parseCommandLine(program);
  const { values, positionals, config } = commandLine;
  if (positionals[0] === "outbox") return outboxCommand(NAME, commandLine);
  if (positionals.length > 0) {
    throw new UsageError(`Unknown command "${positionals[0]}": see --help`);
  }
  const mode = parseMode(values);
  try {
    await sell(config, {
      mode,
      store: checked(code, "store", values.store ?? DEFAULT_STORE),
      till: values.till === undefined && readEnv("TILL_ID") === undefined
        ? undefined
        : checked(tillId, "till", values.till ?? readEnv("TILL_ID")),
      catalog: catalogPath(values, readEnv),
      quiet: Boolean(values.quiet),
      timeoutS: values.timeout === undefined
        ? DEFAULT_TIMEOUT_S
        : wholeNumber("timeout", values.timeout as string, { min: 1 }),
    });
  } finally {
    // Leave the terminal as it was found before saying why.
    if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
