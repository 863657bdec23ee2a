/**
 * The same durable work as the pipeline, written by hand with nothing
 * clever and nothing checked: the yardstick the pipeline is measured
 * against. Three processes, as in the pipeline:
 *
 *     deno run -A bench/hand.ts pos <url> <dir> <count> [rate]
 *     deno run -A bench/hand.ts billing|inventory <url> <dir> <count> [rate]
 *
 * The POS commits each chunk of 500 sales to a SQLite outbox (WAL,
 * synchronous=FULL), each naming the till's sale before it, publishes them
 * persistent and mandatory with streamed confirms, and marks the confirmed
 * ones sent in one transaction per turn of the event loop. Each consumer
 * takes the deliveries of one turn (prefetch 200), reads each sale with the
 * contract's checks (`decodeSale`, as the pipeline does), and in one
 * transaction claims it in an inbox with its body's digest, records it in
 * the day close's ledger, and does its work: Billing bumps the store's
 * invoice counter, inserts the invoice and an outbox row for each sale;
 * Inventory upserts each item's stock and puts one `inventory.stock.changed`
 * per store of the batch in its outbox, with the levels after it. It
 * commits, acks with `multiple`, prints the article's line for each sale in
 * one write, publishes its events with confirms and marks them sent.
 *
 * What the pipeline does beyond this (metrics, the trace context it looks
 * for while tracing is off, delivery counts, the retry and its middleware)
 * is the pipeline's cost, not the yardstick's. Each prints `ready`, and
 * `done <epoch ms>` once it has committed `count` sales (the POS: `start
 * <epoch ms>` first). With a rate, the POS rings each sale up as it falls
 * due, and each consumer prints, before `done`, `latency {saleId: ms}`:
 * from rung up to its commit.
 *
 * With `HAND_LOAD_ZOD=1` each process also loads zod, and uses none of it:
 * what the validator the services must use costs in memory by itself.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { createHash } from "node:crypto";
import { connect, type ConsumeMessage } from "amqplib";
import { decodeSale, type SaleDetails } from "../contracts/sale.ts";

const [role, url, dir, countText, rateText] = Deno.args;
if (Deno.env.get("HAND_LOAD_ZOD") === "1") await import("zod");
const count = Number(countText);
/** Sales a second for a paced POS: each rung up as it falls due. */
const rate = rateText === undefined ? undefined : Number(rateText);
/** Now, in epoch milliseconds with a fraction: for latency. */
const now = () => performance.timeOrigin + performance.now();
const EXCHANGE = "hand_exchange";
const QUEUES = { billing: "hand_billing", inventory: "hand_inventory" };

/** `done <epoch ms> cpu <ms> hwm <KiB>`: when, and what it cost so far. */
function doneLine(): string {
  const { user, system } = process.cpuUsage();
  const status = Deno.readTextFileSync("/proc/self/status");
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return `done ${Date.now()} cpu ${(user + system) / 1000} hwm ${hwm}`;
}

function open(name: string): DatabaseSync {
  Deno.mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(`${dir}/${name}.db`);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
  db.exec(`CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY,
    body BLOB NOT NULL, sent INTEGER NOT NULL DEFAULT 0)`);
  return db;
}

function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

const connection = await connect(url, { noDelay: true });
const channel = await connection.createConfirmChannel();
await channel.assertExchange(EXCHANGE, "topic", { durable: true });

/**
 * A consumer's events: `add` puts one in the outbox inside the batch's
 * transaction; `send` publishes the batch's, after its commit.
 */
function eventOutbox(db: DatabaseSync, routingKey: string) {
  const insert = db.prepare(
    "INSERT INTO outbox (body) VALUES (?) RETURNING id",
  );
  const publish = relay(db, routingKey, false);
  let made: { id: number; body: Buffer }[] = [];
  return {
    add(body: Buffer): void {
      made.push({ id: (insert.get(body) as { id: number }).id, body });
    },
    send(): void {
      publish(made).catch((error) => console.error(error));
      made = [];
    },
  };
}

/** Publishes outbox rows with confirms; marks them sent once per turn. */
function relay(db: DatabaseSync, routingKey: string, mandatory: boolean) {
  const markSent = db.prepare("UPDATE outbox SET sent = 1 WHERE id = ?");
  let confirmed: number[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const ids = confirmed;
    confirmed = [];
    inTransaction(db, () => ids.forEach((id) => markSent.run(id)));
  };
  return (rows: { id: number; body: Buffer }[]) =>
    Promise.all(rows.map((row) =>
      new Promise<void>((resolve, reject) => {
        channel.publish(EXCHANGE, routingKey, row.body, {
          persistent: true,
          mandatory,
          contentType: "application/json",
        }, (error: unknown) => {
          if (error) return reject(error);
          confirmed.push(row.id);
          if (!scheduled) {
            scheduled = true;
            setTimeout(flush, 0);
          }
          resolve();
        });
      })
    ));
}

