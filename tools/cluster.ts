/**
 * A local RabbitMQ cluster on loopback, for trying scale-out and for tests:
 * three nodes (`rmq1@localhost` …) of the installed rabbitmq-server, each
 * with its own ports and data folder, and an Erlang cookie of the cluster's
 * own, run as the `rabbitmq` user with HOME set to the cluster's folder so
 * that the nodes read that cookie and not the system broker's.
 *
 *     deno task cluster -- up [--nodes 3] [--port 5681] [--dir data/cluster]
 *     deno task cluster -- url          AMQP_URL listing every node
 *     deno task cluster -- status       which nodes run
 *     deno task cluster -- kill <n>     SIGKILL node n's VM
 *     deno task cluster -- start <n>    start node n again; it rejoins
 *     deno task cluster -- stop <n>     stop node n cleanly
 *     deno task cluster -- down         stop every node and remove the folder
 *
 * @module
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { HelpRequested, runMain, VERSION } from "../lib/cli/mod.ts";
import { delay, errorMessage, UsageError } from "../lib/core/mod.ts";
import { wholeNumber } from "../lib/config/mod.ts";

const NAME = "cluster";
const BIN = "/usr/lib/rabbitmq/bin";

const HELP = `
Cluster: a local RabbitMQ cluster on loopback, from the installed
rabbitmq-server (run as root: the nodes run as the rabbitmq user).

Usage:
  deno task cluster -- up [--nodes 3] [--port 5681] [--dir data/cluster]
  deno task cluster -- url                AMQP_URL listing every node
  deno task cluster -- status             which nodes run
  deno task cluster -- kill <n>           SIGKILL node n's VM
  deno task cluster -- start <n>          start node n again; it rejoins
  deno task cluster -- stop <n>           stop node n cleanly
  deno task cluster -- down               stop every node, remove the folder

Options:
  --nodes <n>        nodes to start with up; default 3
  --port <p>         AMQP port of node 1; node n listens on p + n - 1
  --dir <path>       where the cluster keeps its nodes; default data/cluster
  -h, --help         show this help
  --version          show the version`;

/** A cluster as `up` left it, kept in `<dir>/cluster.json`. */
export interface ClusterLayout {
  /** The cluster's folder. */
  dir: string;
  /** AMQP port of node 1. */
  port: number;
  /** How many nodes. */
  nodes: number;
}

/** Node `n`'s name. */
export function nodeName(n: number): string {
  return `rmq${n}@localhost`;
}

/** AMQP_URL naming every node of the cluster. */
export function clusterUrl(layout: ClusterLayout): string {
  return Array.from(
    { length: layout.nodes },
    (_, i) => `amqp://guest:guest@localhost:${layout.port + i}`,
  ).join(",");
}

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code,
    output: (decoder.decode(stdout) + decoder.decode(stderr)).trim(),
  };
}

/** The environment node `n` runs with. */
function nodeEnv(layout: ClusterLayout, n: number): Record<string, string> {
  const dir = join(layout.dir, `rmq${n}`);
  return {
    // The cookie in this HOME is the cluster's own.
    HOME: join(layout.dir, "home"),
    RABBITMQ_NODENAME: nodeName(n),
    RABBITMQ_DIST_PORT: String(layout.port + 20_000 + n - 1),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_PID_FILE: join(dir, "node.pid"),
  };
}

/** Runs a RabbitMQ command as the rabbitmq user, with node `n`'s environment. */
function asRabbit(
  layout: ClusterLayout,
  n: number,
  script: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  const env = Object.entries(nodeEnv(layout, n)).map(([k, v]) => `${k}=${v}`);
  // runuser, not su: su resets HOME, and with it the cookie.
  return run("runuser", [
    "-u",
    "rabbitmq",
    "--",
    "env",
    ...env,
    join(BIN, script),
    ...args,
  ]);
}

/** `rabbitmqctl -n <node n> …`; throws with its output on failure. */
async function ctl(
  layout: ClusterLayout,
  n: number,
  ...args: string[]
): Promise<string> {
  const { code, output } = await asRabbit(layout, n, "rabbitmqctl", [
    "-n",
    nodeName(n),
    ...args,
  ]);
  if (code !== 0) {
    throw new Error(`rabbitmqctl ${args[0]} on ${nodeName(n)}: ${output}`);
  }
  return output;
}

/** Starts node `n` in the background and waits until it runs. */
async function startNode(layout: ClusterLayout, n: number): Promise<void> {
  const { code, output } = await asRabbit(layout, n, "rabbitmq-server", [
    "-detached",
  ]);
  if (code !== 0) throw new Error(`Cannot start ${nodeName(n)}: ${output}`);
  // A detached node takes a moment to be reachable at all.
  for (let i = 0;; i++) {
    const ping = await asRabbit(layout, n, "rabbitmqctl", [
      "-n",
      nodeName(n),
      "await_startup",
      "--timeout",
      "120",
    ]);
    if (ping.code === 0) return;
    if (i >= 60) {
      throw new Error(`${nodeName(n)} did not start: ${ping.output}`);
    }
    await delay(500);
  }
}

