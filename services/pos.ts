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
import {
  Publisher,
  sleep,
  stayConnected,
  UnroutableError,
} from "../shared/broker.ts";
import { Outbox, type OutboxEntry, Relay } from "../shared/outbox.ts";
import {
  type Config,
  fail,
  onShutdown,
  parseCommandLine,
  retrying,
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
  --count <n>        sales to publish, then exit once all are confirmed;
                     0 sends what is waiting in the outbox and exits
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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  #wake: () => void = () => {};
  /** The last unroutable failure, until a later send succeeds. */
  unroutable: Error | undefined;

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
          const relay = new Relay({ outbox: till.outbox, publisher, onSent });
          while (!this.#stop.signal.aborted) {
            const woken = new Promise<void>((resolve) => this.#wake = resolve);
            let wait = 1000;
            try {
              await relay.flush();
            } catch (error) {
              if (!(error instanceof UnroutableError)) throw error;
              this.unroutable = error;
              wait = 5000;
            }
            await Promise.race([woken, sleep(wait, this.#stop.signal)]);
          }
        } finally {
          await publisher.close();
        }
      },
    }).catch((error) => fail(NAME, describe(error)));
  }

  /** Wakes the sender for new sales. */
  kick(): void {
    this.#wake();
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
      this.kick();
      await sleep(20);
    }
  }

  /** Stops after the publish under way; what is pending stays for the next start. */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#wake();
    await this.#running;
  }
}

async function publishCount(
  till: Till,
  sender: Sender,
  options: { count: number; rate?: number },
): Promise<void> {
  const { count, rate } = options;
  const started = performance.now();
  if (rate === undefined) {
    if (count > 0) till.ring(count);
    sender.kick();
  } else {
    for (let i = 0; i < count; i++) {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      till.ring(1);
      sender.kick();
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
        const [sale] = till.ring(1);
        sender.kick();
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

async function main(
  config: Config,
  options: { count?: number; rate?: number; store: string; quiet: boolean },
): Promise<void> {
  const db = openDatabase({ dataDir: config.dataDir, name: NAME });
  const till = new Till(db, options.store);
  // Sales left from an earlier run go first, in order.
  const sender = new Sender(till, config, options.quiet);
  try {
    if (options.count !== undefined) {
      await publishCount(till, sender, {
        count: options.count,
        rate: options.rate,
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
}

function positiveNumber(
  name: string,
  text: unknown,
  integer: boolean,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  const valid = integer ? Number.isSafeInteger(value) && value >= 0 : value > 0;
  if (!valid) {
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
