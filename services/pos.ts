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
import type { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  type Catalog,
  DEMO_CATALOG,
  parseCatalog,
} from "../contracts/catalog.ts";
import { ContractError, parseCsv } from "../contracts/codec.ts";
import {
  code,
  Decimal,
  decodeSale,
  encodeSale,
  SALE_CREATED,
  type SaleDetails,
  type SaleItem,
  saleKey,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import {
  Publisher,
  sleep,
  stayConnected,
  type UnroutableError,
} from "../shared/broker.ts";
import { Outbox, type OutboxEntry, Relay } from "../shared/outbox.ts";
import {
  type Config,
  errorMessage,
  fail,
  onShutdown,
  parseCommandLine,
  readEnv,
  readInput,
  retrying,
} from "../shared/service.ts";
import { openDatabase, transaction } from "../shared/store.ts";

const NAME = "pos";
/** The article's first sale id. */
const FIRST_SALE_ID = 10000;
const MAX_SALE_ID = 2_147_483_647;
const DEFAULT_STORE = "NEPAL-01";
const PROMPT = "Press a to add new item and q to cancel/stop: ";
/** Sales rung up in one transaction when many are made at once. */
const RING_CHUNK = 500;

const HELP = `
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

Options:
  --items <list>     SKU:quantity, comma-separated
  --file <path>      CSV (receipt,sku,quantity[,store]: lines of a receipt
                     are one sale) or JSON Lines ({"Items":[{"Sku","Quantity"}]})
  --simulate         random baskets from the catalog (with --count)
  --count <n>        how many; 0 sends what is waiting in the outbox and exits
  --rate <r>         sales per second; default as fast as confirmed
  --store <id>       the store's id; default ${DEFAULT_STORE}
  --catalog <path>   CATALOG   the catalog CSV; default contracts/catalog.csv
  --quiet            print only the summary`;

/** What a customer takes to the till: SKUs and quantities, not yet priced. */
const BasketSchema = z.object({
  StoreId: code.optional(),
  Items: z.array(z.object({
    Sku: code,
    Quantity: z.int32().positive(),
  })).min(1).max(1000),
});

/** A basket to ring up. */
type Basket = z.infer<typeof BasketSchema>;

/** Reads the catalog; a bad file is a one-line error naming its rows. */
async function loadCatalog(path: string): Promise<Catalog> {
  return parseCatalog(await readInput(path), path);
}

/**
 * Prices a basket exactly: each item carries its unit price, and the total
 * is their sum times the quantities, in decimal.
 *
 * @throws {ContractError} for a SKU not in the catalog.
 */
function priceItems(catalog: Catalog, basket: Basket): {
  items: SaleItem[];
  total: Decimal;
} {
  let total = Decimal.of(0n, 2);
  const items = basket.Items.map(({ Sku, Quantity }) => {
    const product = catalog.products.get(Sku);
    if (!product) throw new ContractError(`Unknown SKU "${Sku}"`);
    total = total.add(product.unitPrice.times(Quantity));
    return { Sku, Quantity, UnitPrice: product.unitPrice };
  });
  return { items, total };
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

/**
 * Reads `--items "MILK-1L:2,BREAD-WHITE:1"`.
 *
 * @throws {ContractError} naming the part that is not `SKU:quantity`.
 */
function parseItems(text: string): Basket {
  const Items = text.split(",").map((part) => {
    const match = /^\s*([^:\s]+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!match || Number(match[2]) < 1) {
      throw new ContractError(
        `Invalid item "${part.trim()}": use SKU:quantity, e.g. MILK-1L:2`,
      );
    }
    return { Sku: match[1], Quantity: Number(match[2]) };
  });
  return checkBasket({ Items });
}

function checkBasket(value: unknown): Basket {
  const result = BasketSchema.safeParse(value);
  if (!result.success) {
    throw new ContractError(
      result.error.issues.map((issue) =>
        `${issue.path.join(".") || "sale"}: ${issue.message}`
      ).join("; "),
    );
  }
  return result.data;
}

/** A file of sales, checked row by row before anything is sent. */
interface Import {
  baskets: Basket[];
  /** One line per bad row: `sales.csv line 4: Unknown SKU "X"`. */
  problems: string[];
  /** One line per CSV receipt left out for a bad row. */
  skipped: string[];
}

/**
 * Reads sales from CSV (`receipt,sku,quantity[,store]`, the lines of one
 * receipt make one sale) or JSON Lines (one basket a line). A receipt with
 * any bad line is left out whole.
 */
function parseSalesFile(text: string, path: string, catalog: Catalog): Import {
  const baskets: Basket[] = [];
  const problems: string[] = [];
  const skipped: string[] = [];
  const check = (basket: Basket) => {
    priceItems(catalog, basket); // Unknown SKUs fail here, before sending.
    return basket;
  };
  if (/\.jsonl?$/i.test(path)) {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        baskets.push(check(checkBasket(JSON.parse(line))));
      } catch (error) {
        problems.push(`${path} line ${i + 1}: ${errorMessage(error)}`);
      }
    });
    return { baskets, problems, skipped };
  }
  const receipts = new Map<
    string,
    { lines: number[]; basket: Basket; bad: boolean }
  >();
  for (const { line, fields } of parseCsv(text, path)) {
    const receipt = fields.receipt ?? "";
    const entry = receipts.get(receipt) ??
      {
        lines: [],
        basket: { StoreId: fields.store || undefined, Items: [] },
        bad: false,
      };
    receipts.set(receipt, entry);
    entry.lines.push(line);
    try {
      if (!receipt) throw new ContractError("no receipt");
      const [item] = checkBasket({
        Items: [{ Sku: fields.sku, Quantity: Number(fields.quantity) }],
      }).Items;
      if (!/^\d+$/.test(fields.quantity ?? "")) {
        throw new ContractError(
          `quantity "${fields.quantity}" is not a whole number`,
        );
      }
      check({ Items: [item] });
      entry.basket.Items.push(item);
    } catch (error) {
      entry.bad = true;
      problems.push(`${path} line ${line}: ${errorMessage(error)}`);
    }
  }
  for (const [receipt, entry] of receipts) {
    if (entry.bad) {
      if (receipt) {
        skipped.push(
          `${path}: receipt "${receipt}" (lines ${
            entry.lines.join(", ")
          }) is not sent`,
        );
      }
      continue;
    }
    try {
      baskets.push(check(checkBasket(entry.basket)));
    } catch (error) {
      problems.push(`${path}: receipt "${receipt}": ${errorMessage(error)}`);
    }
  }
  return { baskets, problems, skipped };
}

