/**
 * How every service runs: configuration from flags and the environment,
 * `--help`, one-line errors, and a consumer that stops cleanly on signals.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type Outbox, Relay } from "./outbox.ts";
import {
  Consumer,
  type ConsumerOptions,
  declareQueue,
  DEFAULT_AMQP_URL,
  Publisher,
  type QueueTopology,
  stayConnected,
} from "./broker.ts";

/** Where the services keep their data unless DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = "./data";
/** Unacked deliveries per consumer unless PREFETCH says otherwise. */
export const DEFAULT_PREFETCH = 200;

/** The configuration every service reads. */
export interface Config {
  /** AMQP_URL or `--url`. */
  url: string;
  /** DATA_DIR or `--data-dir`. */
  dataDir: string;
  /** PREFETCH or `--prefetch`. */
  prefetch: number;
}

/** Options of {@linkcode parseCommandLine}. */
export interface CommandLineOptions<O extends ParseArgsOptionsConfig> {
  /** The service, for messages: `billing`. */
  name: string;
  /** Lines of help after the usage line, for the service's own options. */
  help: string;
  /** The service's own options, as `node:util` parseArgs takes them. */
  options: O;
  /** The arguments. Defaults to `Deno.args`. */
  args?: string[];
}

const COMMON_HELP = `
Configuration (flag, or environment variable):
  --url <url>        AMQP_URL   broker(s), comma-separated; default ${DEFAULT_AMQP_URL}
  --data-dir <dir>   DATA_DIR   where data files are kept; default ${DEFAULT_DATA_DIR}
  --prefetch <n>     PREFETCH   unacked deliveries per consumer; default ${DEFAULT_PREFETCH}
  -h, --help                    show this help`;

/**
 * Reads flags and environment. Prints help and exits on `--help`; on a bad
 * flag, prints one line and exits 2.
 */
export function parseCommandLine<O extends ParseArgsOptionsConfig>(
  options: CommandLineOptions<O>,
) {
  const { name, help } = options;
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: options.args ?? Deno.args,
      allowPositionals: true,
      strict: true,
      options: {
        ...options.options,
        url: { type: "string" },
        "data-dir": { type: "string" },
        prefetch: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    fail(name, error, 2);
  }
  if (parsed.values.help) {
    console.log(`${help.trim()}\n${COMMON_HELP}`);
    Deno.exit(0);
  }
  const prefetchText = (parsed.values.prefetch as string | undefined) ??
    readEnv("PREFETCH") ?? String(DEFAULT_PREFETCH);
  const prefetch = Number(prefetchText);
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65535) {
    fail(name, `Invalid prefetch "${prefetchText}": use 1 to 65535`, 2);
  }
  const config: Config = {
    url: (parsed.values.url as string | undefined) ??
      readEnv("AMQP_URL") ?? DEFAULT_AMQP_URL,
    dataDir: (parsed.values["data-dir"] as string | undefined) ??
      readEnv("DATA_DIR") ?? DEFAULT_DATA_DIR,
    prefetch,
  };
  return { values: parsed.values, positionals: parsed.positionals, config };
}

/**
 * An environment variable, or undefined when it is not set or this
 * service's permissions do not let it read that one.
 */
export function readEnv(name: string): string | undefined {
  const { state } = Deno.permissions.querySync({ name: "env", variable: name });
  return state === "granted" ? Deno.env.get(name) || undefined : undefined;
}

/** An error's message, or the thing thrown as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads a file the user named (a catalog, sales to import, opening stock).
 *
 * @throws {Error} one line naming the file and why it cannot be read.
 */
export async function readInput(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read "${path}": ${errorMessage(error)}`);
  }
}

/**
 * Prints `<name>: <problem>` on stderr, its first line only, and exits: no
 * stack trace. `problem` is a message or what was thrown.
 */
export function fail(name: string, problem: unknown, code = 1): never {
  console.error(`${name}: ${errorMessage(problem).split("\n")[0]}`);
  Deno.exit(code);
}

/**
 * Runs `stop` once on the first SIGINT or SIGTERM; a second signal exits at
 * once. Returns a function that removes the handlers.
 */
export function onShutdown(
  stop: (signal: string) => Promise<void>,
): () => void {
  let stopping = false;
  const handler = (signal: Deno.Signal) => () => {
    if (stopping) Deno.exit(130);
    stopping = true;
    stop(signal).catch((error) => {
      console.error(String(error));
      Deno.exit(1);
    });
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const listener = handler(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of handlers) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}

/** Options of {@linkcode runConsumer}. */
export interface RunConsumerOptions<T>
  extends
    QueueTopology,
    Pick<ConsumerOptions<T>, "decode" | "handle" | "onFailed"> {
  /** The service, for messages and the connection's name. */
  name: string;
  /** The configuration read by {@linkcode parseCommandLine}. */
  config: Config;
  /** The service's database, closed on shutdown. */
  db: DatabaseSync;
  /** Events the handler adds to this outbox are published with confirms. */
  outbox?: Outbox;
}

/**
 * Consumes until SIGINT or SIGTERM, then finishes the deliveries at hand and
 * closes. A lost connection or a consumer the broker cancelled is noticed:
 * it connects again with backoff, declares the queue again and goes on.
 * Exits non-zero with one line only for what retrying cannot mend.
 */
export async function runConsumer<T>(
  options: RunConsumerOptions<T>,
): Promise<void> {
  const { name, config, db, exchange, queue, routingKey } = options;
  const stop = new AbortController();
  let consumer: Consumer<T> | undefined;
  // Signals are taken from the start: deliveries may come before "running".
  const removeHandlers = onShutdown(async () => {
    stop.abort();
    await consumer?.stop();
  });
  try {
    await stayConnected({
      url: config.url,
      name,
      signal: stop.signal,
      onRetry: (message, delay) => retrying(name, message, delay),
      session: async (connection) => {
        const publisher = await Publisher.open(connection);
        const session = new AbortController();
        let relaying: Promise<void> | undefined;
        try {
          await declareQueue(publisher.channel, {
            exchange,
            queue,
            routingKey,
          });
          if (options.outbox) {
            relaying = new Relay({ outbox: options.outbox, publisher }).run({
              signal: session.signal,
              onUnroutable: (error) =>
                console.error(`${name}: ${error.message}`),
            });
          }
          consumer = await Consumer.start({
            connection,
            publisher,
            queue,
            prefetch: config.prefetch,
            decode: options.decode,
            handle: options.handle,
            onFailed: options.onFailed,
          });
          if (stop.signal.aborted) await consumer.stop();
          console.log(`${name} running on "${queue}". Press Ctrl+C to exit.`);
          // A relay that fails has lost the connection: so has the consumer.
          await Promise.race([
            consumer.finished,
            relaying ?? consumer.finished,
          ]);
        } finally {
          consumer = undefined;
          session.abort();
          await relaying?.catch(() => {});
          await publisher.close();
        }
      },
    });
  } catch (error) {
    fail(name, error);
  }
  removeHandlers();
  db.close();
}

/** Prints one line for a lost or failed connection and the wait before the next try. */
export function retrying(name: string, message: string, delayMs: number): void {
  console.error(
    `${name}: ${message}; trying again in ${(delayMs / 1000).toFixed(1)} s`,
  );
}
