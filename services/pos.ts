/**
 * Point of Sale: rings up sales priced from the catalog and publishes each
 * to `sales_exchange` with routing key `sale.created`. A sale is committed to
 * the POS's own SQLite file, with a sale id that never repeats, before it is
 * published; it counts as sent only once the broker has confirmed it.
 *
 *     deno task pos                              the article's key-press loop
 *     deno task pos -- --items "MILK-1L:2,EGGS-12:1"
 *     deno task pos -- --file sales.csv|sales.jsonl
 *     deno task pos -- --count N [--rate R]
 *
 * @module
 */
import { type Basket, parseItems, priceItems } from "../contracts/basket.ts";
import { type Catalog, parseCatalog } from "../contracts/catalog.ts";
import {
  code,
  decodeSale,
  DEFAULT_STORE,
  SALE_CREATED,
  saleKey,
  SALES_EXCHANGE,
  tillId,
} from "../contracts/sale.ts";
import { parseSalesFile, type SalesFile } from "../contracts/sales_file.ts";
import { type Config, positiveNumber, wholeNumber } from "../lib/config/mod.ts";
import { declareTopology } from "../lib/messaging/mod.ts";
import { Monitor, traceIdOf, TRACEPARENT } from "../lib/observability/mod.ts";
import {
  errorMessage,
  formatMoney,
  type MoneyFormat,
  paced,
  UnroutableError,
  UsageError,
} from "../lib/core/mod.ts";
import { openStore, whileStoreFails } from "../lib/store/mod.ts";
import {
  checkedOption,
  type CommandLine,
  keyPrompt,
  readInput,
} from "../lib/cli/mod.ts";
import { Host, serviceMain } from "../lib/host/mod.ts";
import { DEFAULT_TIMEOUT_S, program } from "../lib/programs/pos.ts";
import {
  formatRanges,
  type IdRanges,
  parseRanges,
  toRanges,
} from "../contracts/till.ts";
import { type Closed, missingOf } from "./pos/day_close.ts";
import { Till } from "./pos/till.ts";

const NAME = program.name;
const PROMPT =
  "Press a to add new item, c to close the day and q to cancel/stop: ";
/** Sales rung up in one transaction when many are made at once. */
const RING_CHUNK = 500;

/** The POS's command line, declared in `lib/programs/pos.ts`. */
export { program };
export { Till };

/** What a one-shot mode rings up. */
interface Run {
  /** Baskets `from` up to `to` of the `count`. */
  baskets: (from: number, to: number) => Basket[];
  count: number;
  /** Sales a second; as fast as confirmed when undefined. */
  rate?: number;
}

/** The run of a one-shot mode; undefined for the key-press loop. */
function runOf(mode: Mode, till: Till, file?: SalesFile): Run | undefined {
  switch (mode.kind) {
    case "interactive":
    case "close":
    case "resend":
      return undefined;
    case "simulate":
      return { ...mode, baskets: (from, to) => till.randomBaskets(to - from) };
    case "items":
      return { count: 1, baskets: () => [mode.basket] };
    case "file":
      return {
        count: file!.baskets.length,
        baskets: (from, to) => file!.baskets.slice(from, to),
      };
  }
}

/** Rings up baskets, all at once or at `rate` a second, and waits for every confirm. */
async function ringAndSend(
  till: Till,
  host: Host,
  options: Run,
): Promise<void> {
  const { count, rate } = options;
  // Rung up once the broker answers (soon): the sales are not held in the
  // outbox while the connection opens, the first of them timed from then.
  await host.readyWithin(2000);
  const started = performance.now();
  // In chunks, a few ahead of the relay, which sends the first while the
  // next are rung up; or made as they fall due.
  await paced({
    count,
    rate,
    chunk: RING_CHUNK,
    between: () => host.pendingAtMost(4 * RING_CHUNK),
  }, (from, to) =>
    // While the till's own store fails (a database server restarting), the
    // sales wait: they are not made until they can be kept.
    whileStoreFails(() => till.ring(options.baskets(from, to)), {
      log: host.log,
      name: NAME,
      waiting: "the sales wait until it works",
    }));
  await host.drain();
  const seconds = (performance.now() - started) / 1000;
  host.log.info(
    `Sent ${count} sale(s), all confirmed by the broker, in ${
      seconds.toFixed(2)
    } s.`,
  );
}

