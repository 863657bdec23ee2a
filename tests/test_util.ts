/**
 * Test helpers: a throwaway virtual host per test, so tests use the real
 * queue names without touching anyone's data, and the real services run as
 * processes under their real permission sets.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ChannelModel, GetMessage } from "amqplib";
import { DEFAULT_AMQP_URL } from "../lib/amqp_url.ts";
import { connectBroker } from "../lib/connection.ts";
import { delay } from "../lib/delay.ts";
import { invocation, type ProgramName } from "../tools/launcher.ts";

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

type Service = ProgramName;

/** The message exactly as the .NET POS sends it (dotnet-wire.md). */
export const DOTNET_MESSAGE =
  '{"SaleId":10001,"StoreId":"NEPAL-01","Items":[{"Sku":"MILK001","Quantity":5},{"Sku":"BREAD001","Quantity":5}],"Timestamp":"2026-11-27T10:46:12.1234567Z","TotalAmount":10.0}';

/** The broker the tests run against. */
export const BASE_URL = (Deno.permissions.querySync({ name: "env" }).state ===
    "granted" && Deno.env.get("AMQP_URL")?.split(",")[0]) || DEFAULT_AMQP_URL;

async function command(
  name: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(name, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

export { command };

async function manageVhost(vhost: string, create: boolean): Promise<void> {
  const base = new URL(BASE_URL);
  const user = decodeURIComponent(base.username || "guest");
  const ctl = create
    ? [["add_vhost", vhost], [
      "set_permissions",
      "-p",
      vhost,
      user,
      ".*",
      ".*",
      ".*",
    ]]
    : [["delete_vhost", vhost]];
  try {
    for (const args of ctl) {
      const { code, stderr } = await command("rabbitmqctl", args);
      if (code !== 0) throw new Error(`rabbitmqctl ${args[0]}: ${stderr}`);
    }
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  // No rabbitmqctl here: the management API of a broker in a container.
  const auth = "Basic " +
    btoa(`${user}:${decodeURIComponent(base.password || "guest")}`);
  const api = `http://${base.hostname}:15672/api`;
  const calls = create
    ? [
      [`${api}/vhosts/${encodeURIComponent(vhost)}`, {}],
      [`${api}/permissions/${encodeURIComponent(vhost)}/${user}`, {
        configure: ".*",
        write: ".*",
        read: ".*",
      }],
    ] as const
    : [[`${api}/vhosts/${encodeURIComponent(vhost)}`, undefined]] as const;
  for (const [url, body] of calls) {
    const response = await fetch(url, {
      method: body === undefined ? "DELETE" : "PUT",
      headers: { authorization: auth, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
  }
}

/** A virtual host and a data folder of one's own, removed afterwards. */
export interface Sandbox {
  /** AMQP_URL of the sandbox's virtual host. */
  url: string;
  /** DATA_DIR of the sandbox. */
  dataDir: string;
  /** The environment a service runs with here. */
  env: Record<string, string>;
  /** CATALOG, when not the demo catalog. */
  catalog?: string;
}

/** The same sandbox with its own catalog, written from `csv`. */
export async function withCatalog(
  sandbox: Sandbox,
  csv: string,
): Promise<Sandbox> {
  const catalog = join(sandbox.dataDir, "catalog.csv");
  await Deno.writeTextFile(catalog, csv);
  return { ...sandbox, catalog, env: { ...sandbox.env, CATALOG: catalog } };
}

/** Runs `fn` in a fresh virtual host and data folder, then removes both. */
export async function withSandbox(
  fn: (sandbox: Sandbox) => Promise<void>,
): Promise<void> {
  const vhost = `shop-test-${crypto.randomUUID().slice(0, 8)}`;
  await manageVhost(vhost, true);
  const dataDir = await Deno.makeTempDir({ prefix: "shop-test-" });
  const url = new URL(BASE_URL);
  url.pathname = `/${vhost}`;
  const sandbox = {
    url: url.href,
    dataDir,
    env: { AMQP_URL: url.href, DATA_DIR: dataDir },
  };
  try {
    await fn(sandbox);
  } finally {
    await manageVhost(vhost, false);
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The same sandbox, reached at another AMQP_URL (a proxy, a broker list). */
export function atUrl(sandbox: Sandbox, url: string): Sandbox {
  return { ...sandbox, url, env: { ...sandbox.env, AMQP_URL: url } };
}

/** A service running as its own process, its output collected. */
export class Running {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  readonly #done: Promise<unknown>;
  #waiters: (() => void)[] = [];

  constructor(service: Service, sandbox: Sandbox, args: string[] = []) {
    const { args: argv, env } = invocation(service, sandbox.env, args);
    this.#child = new Deno.Command(Deno.execPath(), {
      args: argv,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#done = Promise.all([
      this.#collect(this.#child.stdout),
      this.#collect(this.#child.stderr),
    ]);
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      this.#lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    }
    if (rest) this.#lines.push(rest);
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every line printed so far, stdout and stderr. */
  get lines(): string[] {
    return this.#lines;
  }

  /** Waits until `count` printed lines match `pattern`. */
  async waitFor(pattern: RegExp, count = 1, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.filter((line) => pattern.test(line)).length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${count} x ${pattern}; output:\n${
            this.#lines.slice(-20).join("\n")
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Sends `signal` (SIGTERM: a clean stop) and waits for the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.#child.kill(signal);
    } catch {
      // Exited already.
    }
    return await this.exited();
  }

  /** Waits for the process to end by itself; its exit code. */
  async exited(): Promise<number> {
    const { code } = await this.#child.status;
    await this.#done;
    return code;
  }
}

/** Runs a service to its end, e.g. `pos --count 5` or `billing invoices --json`. */
export async function runService(
  service: Service,
  sandbox: Sandbox,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { args: argv, env } = invocation(service, sandbox.env, args);
  return await command(Deno.execPath(), argv, { env, stdin });
}

async function printedJson<T>(
  service: Service,
  sandbox: Sandbox,
  subcommand: string,
): Promise<T> {
  const result = await runService(service, sandbox, [subcommand, "--json"]);
  if (result.code !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

/** The stored invoices of the sandbox, as `deno task invoices -- --json` prints them. */
export function invoices(
  sandbox: Sandbox,
): Promise<
  { SaleId: number; StoreId: string; Total: number; TotalAmount: number }[]
> {
  return printedJson("billing", sandbox, "invoices");
}

/** The stock of the sandbox, as `deno task stock -- --json` prints it. */
export function stock(
  sandbox: Sandbox,
): Promise<{ storeId: string; sku: string; quantity: number }[]> {
  return printedJson("inventory", sandbox, "stock");
}

/** Every sale the POS of the sandbox sent, from its own outbox. */
export function sentSales(sandbox: Sandbox) {
  const path = `${sandbox.dataDir}/pos/pos.db`;
  try {
    Deno.statSync(path);
  } catch {
    return []; // No sale yet.
  }
  const db = new DatabaseSync(path, {
    readOnly: true,
  });
  try {
    return db.prepare(
      "SELECT body, sent_at FROM outbox ORDER BY id",
    ).all().map((row) => ({
      sale: JSON.parse(new TextDecoder().decode(row.body as Uint8Array)),
      sent: row.sent_at !== null,
    }));
  } finally {
    db.close();
  }
}

/** Stock each (store, SKU) must show: minus the sum of its sold quantities. */
export function expectedStock(
  sales: { StoreId: string; Items: { Sku: string; Quantity: number }[] }[],
) {
  const totals = new Map<string, number>();
  for (const sale of sales) {
    for (const item of sale.Items) {
      const key = `${sale.StoreId}/${item.Sku}`;
      totals.set(key, (totals.get(key) ?? 0) - item.Quantity);
    }
  }
  return totals;
}

/** Billing and Inventory of the sandbox, once both consume. */
export async function startConsumers(sandbox: Sandbox): Promise<Running[]> {
  const running = [
    new Running("billing", sandbox),
    new Running("inventory", sandbox),
  ];
  await Promise.all(running.map((service) => service.waitFor(/running on/)));
  return running;
}

/** A plain connection to the sandbox, for publishing and reading raw messages. */
export async function openClient(sandbox: Sandbox): Promise<ChannelModel> {
  return await connectBroker({ url: sandbox.url, name: "test" });
}

/** Takes every message now in `queue`, acking each. */
export async function drain(
  connection: ChannelModel,
  queue: string,
): Promise<GetMessage[]> {
  const channel = await connection.createChannel();
  const messages: GetMessage[] = [];
  for (let message; (message = await channel.get(queue, { noAck: true }));) {
    messages.push(message);
  }
  await channel.close();
  return messages;
}

/** Publishes raw bytes as the .NET POS does: default properties, not persistent. */
export async function publishRaw(
  connection: ChannelModel,
  body: string | Uint8Array,
  routing = { exchange: "sales_exchange", routingKey: "sale.created" },
): Promise<void> {
  const channel = await connection.createConfirmChannel();
  channel.publish(
    routing.exchange,
    routing.routingKey,
    Buffer.from(body),
  );
  await channel.waitForConfirms();
  await channel.close();
}

/** Waits until `check` holds, polling. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A path in the project. */
export function projectPath(...parts: string[]): string {
  return join(new URL("..", import.meta.url).pathname, ...parts);
}

/**
 * A TCP proxy in front of the broker, to cut every connection at once or to
 * be a broker address where nothing answers yet.
 */
export class BrokerProxy {
  readonly port: number;
  readonly #target: { hostname: string; port: number };
  #listener: Deno.Listener | undefined;
  readonly #open = new Set<Deno.Conn>();
  /** How many times every connection was cut. */
  cuts = 0;

  private constructor(port: number) {
    const base = new URL(BASE_URL);
    this.port = port;
    this.#target = {
      hostname: base.hostname === "localhost" ? "127.0.0.1" : base.hostname,
      port: Number(base.port || 5672),
    };
  }

  /** A proxy on a free port, not yet listening. */
  static reserve(): BrokerProxy {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { port } = probe.addr as Deno.NetAddr;
    probe.close();
    return new BrokerProxy(port);
  }

  /** AMQP_URL of the sandbox's virtual host through this proxy. */
  urlFor(sandbox: Sandbox): string {
    const url = new URL(sandbox.url);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    return url.href;
  }

  /** Starts accepting and forwarding connections. */
  listen(): void {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    (async () => {
      try {
        for await (const client of listener) this.#forward(client);
      } catch {
        // Closed.
      }
    })();
  }

  async #forward(client: Deno.Conn): Promise<void> {
    this.#open.add(client);
    let broker: Deno.Conn | undefined;
    try {
      broker = await Deno.connect(this.#target);
      this.#open.add(broker);
      await Promise.allSettled([
        client.readable.pipeTo(broker.writable),
        broker.readable.pipeTo(client.writable),
      ]);
    } catch {
      // Cut.
    } finally {
      for (const conn of [client, broker]) {
        if (!conn) continue;
        this.#open.delete(conn);
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
    }
  }

  /** Cuts every connection through the proxy, as a network fault would. */
  cut(): void {
    this.cuts++;
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch {
        // Closed already.
      }
    }
    this.#open.clear();
  }

  /** Stops listening and cuts everything. */
  close(): void {
    this.#listener?.close();
    this.#listener = undefined;
    this.cut();
    this.cuts--;
  }
}

/**
 * A RabbitMQ node of a test's own (own node name, ports and data folder), to
 * stop, restart or kill without touching the shared broker.
 */
export class OwnBroker {
  readonly port: number;
  readonly #dir: string;
  readonly #env: Record<string, string>;
  readonly #node: string;
  #process: Deno.ChildProcess | undefined;

  private constructor(dir: string, port: number, distPort: number) {
    this.#dir = dir;
    this.port = port;
    this.#node = `shoptest${port}@localhost`;
    this.#env = {
      RABBITMQ_NODENAME: this.#node,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: join(dir, "log"),
      RABBITMQ_PID_FILE: join(dir, "node.pid"),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
      RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    };
  }

  /** Whether `rabbitmq-server` is installed here. */
  static async available(): Promise<boolean> {
    try {
      await command("rabbitmqctl", ["version"]);
      return true;
    } catch {
      return false;
    }
  }

  /** Starts a new node and waits until it answers. */
  static async start(): Promise<OwnBroker> {
    const dir = await Deno.makeTempDir({ prefix: "shop-node-" });
    // The node may run as the rabbitmq user (Debian's rabbitmq-server does).
    await Deno.chmod(dir, 0o777);
    const [port, distPort] = [freePort(), freePort()];
    await Deno.writeTextFile(join(dir, "enabled_plugins"), "[].\n");
    await Deno.writeTextFile(
      join(dir, "rabbitmq.conf"),
      `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`,
    );
    const broker = new OwnBroker(dir, port, distPort);
    await broker.restart();
    return broker;
  }

  /** AMQP_URL of this node. */
  get url(): string {
    return `amqp://guest:guest@localhost:${this.port}`;
  }

  /** Starts the node on its data and waits until AMQP answers. */
  async restart(): Promise<void> {
    // In the foreground, as a child: "-detached" does not start a second
    // node under Debian's wrapper.
    this.#process = new Deno.Command("rabbitmq-server", {
      env: this.#env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await eventually(
      async () => {
        try {
          await (await connectBroker({ url: this.url, name: "probe" })).close();
          return true;
        } catch {
          return false;
        }
      },
      `node ${this.#node} to answer`,
      90_000,
    );
  }

  /** Runs `rabbitmqctl` against this node. */
  async ctl(...args: string[]): Promise<void> {
    const result = await command("rabbitmqctl", ["-n", this.#node, ...args], {
      env: this.#env,
    });
    if (result.code !== 0) throw new Error(result.stderr || result.stdout);
  }

  /** Stops the node cleanly. */
  async stop(): Promise<void> {
    await command("rabbitmqctl", ["-n", this.#node, "stop"], {
      env: this.#env,
    });
  }

  /** Kills the node's VM with SIGKILL. */
  async kill(): Promise<void> {
    const pid = Number(
      (await Deno.readTextFile(join(this.#dir, "node.pid"))).trim(),
    );
    Deno.kill(pid, "SIGKILL");
    await this.#process?.status;
    // Wait until the port is free again.
    await eventually(async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port }))
          .close();
        return false;
      } catch {
        return true;
      }
    }, "the killed node's port to close");
  }

  /** Stops the node and removes its data. */
  async remove(): Promise<void> {
    await this.stop().catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `fn` against a new node of its own and a data folder, then removes both. */
export async function withOwnBroker(
  fn: (node: OwnBroker, sandbox: Sandbox) => Promise<void>,
): Promise<void> {
  const node = await OwnBroker.start();
  const dataDir = await Deno.makeTempDir({ prefix: "shop-test-" });
  try {
    await fn(node, {
      url: node.url,
      dataDir,
      env: { AMQP_URL: node.url, DATA_DIR: dataDir },
    });
  } finally {
    await node.remove();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
