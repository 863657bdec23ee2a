/**
 * Point of Sale: rings up sales and publishes each to `sales_exchange` with
 * routing key `sale.created`. A sale is committed to the POS's own SQLite
 * file, with a sale id that never repeats, before it is published; it counts
 * as sent only once the broker has confirmed it.
 *
 *     deno task pos                         the article's key-press loop
 *     deno task pos -- --count N [--rate R] publish N sales, exit when confirmed
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  Decimal,
  decodeSale,
  encodeSale,
  SALE_CREATED,
  type SaleDetails,
  saleKey,
  SALES_EXCHANGE,
} from "../contracts/sale.ts";
import { connectBroker, Publisher, UnroutableError } from "../shared/broker.ts";
import { Outbox, type OutboxEntry, Relay } from "../shared/outbox.ts";
import {
  type Config,
  fail,
  onShutdown,
  parseCommandLine,
} from "../shared/service.ts";
import { openDatabase, transaction } from "../shared/store.ts";

const NAME = "pos";
/** The article's first sale id. */
const FIRST_SALE_ID = 10000;
const MAX_SALE_ID = 2_147_483_647;
const DEFAULT_STORE = "NEPAL-01";
const PROMPT = "Press a to add new item and q to cancel/stop: ";

const HELP = `
Point of Sale: publishes sales to "${SALES_EXCHANGE}" with "${SALE_CREATED}".

Usage:
  deno task pos [-- options]                press a to sell, q to stop
  deno task pos -- --count N [--rate R]     publish N sales and exit once
                                            the broker confirmed every one

Options:
  --count <n>        sales to publish, then exit
  --rate <r>         sales per second with --count; default as fast as confirmed
  --store <id>       the store's id; default ${DEFAULT_STORE}
  --quiet            with --count: print only the summary`;

/** The POS's database: its sales and their outbox. */
class Till {
  readonly #db: DatabaseSync;
  readonly #store: string;
  readonly #insertSale;
  readonly outbox: Outbox;

  constructor(db: DatabaseSync, store: string) {
    this.#db = db;
    this.#store = store;
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

  /** Rings up `count` sales in one transaction, each into the outbox. */
  ring(count = 1): SaleDetails[] {
    return transaction(this.#db, () =>
      Array.from({ length: count }, () => {
        const timestamp = new Date().toISOString();
        const total = Decimal.parse("10.0");
        const saleId = Number(
          this.#insertSale.run(this.#store, total.toString(), timestamp)
            .lastInsertRowid,
        );
        if (saleId > MAX_SALE_ID) {
          throw new RangeError(
            `Sale id ${saleId} does not fit a 32-bit SaleId: the id range is used up`,
          );
        }
        const sale = demoSale(saleId, this.#store, timestamp, total);
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

/** The article's sale: two items of five, 10.0 in all. */
function demoSale(
  saleId: number,
  storeId: string,
  timestamp: string,
  total: Decimal,
): SaleDetails {
  const n = 1 + saleId % 9;
  return {
    SaleId: saleId,
    StoreId: storeId,
    Items: [
      { Sku: `MILK00${n}`, Quantity: 5 },
      { Sku: `BREAD00${n}`, Quantity: 5 },
    ],
    Timestamp: timestamp,
    TotalAmount: total,
  };
}

function saleIds(entries: OutboxEntry[]): number[] {
  return entries.map((entry) => decodeSale(entry.body).SaleId);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function publishCount(
  till: Till,
  relay: Relay,
  options: { count: number; rate?: number },
): Promise<void> {
  const { count, rate } = options;
  const started = performance.now();
  if (rate === undefined) {
    till.ring(count);
    await relay.flush();
  } else {
    const flushes: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      till.ring(1);
      flushes.push(relay.flush());
    }
    await Promise.all(flushes);
    await relay.flush();
  }
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

async function interactive(till: Till, relay: Relay): Promise<void> {
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
        till.ring(1);
        try {
          await relay.flush();
        } catch (error) {
          console.error(`Error: ${describe(error)}`);
          if (error instanceof UnroutableError) {
            console.error("The sale is kept and sent with the next one.");
          }
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

async function main(
  config: Config,
  options: { count?: number; rate?: number; store: string; quiet: boolean },
): Promise<void> {
  const db = openDatabase({ dataDir: config.dataDir, name: NAME });
  const till = new Till(db, options.store);
  const connection = await connectBroker({ url: config.url, name: NAME });
  connection.on("error", () => {});
  const publisher = await Publisher.open(connection);
  await publisher.channel.assertExchange(SALES_EXCHANGE, "topic", {
    durable: true,
  });
  const relay = new Relay({
    outbox: till.outbox,
    publisher,
    onSent: options.quiet ? undefined : (entries) => {
      for (const id of saleIds(entries)) console.log(`Sent SaleEvent #${id}.`);
    },
  });
  try {
    // Sales left from an earlier run go first, in order.
    await relay.flush();
    if (options.count !== undefined) {
      await publishCount(till, relay, {
        count: options.count,
        rate: options.rate,
      });
    } else {
      await interactive(till, relay);
    }
  } finally {
    const waiting = till.outbox.countPending();
    if (waiting > 0) {
      console.error(
        `${waiting} sale(s) are waiting in the outbox; they are sent on the next start.`,
      );
    }
    await publisher.close();
    await connection.close().catch(() => {});
    db.close();
  }
}

function positiveNumber(
  name: string,
  text: unknown,
  integer: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0) || (integer && !Number.isSafeInteger(value))) {
    fail(
      NAME,
      `Invalid ${name} "${text}": use a positive ${
        integer ? "whole " : ""
      }number`,
      2,
    );
  }
  return value;
}

if (import.meta.main) {
  const { values, positionals, config } = parseCommandLine({
    name: NAME,
    help: HELP,
    options: {
      count: { type: "string" },
      rate: { type: "string" },
      store: { type: "string" },
      quiet: { type: "boolean" },
    },
  });
  if (positionals.length > 0) {
    fail(NAME, `Unknown command "${positionals[0]}": see --help`, 2);
  }
  const count = positiveNumber("count", values.count, true);
  const rate = positiveNumber("rate", values.rate, false);
  if (rate !== undefined && count === undefined) {
    fail(NAME, "--rate goes with --count", 2);
  }
  try {
    await main(config, {
      count,
      rate,
      store: String(values.store ?? DEFAULT_STORE),
      quiet: Boolean(values.quiet),
    });
  } catch (error) {
    fail(NAME, describe(error));
  }
}