/** The article's loop: a random basket for each `a`, until `q`. */
function interactive(
  till: Till,
  host: Host,
  money: MoneyFormat,
): Promise<void> {
  return keyPrompt({
    // The ready line first, when the broker answers soon; selling works
    // without it all the same.
    ready: host.readyWithin(2000),
    prompt: async () => {
      const waiting = await till.outbox.countPending();
      return waiting > 0 ? `(${waiting} waiting) ${PROMPT}` : PROMPT;
    },
    onKey: async (key) => {
      if (key === "q") return false;
      if (key === "c") {
        const closed = await till.close();
        host.log.info(closeLine(till, closed, money));
        return true;
      }
      if (key === "a") {
        const [sale] = await till.ring(till.randomBaskets(1));
        // The sale is safe in the outbox; wait a little for the broker's word.
        try {
          await host.waitSent(saleKey(sale), 2000);
        } catch (error) {
          if (!(error instanceof UnroutableError)) throw error;
          host.log.error(
            `Error: ${error.message}. The sale is kept and sent again.`,
          );
        }
      } else if (key !== "" && key !== "\r" && key !== "\n") {
        host.log.warn(`Unknown key "${key}": press a, c or q.`);
      }
      return true;
    },
  });
}

/** What to ring up, from the command line; or the day's close, or sales sent again. */
type Mode =
  | { kind: "interactive" }
  | { kind: "simulate"; count: number; rate?: number }
  | { kind: "items"; basket: Basket }
  | { kind: "file"; path: string }
  | { kind: "close" }
  | { kind: "resend"; ids?: IdRanges };

/** The close's line. */
function closeLine(
  till: Till,
  { close, again }: Closed,
  money: MoneyFormat,
): string {
  return again
    ? `Day ${close.BusinessDay} of till ${till.id} was closed at ${close.ClosedAt}, and nothing sold since: its close is sent again.`
    : `Closed day ${close.BusinessDay} of till ${till.id} (${close.StoreId}) at ${close.ClosedAt}: ${close.Count} sale(s), ${
      formatMoney(close.TotalAmount, money)
    }${
      close.SaleIds.length > 0 ? `, ids ${formatRanges(close.SaleIds)}` : ""
    }.`;
}

/** Closes the day and waits for the broker's confirm of the close. */
async function closeAndSend(
  till: Till,
  host: Host,
  money: MoneyFormat,
): Promise<void> {
  await host.readyWithin(2000);
  const closed = await till.close();
  await host.drain();
  host.log.info(`${closeLine(till, closed, money)} Sent.`);
}

/** Sends stored sales again and waits for every confirm. */
async function resendAndSend(
  till: Till,
  host: Host,
  ranges: IdRanges,
): Promise<void> {
  await host.readyWithin(2000);
  const { sent, unknown, gone } = await till.resend(ranges);
  if (unknown.length > 0) {
    host.log.warn(
      `Not sold by till ${till.id}, not sent: ${
        formatRanges(toRanges(unknown))
      }`,
    );
  }
  if (gone.length > 0) {
    host.log.error(
      `No longer kept (older than RETENTION), not sent: ${
        formatRanges(toRanges(gone))
      }`,
    );
  }
  await host.drain();
  host.log.info(
    `Sent ${sent.length} sale(s) again${
      sent.length > 0 ? ` (${formatRanges(toRanges(sent))})` : ""
    }, all confirmed by the broker.`,
  );
}