/** The POS's database: its sales and their outbox. */
class Till {
  readonly #db: DatabaseSync;
  readonly #store: string;
  readonly #catalog: Catalog;
  readonly #insertSale;
  readonly outbox: Outbox;

  constructor(db: DatabaseSync, options: { store: string; catalog: Catalog }) {
    this.#db = db;
    this.#store = options.store;
    this.#catalog = options.catalog;
    db.exec(`CREATE TABLE IF NOT EXISTS sales (
      sale_id INTEGER PRIMARY KEY AUTOINCREMENT,
      store_id TEXT NOT NULL,
      total TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`);
    // AUTOINCREMENT never hands out an id twice, even after deletes.
    db.exec(`INSERT INTO sqlite_sequence (name, seq)
      SELECT 'sales', ${FIRST_SALE_ID - 1}
      WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sales')`);
    this.#insertSale = db.prepare(
      "INSERT INTO sales (store_id, total, created_at) VALUES (?, ?, ?)",
    );
    this.outbox = new Outbox(db);
  }

  /** Random baskets from the catalog. */
  randomBaskets(count: number): Basket[] {
    return Array.from({ length: count }, () => randomBasket(this.#catalog));
  }

  /** Rings up baskets in one transaction, each priced, into the outbox. */
  ring(baskets: Basket[]): SaleDetails[] {
    return transaction(this.#db, () =>
      baskets.map((basket) => {
        const { items, total } = priceItems(this.#catalog, basket);
        const storeId = basket.StoreId ?? this.#store;
        const timestamp = new Date().toISOString();
        const saleId = Number(
          this.#insertSale.run(storeId, total.toString(), timestamp)
            .lastInsertRowid,
        );
        if (saleId > MAX_SALE_ID) {
          throw new RangeError(
            `Sale id ${saleId} does not fit a 32-bit SaleId: the id range is used up`,
          );
        }
        const sale: SaleDetails = {
          SaleId: saleId,
          StoreId: storeId,
          Items: items,
          Timestamp: timestamp,
          TotalAmount: total,
        };
        this.outbox.add({
          exchange: SALES_EXCHANGE,
          routingKey: SALE_CREATED,
          messageId: saleKey(sale),
          body: encodeSale(sale),
        });
        return sale;
      }));
  }
}

/**
 * Sends the outbox in the background for as long as the POS runs: connects
 * (again and again, with backoff, when the broker is away), publishes what
 * is pending in order, and sleeps until a new sale wakes it.
 */
class Sender {
  readonly #till: Till;
  readonly #stop = new AbortController();
  readonly #waiters = new Map<string, () => void>();
  readonly #running: Promise<void>;
  /** The last unroutable failure, until a later send succeeds. */
  unroutable: UnroutableError | undefined;

  constructor(till: Till, config: Config, quiet: boolean) {
    this.#till = till;
    const onSent = (entries: OutboxEntry[]) => {
      this.unroutable = undefined;
      for (const entry of entries) {
        if (!quiet) {
          console.log(`Sent SaleEvent #${decodeSale(entry.body).SaleId}.`);
        }
        this.#waiters.get(entry.messageId)?.();
        this.#waiters.delete(entry.messageId);
      }
    };
    this.#running = stayConnected({
      url: config.url,
      name: NAME,
      signal: this.#stop.signal,
      onRetry: (message, delay) =>
        retrying(
          NAME,
          `${message}; ${till.outbox.countPending()} sale(s) waiting`,
          delay,
        ),
      session: async (connection) => {
        connection.on("blocked", (reason: string) =>
          console.error(
            `${NAME}: the broker blocked publishing (${reason}); sales wait in the outbox`,
          ));
        connection.on(
          "unblocked",
          () => console.error(`${NAME}: the broker unblocked publishing`),
        );
        const publisher = await Publisher.open(connection);
        try {
          await publisher.channel.assertExchange(SALES_EXCHANGE, "topic", {
            durable: true,
          });
          await new Relay({ outbox: till.outbox, publisher, onSent }).run({
            signal: this.#stop.signal,
            onUnroutable: (error) => this.unroutable = error,
          });
        } finally {
          await publisher.close();
        }
      },
    }).catch((error) => {
      // Leave the terminal as it was found before saying why.
      if (Deno.stdin.isTerminal()) Deno.stdin.setRaw(false);
      fail(NAME, error);
    });
  }

  /** Resolves once the sale is confirmed, or after `timeoutMs`. */
  async waitSent(sale: SaleDetails, timeoutMs: number): Promise<void> {
    const timeout = new AbortController();
    await Promise.race([
      new Promise<void>((resolve) => this.#waiters.set(saleKey(sale), resolve)),
      sleep(timeoutMs, timeout.signal),
    ]);
    timeout.abort();
    this.#waiters.delete(saleKey(sale));
  }

  /** Resolves once nothing is pending; rejects on an unroutable sale. */
  async drain(): Promise<void> {
    while (this.#till.outbox.countPending() > 0) {
      if (this.unroutable) throw this.unroutable;
      await sleep(20);
    }
  }

  /** Stops after the publish under way; what is pending stays for the next start. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
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
  const started = performance.now();
  if (rate === undefined) {
    // In chunks, a few ahead of the relay: it sends the first while the
    // next are rung up, and memory stays flat however many there are.
    for (let i = 0; i < count; i += RING_CHUNK) {
      till.ring(options.baskets(i, Math.min(count, i + RING_CHUNK)));
      while (till.outbox.countPending() > 4 * RING_CHUNK) await sleep(1);
    }
  } else {
    const baskets = options.baskets(0, count);
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      till.ring([baskets[i]]);
    }
  }
  await sender.drain();
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `Sent ${count} sale(s), all confirmed by the broker, in ${
      seconds.toFixed(2)
    } s.`,
  );
}

/** Keys one at a time from a terminal, or lines from a pipe or a file. */
async function* keys(): AsyncGenerator<string> {
  if (Deno.stdin.isTerminal()) {
    Deno.stdin.setRaw(true);
    try {
      const buffer = new Uint8Array(64);
      while (true) {
        const n = await Deno.stdin.read(buffer);
        if (n === null) return;
        for (const byte of buffer.subarray(0, n)) {
          // Ctrl+C and Ctrl+D arrive as bytes in raw mode: treat them as q.
          yield byte === 3 || byte === 4 ? "q" : String.fromCharCode(byte);
        }
      }
    } finally {
      Deno.stdin.setRaw(false);
    }
  }
  let pending = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    pending += chunk;
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline).trim().toLowerCase();
      pending = pending.slice(newline + 1);
    }
  }
  if (pending.trim()) yield pending.trim().toLowerCase();
}