if (role === "pos") {
  const db = open("pos");
  db.exec(`CREATE TABLE IF NOT EXISTS sales (id INTEGER PRIMARY KEY,
    store TEXT NOT NULL, total TEXT NOT NULL, at TEXT NOT NULL)`);
  const insertSale = db.prepare(
    "INSERT INTO sales (store, total, at) VALUES (?, ?, ?) RETURNING id",
  );
  const insertOutbox = db.prepare(
    "INSERT INTO outbox (body) VALUES (?) RETURNING id",
  );
  const send = relay(db, "sale.created", true);
  console.log(`start ${Date.now()}`);
  let previous: number | undefined;
  let inFlight: Promise<unknown>[] = [];
  const started = performance.now();
  for (let i = 0; i < count;) {
    let chunk = Math.min(500, count - i);
    if (rate !== undefined) {
      // Paced: the sales that fall due together go in one commit.
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const due = Math.floor((performance.now() - started) * rate / 1000) + 1;
      chunk = Math.max(1, Math.min(count, due, i + 500) - i);
    }
    i += chunk;
    const rows = inTransaction(
      db,
      () =>
        Array.from({ length: chunk }, () => {
          const at = new Date().toISOString();
          const { id } = insertSale.get("NEPAL-01", "897.00", at) as {
            id: number;
          };
          const body = Buffer.from(JSON.stringify({
            SaleId: id,
            StoreId: "NEPAL-01",
            TillId: "till-hand",
            ...previous === undefined ? {} : { PreviousSaleId: previous },
            Items: [
              { Sku: "MILK-1L", Quantity: 2, UnitPrice: 110.00 },
              { Sku: "EGGS-12", Quantity: 1, UnitPrice: 216.00 },
              { Sku: "TEA-500G", Quantity: 1, UnitPrice: 450.00 },
            ],
            Timestamp: at,
            TotalAmount: 886.00,
            // Rung up, to the fraction of a millisecond, for latency.
            RungAt: now(),
          }));
          previous = id;
          return {
            id: (insertOutbox.get(body) as { id: number }).id,
            body,
          };
        }),
    );
    inFlight.push(send(rows));
    // A few chunks ahead of the confirms, as the pipeline's POS.
    if (inFlight.length > 4) await inFlight.shift();
  }
  await Promise.all(inFlight);
  inFlight = [];
  console.log(doneLine());
} else {
  const db = open(role);
  db.exec(`CREATE TABLE IF NOT EXISTS inbox (key TEXT PRIMARY KEY,
    digest TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ledger (till TEXT NOT NULL, sale INTEGER NOT NULL,
    store TEXT NOT NULL, amount TEXT NOT NULL, previous INTEGER,
    at TEXT NOT NULL, PRIMARY KEY (till, sale)) WITHOUT ROWID`);
  const claim = db.prepare(
    "INSERT INTO inbox (key, digest, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  /** The day close's ledger: the batch's sales in one statement. */
  const record = (sales: SaleDetails[], at: string) => {
    if (sales.length === 0) return;
    db.prepare(
      `INSERT INTO ledger VALUES ${
        sales.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")
      } ON CONFLICT DO NOTHING`,
    ).run(
      ...sales.flatMap((sale) => [
        sale.TillId ?? "",
        sale.SaleId,
        sale.StoreId,
        sale.TotalAmount.toString(),
        sale.PreviousSaleId ?? null,
        at,
      ]),
    );
  };
  /** Claims a sale by its key and digest; false when it was handled before. */
  const claimed = (sale: SaleDetails, body: Uint8Array, at: string) =>
    claim.run(
      `${sale.StoreId}:${sale.SaleId}@${sale.TillId}`,
      createHash("sha256").update(body).digest("hex").slice(0, 32),
      at,
    ).changes > 0;
  const queue = QUEUES[role as keyof typeof QUEUES];
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, EXCHANGE, "sale.created");
  await channel.prefetch(200);
  let handle: (
    sales: { sale: SaleDetails; body: Uint8Array }[],
    at: string,
  ) => string[];
  let after = (): void => {};
  if (role === "billing") {
    db.exec(`CREATE TABLE IF NOT EXISTS counter (store TEXT PRIMARY KEY,
      last INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS invoice (number TEXT PRIMARY KEY,
      sale INTEGER NOT NULL, document TEXT NOT NULL) WITHOUT ROWID`);
    const bump = db.prepare(`INSERT INTO counter (store, last) VALUES (?, 1)
      ON CONFLICT (store) DO UPDATE SET last = last + 1 RETURNING last`);
    const insertInvoice = db.prepare("INSERT INTO invoice VALUES (?, ?, ?)");
    const events = eventOutbox(db, "invoice.created");
    after = events.send;
    handle = (sales, at) => {
      const lines: string[] = [];
      const taken: SaleDetails[] = [];
      for (const { sale, body } of sales) {
        if (!claimed(sale, body, at)) continue;
        taken.push(sale);
        const { last } = bump.get(sale.StoreId) as { last: number };
        const number = `${sale.StoreId}-${String(last).padStart(6, "0")}`;
        const document = JSON.stringify({ InvoiceNumber: number, ...sale });
        insertInvoice.run(number, sale.SaleId, document);
        events.add(Buffer.from(document));
        lines.push(
          `Generating invoice for Sale #${sale.SaleId} - Total: Rs.${sale.TotalAmount}`,
        );
      }
      record(taken, at);
      return lines;
    };
  } else {
    db.exec(`CREATE TABLE IF NOT EXISTS stock (store TEXT NOT NULL,
      sku TEXT NOT NULL, quantity INTEGER NOT NULL,
      PRIMARY KEY (store, sku)) WITHOUT ROWID`);
    const take = db.prepare(`INSERT INTO stock VALUES (?, ?, ?)
      ON CONFLICT (store, sku) DO UPDATE SET quantity = quantity + excluded.quantity
      RETURNING quantity`);
    const events = eventOutbox(db, "inventory.stock.changed");
    after = events.send;
    handle = (sales, at) => {
      const lines: string[] = [];
      const taken: SaleDetails[] = [];
      // Each store's levels after the whole batch: one event per store.
      const levels = new Map<string, Map<string, number>>();
      for (const { sale, body } of sales) {
        if (!claimed(sale, body, at)) continue;
        taken.push(sale);
        const store = levels.get(sale.StoreId) ?? new Map<string, number>();
        levels.set(sale.StoreId, store);
        for (const item of sale.Items) {
          const { quantity } = take.get(
            sale.StoreId,
            item.Sku,
            -item.Quantity,
          ) as { quantity: number };
          store.set(item.Sku, quantity);
        }
        lines.push(
          `Inventory update for Sale #${sale.SaleId}, Items: ${sale.Items.length}`,
        );
      }
      for (const [store, skus] of levels) {
        events.add(Buffer.from(JSON.stringify({
          StoreId: store,
          Levels: [...skus].map(([Sku, Quantity]) => ({ Sku, Quantity })),
          At: at,
        })));
      }
      record(taken, at);
      return lines;
    };
  }
  const encoder = new TextEncoder();
  const writeOut = (text: string) => {
    let bytes = encoder.encode(text);
    while (bytes.length > 0) {
      bytes = bytes.subarray(Deno.stdout.writeSync(bytes));
    }
  };
  let batch: ConsumeMessage[] = [];
  let handled = 0;
  /** Milliseconds from rung up to committed, by sale id. */
  const latency: Record<number, number> = {};
  await channel.consume(queue, (message) => {
    if (!message) return;
    batch.push(message);
    if (batch.length > 1) return;
    // The deliveries of one turn of the event loop make one batch.
    setTimeout(() => {
      const messages = batch;
      batch = [];
      const sales = messages.map((m) => ({
        sale: decodeSale(m.content),
        body: m.content,
        // Read only where latency is measured.
        rungAt: rate === undefined
          ? 0
          : JSON.parse(m.content.toString()).RungAt as number,
      }));
      const at = new Date().toISOString();
      const lines = inTransaction(db, () => handle(sales, at));
      channel.ack(messages[messages.length - 1], true);
      // The article's line for each sale, in one write.
      if (lines.length > 0) writeOut(lines.join("\n") + "\n");
      after();
      const committed = now();
      for (const { sale, rungAt } of sales) {
        latency[sale.SaleId] = committed - rungAt;
      }
      handled += messages.length;
      if (handled >= count) {
        if (rate !== undefined) {
          console.log(`latency ${JSON.stringify(latency)}`);
        }
        console.log(doneLine());
        // Once its events are confirmed too: then it ends, as the POS does.
        setTimeout(async () => {
          await channel.close();
          await connection.close();
          Deno.exit(0);
        }, 500);
      }
    }, 0);
  });
  console.log("ready");
  await new Promise(() => {});
}
await channel.close();
await connection.close();