async function sell(
  config: Config,
  options: {
    mode: Mode;
    store: string;
    till?: string;
    /** The catalog's path; none for a close or a resend. */
    catalog?: string;
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
  // A bad catalog is a one-line error naming its rows. A close or a resend
  // prices nothing.
  const catalog: Catalog = options.catalog === undefined
    ? { products: new Map(), currency: "" }
    : parseCatalog(await readInput(options.catalog), options.catalog);
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
  const store = await openStore({ name: NAME, ...config });
  const till = await Till.open(store, {
    store: options.store,
    catalog,
    till: options.till,
  });
  const host = await Host.open({
    name: NAME,
    config,
    store,
    outbox: till.outbox,
    monitor,
    pruned: ["outbox"],
    item: "sale",
    // Said where the sale waits: at the till, or as the run's error.
    onUnroutable: () => {},
    timeoutMs: mode.kind === "interactive" || options.timeoutS === undefined
      ? undefined
      : options.timeoutS * 1000,
    sentLine: options.quiet ? undefined : (entry) => {
      // A close says itself when it is made.
      if (entry.routingKey !== SALE_CREATED) return undefined;
      const sale = decodeSale(entry.body);
      return {
        message: `Sent SaleEvent #${sale.SaleId}.`,
        saleId: sale.SaleId,
        store: sale.StoreId,
        traceId: traceIdOf(entry.headers?.[TRACEPARENT]),
      };
    },
  });
  // Sales left from an earlier run go first, in order.
  host.start({
    declare: async (_channel, connection) => {
      await declareTopology(connection, { exchanges: [SALES_EXCHANGE] });
    },
    onReady: (where, first) => {
      // A one-shot POS says what it sent, not where it runs.
      if (!first || mode.kind !== "interactive") return;
      log.info(
        `${NAME} running as ${till.id} of ${options.store}: publishing ${SALE_CREATED} to ${SALES_EXCHANGE} ${where}; store ${store.where}.`,
      );
    },
  });
  const run = runOf(mode, till, imported);
  let ranges: IdRanges | undefined;
  if (mode.kind === "resend") {
    ranges = mode.ids;
    if (ranges === undefined) {
      const missing = await missingOf(config, till.id);
      for (const line of missing.said) log.info(line);
      ranges = missing.ranges;
    }
  }
  try {
    await host.runThenClose(() =>
      mode.kind === "close"
        ? closeAndSend(till, host, config.money)
        : ranges !== undefined
        ? resendAndSend(till, host, ranges)
        : run
        ? ringAndSend(till, host, run)
        : Promise.race([interactive(till, host, config.money), host.failed])
    );
  } finally {
    if (!options.quiet && mode.kind === "interactive") {
      log.info(
        `${NAME} stopped: ${till.rung} sale(s) rung up, ${host.sent} message(s) confirmed by the broker, up ${host.upSeconds} s.`,
      );
    }
  }
  const bad = imported?.problems.length ?? 0;
  if (mode.kind === "file" && bad > 0) {
    throw new Error(`${bad} bad row(s) in "${mode.path}" were not sent`);
  }
}

/** The mode the flags ask for; which go together is declared with them. */
function parseMode(values: Record<string, unknown>): Mode {
  if (values.count !== undefined) {
    return {
      kind: "simulate",
      count: wholeNumber("count", values.count as string, {
        max: Number.MAX_SAFE_INTEGER,
      }),
      rate: values.rate === undefined
        ? undefined
        : positiveNumber("rate", values.rate as string),
    };
  }
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

/** The POS as its command line asks for it: selling, or `mode`. */
async function run(
  { values, own, config }: CommandLine,
  mode: Mode = parseMode(values),
): Promise<void> {
  try {
    await sell(config, {
      mode,
      store: checkedOption(code, "store", values.store ?? DEFAULT_STORE),
      till: own.till === undefined
        ? undefined
        : checkedOption(tillId, "till", own.till),
      catalog: own.catalog,
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

/** The ids `resend` sends: `--ids`, or `--missing`'s (read when it runs). */
function resendMode(values: Record<string, unknown>): Mode {
  const { ids, missing } = values;
  if ((ids === undefined) === !missing) {
    throw new UsageError(
      "resend takes --ids <ranges> or --missing: one of them",
    );
  }
  if (ids === undefined) return { kind: "resend" };
  try {
    return { kind: "resend", ids: parseRanges(ids as string) };
  } catch (error) {
    throw new UsageError(`Invalid --ids: ${errorMessage(error)}`);
  }
}

if (import.meta.main) {
  Deno.exit(
    await serviceMain(program, {
      serve: (commandLine) => run(commandLine),
      commands: {
        close: (commandLine) => run(commandLine, { kind: "close" }),
        resend: (commandLine) =>
          run(commandLine, resendMode(commandLine.values)),
      },
    }),
  );
}
