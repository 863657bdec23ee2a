/**
 * Runs the services under least privilege. Each service's permissions are
 * derived here, in one place, from AMQP_URL and DATA_DIR: network access to
 * the broker(s) named in AMQP_URL only, read and write to its own folder of
 * DATA_DIR only, and the environment variables it reads; nothing else.
 *
 *     launcher.ts run <service> [args]   one service (deno task pos|billing|inventory)
 *     launcher.ts start                  broker check, then all three in one terminal
 *     launcher.ts compile                dist/<service> with the same permissions
 *     launcher.ts test [args]            broker check, then deno test
 *
 * The launcher itself starts processes, so it runs with more than a service.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  BrokerError,
  brokerUrls,
  connectBroker,
  DEFAULT_AMQP_URL,
  redactUrl,
} from "./broker.ts";
import { DEFAULT_DATA_DIR, fail } from "./service.ts";

/** The services, each `services/<name>.ts`. */
export const SERVICES = ["pos", "billing", "inventory"] as const;
/**
 * A service's name, or a tool's: `errors` (error queues) and `watch`
 * (events), broker clients with no data of their own.
 */
export type Service = typeof SERVICES[number] | "errors" | "watch";

/** Each program's file and the environment variables it may read. */
const PROGRAMS: Record<Service, { script: string; env: string[] }> = {
  pos: { script: "services/pos.ts", env: ["AMQP_URL", "DATA_DIR", "CATALOG"] },
  billing: {
    script: "services/billing.ts",
    env: ["AMQP_URL", "DATA_DIR", "PREFETCH", "TAX_RATE"],
  },
  inventory: {
    script: "services/inventory.ts",
    env: ["AMQP_URL", "DATA_DIR", "PREFETCH"],
  },
  errors: { script: "shared/error_queue.ts", env: ["AMQP_URL"] },
  watch: { script: "shared/watch.ts", env: ["AMQP_URL"] },
};

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Where the services find their broker, data and catalog. */
export interface Placement {
  /** AMQP_URL: one broker or several, comma-separated. */
  url: string;
  /** DATA_DIR: the folder holding each service's own folder. */
  dataDir: string;
  /** CATALOG: the POS's catalog. Defaults to the demo catalog. */
  catalog?: string;
}

/** AMQP_URL, DATA_DIR and CATALOG from the environment, with their defaults. */
export function placementFromEnv(): Placement {
  return {
    url: Deno.env.get("AMQP_URL") || DEFAULT_AMQP_URL,
    dataDir: Deno.env.get("DATA_DIR") || DEFAULT_DATA_DIR,
    catalog: Deno.env.get("CATALOG") || undefined,
  };
}

/** Files a command line names for reading: `pos --file X`, `inventory load X`. */
function filesNamedIn(service: Service, args: string[]): string[] {
  const files: string[] = [];
  args.forEach((arg, i) => {
    if (service === "pos" && arg === "--file" && args[i + 1]) {
      files.push(args[i + 1]);
    } else if (service === "pos" && arg.startsWith("--file=")) {
      files.push(arg.slice("--file=".length));
    } else if (service === "pos" && arg === "--catalog" && args[i + 1]) {
      files.push(args[i + 1]);
    } else if (service === "inventory" && arg === "load" && args[i + 1]) {
      files.push(args[i + 1]);
    }
  });
  return files;
}

/**
 * The Deno permission flags of a service: the broker hosts and ports of
 * `url`, its own folder under `dataDir`, its environment variables, and
 * `--no-prompt` so that anything else fails at once instead of asking.
 */
export function permissionFlags(
  service: Service,
  placement: Placement,
  args: string[] = [],
): string[] {
  const hosts = brokerUrls(placement.url).map((url) => {
    const port = url.port || (url.protocol === "amqps:" ? "5671" : "5672");
    return `${url.hostname}:${port}`;
  });
  const flags = [
    "--no-prompt",
    `--allow-net=${hosts.join(",")}`,
    `--allow-env=${PROGRAMS[service].env.join(",")}`,
  ];
  if (service === "errors" || service === "watch") return flags;
  const folder = join(placement.dataDir, service);
  const reads = [folder, ...filesNamedIn(service, args)];
  if (service === "pos") {
    reads.push(placement.catalog ?? join(ROOT, "contracts", "catalog.csv"));
  }
  return [
    ...flags,
    `--allow-read=${reads.join(",")}`,
    `--allow-write=${folder}`,
  ];
}

/**
 * A small young generation and a bounded old one: the services' live data
 * is bounded by prefetch and the confirm window (a few MB), so a tight heap
 * keeps their memory flat and their GC pauses short.
 */
const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--max-old-space-size=48";

/** The command line that runs a service under its permissions. */
export function serviceCommand(
  service: Service,
  placement: Placement,
  args: string[] = [],
): string[] {
  return [
    "run",
    ...permissionFlags(service, placement, args),
    V8_FLAGS,
    join(ROOT, PROGRAMS[service].script),
    ...args,
  ];
}

async function answers(url: string): Promise<boolean> {
  try {
    const connection = await connectBroker({
      url,
      name: "launcher",
      timeout: 2000,
    });
    await connection.close();
    return true;
  } catch (error) {
    if (
      error instanceof BrokerError && /refused:|check the/.test(error.message)
    ) {
      // The broker answered but refused us: starting another will not help.
      throw error;
    }
    return false;
  }
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false; // Not installed.
  }
}

/**
 * Makes sure a broker answers at `url`: it does already; or Docker Compose
 * starts compose.yaml's; or a locally installed `rabbitmq-server` starts.
 *
 * @throws {Error} saying how to get a broker when none can be had.
 */