async function interactive(till: Till, sender: Sender): Promise<void> {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  const prompt = () => {
    const waiting = till.outbox.countPending();
    write(waiting > 0 ? `(${waiting} waiting) ${PROMPT}` : PROMPT);
  };
  let stop = false;
  const removeHandlers = onShutdown(() => {
    stop = true;
    // Ends the read of the next key or line.
    Deno.stdin.close();
    return Promise.resolve();
  });
  prompt();
  try {
    for await (const key of keys()) {
      if (Deno.stdin.isTerminal()) write(`${key}\n`);
      if (key === "q") break;
      if (key === "a") {
        const [sale] = till.ring(till.randomBaskets(1));
        // The sale is safe in the outbox; wait a little for the broker's word.
        await sender.waitSent(sale, 2000);
        if (sender.unroutable) {
          console.error(
            `Error: ${sender.unroutable.message}. The sale is kept and sent again.`,
          );
        }
      } else if (key !== "" && key !== "\r" && key !== "\n") {
        console.error(`Unknown key "${key}": press a or q.`);
      }
      if (stop) break;
      prompt();
    }
  } catch (error) {
    if (!stop) throw error;
  } finally {
    removeHandlers();
  }
}

/** What to ring up, from the command line. */
type Mode =
  | { kind: "interactive" }
  | { kind: "simulate"; count: number; rate?: number }
  | { kind: "items"; basket: Basket }
  | { kind: "file"; path: string };