async function writeNode(layout: ClusterLayout, n: number): Promise<void> {
  const dir = join(layout.dir, `rmq${n}`);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "enabled_plugins"), "[].\n");
  await Deno.writeTextFile(
    join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${layout.port + n - 1}`,
      "loopback_users = none",
      // As compose.yaml's broker: no message above 1 MiB.
      "max_message_size = 1048576",
      "",
    ].join("\n"),
  );
}

/** Starts a new cluster and joins its nodes; returns its layout. */
export async function up(layout: ClusterLayout): Promise<ClusterLayout> {
  if (Deno.uid() !== 0) {
    throw new Error("Run as root: the nodes run as the rabbitmq user");
  }
  await Deno.mkdir(join(layout.dir, "home"), { recursive: true });
  const cookie = join(layout.dir, "home", ".erlang.cookie");
  await Deno.writeTextFile(
    cookie,
    crypto.randomUUID().replaceAll("-", "").toUpperCase(),
  );
  await Deno.chmod(cookie, 0o400);
  const nodes = Array.from({ length: layout.nodes }, (_, i) => i + 1);
  for (const n of nodes) await writeNode(layout, n);
  await Deno.writeTextFile(
    join(layout.dir, "cluster.json"),
    JSON.stringify(layout),
  );
  const chown = await run("chown", ["-R", "rabbitmq:rabbitmq", layout.dir]);
  if (chown.code !== 0) throw new Error(`chown: ${chown.output}`);
  await Promise.all(nodes.map((n) => startNode(layout, n)));
  for (const n of nodes.slice(1)) {
    await ctl(layout, n, "stop_app");
    await ctl(layout, n, "join_cluster", nodeName(1));
    await ctl(layout, n, "start_app");
  }
  return layout;
}

/** The layout `up` wrote in `dir`. */
export async function readLayout(dir: string): Promise<ClusterLayout> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "cluster.json")));
  } catch {
    throw new Error(`No cluster in "${dir}": start one with "cluster up"`);
  }
}

/** Kills node `n`'s VM with SIGKILL, as a crash would. */
export async function kill(layout: ClusterLayout, n: number): Promise<void> {
  const pid = Number(
    (await Deno.readTextFile(join(layout.dir, `rmq${n}`, "node.pid"))).trim(),
  );
  Deno.kill(pid, "SIGKILL");
  for (let i = 0; i < 100; i++) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      return; // Gone.
    }
    await delay(100);
  }
}

/** Starts node `n` again; it rejoins the cluster on its own data. */
export async function start(layout: ClusterLayout, n: number): Promise<void> {
  await startNode(layout, n);
}

/** Stops node `n` cleanly. */
export async function stop(layout: ClusterLayout, n: number): Promise<void> {
  await ctl(layout, n, "stop");
}

/** Stops every node and removes the cluster's folder. */
export async function down(layout: ClusterLayout): Promise<void> {
  for (let n = 1; n <= layout.nodes; n++) {
    await asRabbit(layout, n, "rabbitmqctl", ["-n", nodeName(n), "stop"]);
  }
  await Deno.remove(layout.dir, { recursive: true });
}

/** Whether each node runs, as `<node>  running|stopped`. */
async function status(layout: ClusterLayout): Promise<string[]> {
  const lines: string[] = [];
  for (let n = 1; n <= layout.nodes; n++) {
    const { code } = await asRabbit(layout, n, "rabbitmqctl", [
      "-n",
      nodeName(n),
      "ping",
    ]);
    lines.push(
      `${nodeName(n).padEnd(18)} port ${layout.port + n - 1}  ${
        code === 0 ? "running" : "stopped"
      }`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: Deno.args.filter((arg, i) => !(arg === "--" && i === 0)),
        allowPositionals: true,
        options: {
          nodes: { type: "string" },
          port: { type: "string" },
          dir: { type: "string" },
          help: { type: "boolean", short: "h" },
          version: { type: "boolean" },
        },
      });
    } catch (error) {
      throw new UsageError(errorMessage(error));
    }
  })();
  if (values.help) throw new HelpRequested(HELP.trim());
  if (values.version) {
    throw new HelpRequested(`ShoppingApp ${VERSION} (cluster)`);
  }
  const dir = resolve(values.dir ?? join("data", "cluster"));
  const [command, which] = positionals;
  const node = async () => {
    const layout = await readLayout(dir);
    const n = wholeNumber("node", which, { min: 1, max: layout.nodes });
    return { layout, n };
  };
  if (command === "up") {
    const layout = await up({
      dir,
      nodes: wholeNumber("nodes", values.nodes ?? "3", { min: 1, max: 9 }),
      port: wholeNumber("port", values.port ?? "5681", {
        min: 1024,
        max: 40_000,
      }),
    });
    console.log(`Cluster of ${layout.nodes} node(s) up. AMQP_URL:`);
    console.log(clusterUrl(layout));
  } else if (command === "url") {
    console.log(clusterUrl(await readLayout(dir)));
  } else if (command === "status") {
    console.log((await status(await readLayout(dir))).join("\n"));
  } else if (command === "kill") {
    const { layout, n } = await node();
    await kill(layout, n);
    console.log(`Killed ${nodeName(n)}.`);
  } else if (command === "start") {
    const { layout, n } = await node();
    await start(layout, n);
    console.log(`Started ${nodeName(n)}.`);
  } else if (command === "stop") {
    const { layout, n } = await node();
    await stop(layout, n);
    console.log(`Stopped ${nodeName(n)}.`);
  } else if (command === "down") {
    await down(await readLayout(dir));
    console.log("Cluster down.");
  } else {
    throw new UsageError(
      `Unknown command "${
        command ?? ""
      }": use up, url, status, kill, start, stop or down`,
    );
  }
}

if (import.meta.main) Deno.exit(await runMain(NAME, main));