export async function ensureBroker(url: string): Promise<void> {
  if (await answers(url)) return;
  const shown = redactUrl(url.split(",")[0]);
  const local = brokerUrls(url).some((entry) =>
    ["localhost", "127.0.0.1", "[::1]"].includes(entry.hostname)
  );
  if (local && await succeeds("docker", ["info"])) {
    console.error(`No broker at "${shown}": starting compose.yaml's RabbitMQ.`);
    if (await succeeds("docker", ["compose", "up", "-d", "--wait"])) {
      if (await answers(url)) return;
    }
  } else if (local && await succeeds("rabbitmq-server", ["-detached"])) {
    console.error(
      `No broker at "${shown}": started the local rabbitmq-server.`,
    );
    for (let i = 0; i < 120; i++) {
      if (await answers(url)) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  throw new Error(
    `No broker answers at "${shown}". Start one with "docker compose up -d --wait" ` +
      `(or install RabbitMQ), or point AMQP_URL at a running broker.`,
  );
}

/**
 * The one terminal the services share: each line starts with its service's
 * name, and a line left open (a prompt) is ended before another service's.
 */
class SharedTerminal {
  readonly #encoder = new TextEncoder();
  #openLine: string | undefined;

  /** Copies `stream` to `output`, each line prefixed with `[name]`. */
  async copy(
    name: string,
    stream: ReadableStream<Uint8Array>,
    output: { writeSync(data: Uint8Array): number },
  ): Promise<void> {
    const prefix = `[${name.padEnd(9)}] `;
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      let out = "";
      for (const char of text) {
        if (this.#openLine !== prefix) {
          if (this.#openLine !== undefined) out += "\n";
          out += prefix;
          this.#openLine = prefix;
        }
        out += char;
        if (char === "\n") this.#openLine = undefined;
      }
      output.writeSync(this.#encoder.encode(out));
    }
  }
}

function spawn(
  service: Service,
  placement: Placement,
  options: { args?: string[]; stdin: "inherit" | "null"; piped: boolean },
): Deno.ChildProcess {
  const output = options.piped ? "piped" : "inherit";
  return new Deno.Command(Deno.execPath(), {
    args: serviceCommand(service, placement, options.args),
    stdin: options.stdin,
    stdout: output,
    stderr: output,
  }).spawn();
}

/** Forwards SIGINT and SIGTERM to the children; returns the remover. */
function forwardSignals(children: Deno.ChildProcess[]): () => void {
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => {
      for (const child of children) {
        try {
          child.kill(signal);
        } catch {
          // Exited already.
        }
      }
    };
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) {
      Deno.removeSignalListener(signal, listener);
    }
  };
}

async function runOne(service: Service, args: string[]): Promise<number> {
  const child = spawn(service, placementFromEnv(), {
    args,
    stdin: "inherit",
    piped: false,
  });
  const remove = forwardSignals([child]);
  const { code } = await child.status;
  remove();
  return code;
}

async function startAll(): Promise<number> {
  const placement = placementFromEnv();
  await ensureBroker(placement.url);
  const consumers = (["billing", "inventory"] as const).map((service) => ({
    service,
    child: spawn(service, placement, { stdin: "null", piped: true }),
  }));
  // The consumers declare their queues before the first sale is rung up.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const pos = spawn("pos", placement, { stdin: "inherit", piped: true });
  const all = [...consumers.map((entry) => entry.child), pos];
  const remove = forwardSignals(all);
  const terminal = new SharedTerminal();
  const copies = [
    ...consumers,
    { service: "pos" as const, child: pos },
  ].flatMap(({ service, child }) => [
    terminal.copy(service, child.stdout, Deno.stdout),
    terminal.copy(service, child.stderr, Deno.stderr),
  ]);
  const { code } = await pos.status;
  for (const { child } of consumers) child.kill("SIGTERM");
  const codes = await Promise.all(consumers.map(({ child }) => child.status));
  await Promise.all(copies);
  remove();
  return Math.max(code, ...codes.map((status) => status.code));
}

async function compileAll(): Promise<number> {
  const placement = placementFromEnv();
  for (const service of SERVICES) {
    const output = join(ROOT, "dist", service);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        ...permissionFlags(service, placement),
        V8_FLAGS,
        "--output",
        output,
        join(ROOT, PROGRAMS[service].script),
      ],
      stdin: "null",
    }).spawn().status;
    if (code !== 0) return code;
    console.log(`Built ${output}`);
  }
  return 0;
}

async function runTests(args: string[]): Promise<number> {
  await ensureBroker(placementFromEnv().url);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-run",
      "--allow-env",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-sys",
      ...args,
    ],
    cwd: ROOT,
    stdin: "null",
  }).spawn().status;
  return code;
}

const USAGE = `Usage: launcher.ts run <${
  SERVICES.join("|")
}|errors|watch> [args] | start | compile | test [args]`;

if (import.meta.main) {
  // `deno task pos -- --count 5` passes the "--" along: it is not an argument.
  const [command, ...rest] = Deno.args.filter((arg, i) =>
    !(arg === "--" && i === Deno.args.indexOf("--"))
  );
  try {
    let code: number;
    if (
      command === "run" &&
      Object.hasOwn(PROGRAMS, rest[0])
    ) {
      code = await runOne(rest[0] as Service, rest.slice(1));
    } else if (command === "start") {
      code = await startAll();
    } else if (command === "compile") {
      code = await compileAll();
    } else if (command === "test") {
      code = await runTests(rest);
    } else {
      console.error(USAGE);
      code = 2;
    }
    Deno.exit(code);
  } catch (error) {
    fail("launcher", error);
  }
}