async function main(
  config: Config,
  options: { mode: Mode; store: string; catalog: string; quiet: boolean },
): Promise<void> {
  const { mode } = options;
  const catalog = await loadCatalog(options.catalog);
  // A file is read and checked whole before any sale is made from it.
  let imported: Import | undefined;
  if (mode.kind === "file") {
    imported = parseSalesFile(await readInput(mode.path), mode.path, catalog);
    for (const line of [...imported.problems, ...imported.skipped]) {
      console.error(line);
    }
  } else if (mode.kind === "items") {
    priceItems(catalog, mode.basket);
  }
  const db = openDatabase({ dataDir: config.dataDir, name: NAME });
  const till = new Till(db, { store: options.store, catalog });
  // Sales left from an earlier run go first, in order.
  const sender = new Sender(till, config, options.quiet);
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
      await interactive(till, sender);
    }
  } finally {
    await sender.close();
    const waiting = till.outbox.countPending();
    if (waiting > 0) {
      console.error(
        `${waiting} sale(s) are waiting in the outbox; they are sent on the next start.`,
      );
    }
    db.close();
  }
  if (imported && imported.problems.length > 0) {
    fail(
      NAME,
      `${imported.problems.length} bad row(s) in "${
        (mode as { path: string }).path
      }" were not sent`,
    );
  }
}

function wholeNumber(name: string, text: unknown): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    fail(NAME, `Invalid ${name} "${text}": use a whole number`, 2);
  }
  return value;
}

function parseMode(values: Record<string, unknown>): Mode {
  const count = wholeNumber("count", values.count);
  let rate: number | undefined;
  if (values.rate !== undefined) {
    rate = Number(values.rate);
    if (!(rate > 0)) {
      fail(NAME, `Invalid rate "${values.rate}": use a positive number`, 2);
    }
    if (count === undefined) fail(NAME, "--rate goes with --count", 2);
  }
  const chosen = ["items", "file", "count"].filter((name) =>
    values[name] !== undefined
  );
  if (chosen.length > 1) {
    fail(NAME, `Use one of --${chosen.join(", --")}, not several`, 2);
  }
  if (values.simulate && count === undefined) {
    fail(NAME, "--simulate goes with --count", 2);
  }
  if (count !== undefined) return { kind: "simulate", count, rate };
  if (typeof values.file === "string") {
    return { kind: "file", path: values.file };
  }
  if (typeof values.items === "string") {
    try {
      return { kind: "items", basket: parseItems(values.items) };
    } catch (error) {
      fail(NAME, error, 2);
    }
  }
  return { kind: "interactive" };
}

if (import.meta.main) {
  const { values, positionals, config } = parseCommandLine({
    name: NAME,
    help: HELP,
    options: {
      items: { type: "string" },
      file: { type: "string" },
      simulate: { type: "boolean" },
      count: { type: "string" },
      rate: { type: "string" },
      store: { type: "string" },
      catalog: { type: "string" },
      quiet: { type: "boolean" },
    },
  });
  if (positionals.length > 0) {
    fail(NAME, `Unknown command "${positionals[0]}": see --help`, 2);
  }
  const mode = parseMode(values);
  try {
    await main(config, {
      mode,
      store: String(values.store ?? DEFAULT_STORE),
      catalog: String(
        values.catalog ?? readEnv("CATALOG") ?? fileURLToPath(DEMO_CATALOG),
      ),
      quiet: Boolean(values.quiet),
    });
  } catch (error) {
    fail(NAME, error);
  }
}
