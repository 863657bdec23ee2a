/**
 * The baselines the pipeline is measured against, in one process on the
 * same broker: raw amqplib with the pipeline's durability but no
 * application logic, and the article's connection-per-sale pattern.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { ChannelModel, ConsumeMessage } from "amqplib";
import { connectBroker } from "../lib/messaging/mod.ts";
import { delay } from "../lib/core/mod.ts";
import { V8_FLAGS } from "../tools/launcher.ts";

/** What a baseline run measured. */
export interface BaselineResult {
  /** Sales pushed through. */
  sales: number;
  /** Seconds from the first publish to the last ack in both consumers. */
  seconds: number;
  /** Sales a second, end to end. */
  perSecond: number;
  /** Each process's peak RSS, in MiB, where the baseline reports it. */
  peakRssMiB?: Record<string, number>;
  /** Milliseconds from rung up to committed in both, per sale, when paced. */
  latencies?: number[];
  /** Each process's CPU time over its whole run, in seconds, where reported. */
  cpuSeconds?: Record<string, number>;
}

/** KiB as MiB, to a tenth. */
export function mibOfKiB(kib: number): number {
  return Math.round(kib / 102.4) / 10;
}

/** The peak RSS in a `done <ms> cpu <ms> hwm <KiB>` line, in MiB. */
function hwmMiB(line: string): number {
  return mibOfKiB(Number(/\bhwm (\d+)/.exec(line)?.[1] ?? NaN));
}

const EXCHANGE = "bench_exchange";
const QUEUES = ["bench_billing", "bench_inventory"];

async function declare(connection: ChannelModel): Promise<void> {
  const channel = await connection.createChannel();
  await channel.assertExchange(EXCHANGE, "topic", { durable: true });
  for (const queue of QUEUES) {
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, EXCHANGE, "sale.created");
    await channel.purgeQueue(queue);
  }
  await channel.close();
}

/** Two consumers, manual acks, one ack per message; resolve after `count` each. */
async function consumeAll(
  url: string,
  count: number,
  prefetch: number,
): Promise<{ done: Promise<number>; close(): Promise<void> }> {
  const connections: ChannelModel[] = [];
  const finished = await Promise.all(QUEUES.map(async (queue) => {
    const connection = await connectBroker({ url, name: `bench-${queue}` });
    connections.push(connection);
    const channel = await connection.createChannel();
    await channel.prefetch(prefetch);
    let seen = 0;
    let resolve!: (at: number) => void;
    const done = new Promise<number>((r) => resolve = r);
    await channel.consume(queue, (message: ConsumeMessage | null) => {
      if (!message) return;
      channel.ack(message);
      if (++seen === count) resolve(performance.now());
    }, { noAck: false });
    return { done };
  }));
  return {
    done: Promise.all(finished.map((entry) => entry.done)).then((times) =>
      Math.max(...times)
    ),
    close: async () => {
      for (const connection of connections) await connection.close();
    },
  };
}

/**
 * Raw amqplib: persistent messages, publisher confirms streamed (many in
 * flight), two durable queues, manual acks, prefetch 200, noDelay.
 */
export async function rawBaseline(
  url: string,
  options: { sales: number; body: Buffer },
): Promise<BaselineResult> {
  const { sales, body } = options;
  const publisher = await connectBroker({ url, name: "bench-raw-publisher" });
  await declare(publisher);
  const consumers = await consumeAll(url, sales, 200);
  const channel = await publisher.createConfirmChannel();
  const started = performance.now();
  const confirms: Promise<void>[] = [];
  for (let i = 0; i < sales; i++) {
    let written = true;
    confirms.push(
      new Promise<void>((resolve, reject) => {
        written = channel.publish(EXCHANGE, "sale.created", body, {
          persistent: true,
          mandatory: true,
          messageId: String(i),
          contentType: "application/json",
        }, (error: unknown) => error ? reject(error) : resolve());
      }),
    );
    // Confirms stream back while publishing goes on; the socket paces it.
    if (!written) {
      await new Promise((resolve) => channel.once("drain", resolve));
    }
    if (i >= 1000) await confirms[i - 1000];
  }
  await Promise.all(confirms);
  const finished = await consumers.done;
  await consumers.close();
  await publisher.close();
  const seconds = (finished - started) / 1000;
  return { sales, seconds, perSecond: sales / seconds };
}

/**
 * The article's POS: a new connection and channel for every sale, the
 * exchange declared each time, one publish, no confirm; then closed.
 */
export async function articleBaseline(
  url: string,
  options: { sales: number; body: Buffer },
): Promise<BaselineResult> {
  const { sales, body } = options;
  const setup = await connectBroker({ url, name: "bench-article-setup" });
  await declare(setup);
  await setup.close();
  const consumers = await consumeAll(url, sales, 200);
  const { connect } = await import("amqplib");
  const target = new URL(url);
  const started = performance.now();
  for (let i = 0; i < sales; i++) {
    // As the article does it: the client's defaults, Nagle's algorithm on.
    const connection = await connect({
      hostname: target.hostname,
      port: Number(target.port || 5672),
      username: decodeURIComponent(target.username || "guest"),
      password: decodeURIComponent(target.password || "guest"),
      vhost: target.pathname.length > 1
        ? decodeURIComponent(target.pathname.slice(1))
        : "/",
    });
    const channel = await connection.createChannel();
    await channel.assertExchange(EXCHANGE, "topic", { durable: true });
    channel.publish(EXCHANGE, "sale.created", body, { mandatory: true });
    await channel.close();
    await connection.close();
  }
  const finished = await consumers.done;
  await consumers.close();
  const seconds = (finished - started) / 1000;
  return { sales, seconds, perSecond: sales / seconds };
}

