/**
 * The same durable work as the pipeline, written by hand with nothing
 * clever and nothing checked: the yardstick the pipeline is measured
 * against. Three processes, as in the pipeline:
 *
 *     deno run -A bench/hand.ts pos <url> <dir> <count> [rate]
 *     deno run -A bench/hand.ts billing|inventory <url> <dir> <count> [rate]
 *
 * The POS commits each chunk of 500 sales to a SQLite outbox (WAL,
 * synchronous=FULL), publishes them persistent and mandatory with streamed
 * confirms, and marks the confirmed ones sent in one transaction per turn of
 * the event loop. Billing takes the deliveries of one turn (prefetch 200) and
 * in one transaction claims each sale in an inbox, bumps the store's invoice
 * counter, inserts the invoice and an outbox row; commits; acks with
 * `multiple`; publishes each `invoice.created` with confirms and marks them
 * sent. Inventory: one transaction per batch (inbox, a stock upsert per
 * item, an outbox row with the new levels per sale), one `multiple` ack, and
 * each `inventory.stock.changed` published with confirms as Billing does. Each prints `ready`, and `done <epoch ms>` once
 * it has committed `count` sales (the POS: `start <epoch ms>` first). With
 * a rate, the POS rings each sale up as it falls due, and each consumer
 * prints, before `done`, `latency {saleId: ms}`: from rung up to its commit.
 *
 * With `HAND_LOAD_ZOD=1` each process also loads zod, and uses none of it:
 * what the validator the services must use costs in memory by itself.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import { DatabaseSync } from "node:sqlite";
import { connect, type ConsumeMessage } from "amqplib";

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

/** Publishes outbox rows with confirms; marks them sent once per turn. */
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
    at TEXT NOT NULL) WITHOUT ROWID`);
  const claim = db.prepare(
    "INSERT INTO inbox (key, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
  );
  const queue = QUEUES[role as keyof typeof QUEUES];
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, EXCHANGE, "sale.created");
  await channel.prefetch(200);
  let handle: (sales: Record<string, unknown>[]) => void;
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
    handle = (sales) => {
      for (const sale of sales) {
        const key = `${sale.StoreId}:${sale.SaleId}@${sale.TillId}`;
        if (claim.run(key, new Date().toISOString()).changes === 0) continue;
        const { last } = bump.get(sale.StoreId as string) as { last: number };
        const number = `${sale.StoreId}-${String(last).padStart(6, "0")}`;
        const document = JSON.stringify({ InvoiceNumber: number, ...sale });
        insertInvoice.run(number, sale.SaleId as number, document);
        events.add(Buffer.from(document));
      }
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
    handle = (sales) => {
      for (const sale of sales) {
        const key = `${sale.StoreId}:${sale.SaleId}@${sale.TillId}`;
        if (claim.run(key, new Date().toISOString()).changes === 0) continue;
        const levels = [];
        for (const item of sale.Items as { Sku: string; Quantity: number }[]) {
          const { quantity } = take.get(
            sale.StoreId as string,
            item.Sku,
            -item.Quantity,
          ) as { quantity: number };
          levels.push({ Sku: item.Sku, Quantity: quantity });
        }
        // The new levels, announced as the pipeline's Inventory does.
        events.add(Buffer.from(JSON.stringify({
          StoreId: sale.StoreId,
          Levels: levels,
          SaleId: sale.SaleId,
          At: new Date().toISOString(),
        })));
      }
    };
  }
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
      const sales = messages.map((m) => JSON.parse(m.content.toString()));
      inTransaction(db, () => handle(sales));
      channel.ack(messages[messages.length - 1], true);
      after();
      const committed = now();
      for (const sale of sales) latency[sale.SaleId] = committed - sale.RungAt;
      handled += messages.length;
      if (handled >= count) {
        if (rate !== undefined) {
          console.log(`latency ${JSON.stringify(latency)}`);
        }
        console.log(doneLine());
      }
    }, 0);
  });
  console.log("ready");
  await new Promise(() => {});
}
await channel.close();
await connection.close();
