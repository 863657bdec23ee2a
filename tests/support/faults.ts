/**
 * Faults on purpose: a TCP proxy that cuts every connection, and a RabbitMQ
 * node of a test's own to stop, restart or kill.
 *
 * @module
 */
import { join } from "node:path";
import { connectBroker } from "../../lib/messaging/mod.ts";
import { baseUrl, type Sandbox } from "./sandbox.ts";
import { eventually } from "./amqp.ts";
import { command } from "./process.ts";

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
    const base = new URL(baseUrl());
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
  /** Port of the management HTTP API, when started with it. */
  managementPort?: number;
  /** Port of the AMQP-over-TLS listener, when started with one. */
  tlsPort?: number;
  readonly #dir: string;
  readonly #env: Record<string, string>;
  readonly #node: string;
  #credentials = "guest:guest";
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

  /**
   * Starts a new node, with `config` lines added to its rabbitmq.conf, and
   * waits until it answers; with `management`, its HTTP API on a port of
   * its own; with `tls`, an AMQPS listener with these PEM files.
   */
  static async start(
    config: string[] = [],
    options: {
      management?: boolean;
      tls?: { caFile: string; certFile: string; keyFile: string };
      /** `user:password` of an administrator, when not guest (a node that loads definitions makes no guest). */
      credentials?: string;
    } = {},
  ): Promise<OwnBroker> {
    const dir = await Deno.makeTempDir({ prefix: "shop-node-" });
    // The node may run as the rabbitmq user (Debian's rabbitmq-server does).
    await Deno.chmod(dir, 0o777);
    const [port, distPort] = [freePort(), freePort()];
    const managementPort = options.management ? freePort() : undefined;
    const tlsPort = options.tls ? freePort() : undefined;
    await Deno.writeTextFile(
      join(dir, "enabled_plugins"),
      options.management ? "[rabbitmq_management].\n" : "[].\n",
    );
    const { tls } = options;
    await Deno.writeTextFile(
      join(dir, "rabbitmq.conf"),
      [
        `listeners.tcp.default = 127.0.0.1:${port}`,
        "loopback_users = none",
        ...managementPort === undefined ? [] : [
          `management.tcp.port = ${managementPort}`,
          "management.tcp.ip = 127.0.0.1",
        ],
        ...tls === undefined ? [] : [
          `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
          `ssl_options.cacertfile = ${tls.caFile}`,
          `ssl_options.certfile = ${tls.certFile}`,
          `ssl_options.keyfile = ${tls.keyFile}`,
          "ssl_options.verify = verify_peer",
          "ssl_options.fail_if_no_peer_cert = false",
        ],
        ...config,
        "",
      ].join("\n"),
    );
    const broker = new OwnBroker(dir, port, distPort);
    broker.managementPort = managementPort;
    broker.tlsPort = tlsPort;
    if (options.credentials) broker.#credentials = options.credentials;
    try {
      await broker.restart();
    } catch (error) {
      // A node that never answered is not left behind.
      await broker.remove();
      throw error;
    }
    if (managementPort !== undefined) {
      await eventually(async () => {
        try {
          const response = await fetch(
            `http://127.0.0.1:${managementPort}/api/overview`,
            {
              headers: { authorization: `Basic ${btoa(broker.#credentials)}` },
            },
          );
          await response.body?.cancel();
          return response.ok;
        } catch {
          return false;
        }
      }, `node ${broker.#node}'s management API to answer`);
    }
    return broker;
  }

  /** AMQP_URL of this node. */
  get url(): string {
    return `amqp://${this.#credentials}@localhost:${this.port}`;
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
    // A node that would not stop, or never started, is killed.
    try {
      const pid = Number(
        (await Deno.readTextFile(join(this.#dir, "node.pid"))).trim(),
      );
      // Only if that pid is still this node, not a process that took it.
      const environ = await Deno.readTextFile(`/proc/${pid}/environ`);
      if (environ.includes(`RABBITMQ_NODENAME=${this.#node}`)) {
        Deno.kill(pid, "SIGKILL");
      }
    } catch {
      // Stopped already, or no pid file.
    }
    try {
      this.#process?.kill("SIGKILL");
    } catch {
      // Exited already.
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

/** Runs `fn` against a new node of its own and a data folder, then removes both. */
export async function withOwnBroker(
  fn: (node: OwnBroker, sandbox: Sandbox) => Promise<void>,
  config: string[] = [],
): Promise<void> {
  const node = await OwnBroker.start(config);
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