/** Removes the baselines' exchange and queues. */
export async function cleanBaselines(url: string): Promise<void> {
  const connection = await connectBroker({ url, name: "bench-clean" });
  const channel = await connection.createChannel();
  for (const queue of QUEUES) await channel.deleteQueue(queue);
  await channel.deleteExchange(EXCHANGE);
  await channel.close();
  await connection.close();
}

/** A line the article's services print for each sale. */
const ARTICLE_LINE = /^(Generating invoice|Inventory update) for Sale #/;

/** A process of bench/hand.ts, its lines read as they come. */
function handProcess(
  role: string,
  url: string,
  dir: string,
  options: {
    sales: number;
    rate?: number;
    loadZod?: boolean;
    profileDir?: string;
  },
) {
  const child = new Deno.Command(Deno.execPath(), {
    env: options.loadZod ? { HAND_LOAD_ZOD: "1" } : {},
    args: [
      "run",
      "-A",
      ...options.profileDir === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${join(options.profileDir, role)}`],
      // The services' heap settings: the same runtime for the same work.
      V8_FLAGS,
      new URL("./hand.ts", import.meta.url).pathname,
      role,
      url,
      dir,
      String(options.sales),
      ...(options.rate === undefined ? [] : [String(options.rate)]),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const reading = (async () => {
    let rest = "";
    for await (
      const text of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      // Read 50 times a second once it is up, as the pipeline's services
      // are: a wake-up for every batch would take the cores it runs on.
      if (lines.includes("ready")) await delay(20);
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      // The article's lines, one per sale, are its work, not its news.
      lines.push(...parts.filter((part) => !ARTICLE_LINE.test(part)));
      for (const wake of waiters.splice(0)) wake();
    }
  })();
  const line = async (prefix: string): Promise<string> => {
    for (;;) {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found) return found;
      const status = await Promise.race([
        new Promise<void>((resolve) => waiters.push(resolve)),
        child.status,
      ]);
      if (status && !lines.some((l) => l.startsWith(prefix))) {
        throw new Error(`hand.ts ${role} exited without "${prefix}"`);
      }
    }
  };
  return {
    line,
    /** Waits for it to end by itself. */
    async exited() {
      await child.status;
      await reading;
    },
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited already.
      }
      await child.status;
      await reading;
    },
  };
}

/**
 * The same durable work as the pipeline written by hand (bench/hand.ts),
 * three processes: first publish to the last commit in both consumers.
 */
export async function handBaseline(
  url: string,
  options: {
    sales: number;
    /** Sales a second, rung up as they fall due; as fast as it goes without. */
    rate?: number;
    /**
     * Whether each process loads zod too, unused: the memory of the plain
     * version with the validator the services are built on.
     *
     * @default {false}
     */
    loadZod?: boolean;
    /** Profiles each process into `<dir>/<role>` (`--cpu-prof`). */
    profileDir?: string;
  },
): Promise<BaselineResult> {
  const { sales } = options;
  const dir = await Deno.makeTempDir({ prefix: "shop-bench-hand-" });
  const consumers = ["billing", "inventory"].map((role) =>
    handProcess(role, url, dir, options)
  );
  try {
    await Promise.all(consumers.map((c) => c.line("ready")));
    const pos = handProcess("pos", url, dir, options);
    const started = Number((await pos.line("start ")).split(" ")[1]);
    const posDone = await pos.line("done ");
    // It exits by itself once done: its profile is written then.
    await pos.exited();
    const done = await Promise.all(consumers.map((c) => c.line("done ")));
    const finished = Math.max(
      ...done.map((line) => Number(line.split(" ")[1])),
    );
    const seconds = (finished - started) / 1000;
    let latencies: number[] | undefined;
    if (options.rate !== undefined) {
      // A sale is done when the later of the two consumers has it.
      const [billing, inventory] = await Promise.all(
        consumers.map(async (c) =>
          JSON.parse((await c.line("latency ")).slice(8)) as Record<
            string,
            number
          >
        ),
      );
      latencies = Object.entries(billing).map(([id, ms]) =>
        Math.max(ms, inventory[id] ?? Infinity)
      );
    }
    // Each consumer exits by itself once done, its profile written.
    await Promise.all(consumers.map((c) => c.exited()));
    const cpu = (line: string) =>
      Number(/ cpu ([\d.]+)/.exec(line)?.[1] ?? 0) /
      1000;
    return {
      sales,
      seconds,
      perSecond: sales / seconds,
      latencies,
      cpuSeconds: {
        pos: cpu(posDone),
        billing: cpu(done[0]),
        inventory: cpu(done[1]),
      },
      peakRssMiB: {
        pos: hwmMiB(posDone),
        billing: hwmMiB(done[0]),
        inventory: hwmMiB(done[1]),
      },
    };
  } finally {
    for (const consumer of consumers) await consumer.stop();
    await Deno.remove(dir, { recursive: true });
    const connection = await connectBroker({ url, name: "bench-clean" });
    const channel = await connection.createChannel();
    for (const queue of ["hand_billing", "hand_inventory"]) {
      await channel.deleteQueue(queue);
    }
    await channel.deleteExchange("hand_exchange");
    await channel.close();
    await connection.close();
  }
}
