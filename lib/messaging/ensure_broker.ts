/**
 * Making sure a broker answers before a whole system or its tests start:
 * the one at AMQP_URL, or one started from compose.yaml, or a locally
 * installed RabbitMQ.
 *
 * @module
 */
import { BrokerError, delay } from "../core/mod.ts";
import { brokerUrls, redactUrl } from "../config/mod.ts";
import { join } from "node:path";
import { connectBroker, type TlsFiles } from "./connection.ts";

async function answers(url: string, tls?: TlsFiles): Promise<boolean> {
  try {
    const connection = await connectBroker({
      url,
      tls,
      name: "launcher",
      timeout: 2000,
    });
    await connection.close();
    return true;
  } catch (error) {
    if (error instanceof BrokerError && error.permanent) {
      // The broker answered but refused us: starting another will not help.
      throw error;
    }
    return false;
  }
}

async function succeeds(
  command: string,
  args: string[],
  cwd?: string,
): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args,
      cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false; // Not installed.
  }
}

/** Whether `path` is there. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@linkcode ensureBroker}. */
export interface EnsureBrokerOptions {
  /**
   * The folder holding compose.yaml.
   *
   * @default {Deno.cwd()}
   */
  composeDir?: string;
  /**
   * The TLS files of an `amqps://` broker.
   *
   * @default {{}}
   */
  tls?: TlsFiles;
}

/**
 * Makes sure a broker answers at `url`: it does already; or Docker Compose
 * starts compose.yaml's; or a locally installed `rabbitmq-server` starts.
 *
 * @throws {Error} saying how to get a broker when none can be had.
 */
export async function ensureBroker(
  url: string,
  options: EnsureBrokerOptions = {},
): Promise<void> {
  const { composeDir, tls } = options;
  if (await answers(url, tls)) return;
  const shown = redactUrl(url.split(",")[0]);
  const local = brokerUrls(url).some((entry) =>
    ["localhost", "127.0.0.1", "[::1]"].includes(entry.hostname)
  );
  const composeEnv = join(composeDir ?? Deno.cwd(), ".env");
  const docker = local && await succeeds("docker", ["info"]);
  if (docker && !exists(composeEnv)) {
    throw new Error(
      `No broker answers at "${shown}". compose.yaml's takes its passwords from ${composeEnv}: copy .env.example there and fill it in, ` +
        `then "docker compose up -d --wait" and AMQP_URL=amqp://<RABBITMQ_ADMIN_USER>:<password>@localhost:5672 (or AMQP_URL_FILE)`,
    );
  }
  if (docker) {
    console.error(`No broker at "${shown}": starting compose.yaml's RabbitMQ.`);
    if (
      await succeeds("docker", ["compose", "up", "-d", "--wait"], composeDir)
    ) {
      if (await answers(url, tls)) return;
    }
  } else if (local && await succeeds("rabbitmq-server", ["-detached"])) {
    console.error(
      `No broker at "${shown}": started the local rabbitmq-server.`,
    );
    for (let i = 0; i < 120; i++) {
      if (await answers(url, tls)) return;
      await delay(500);
    }
  }
  throw new Error(
    `No broker answers at "${shown}". Start one with "docker compose up -d --wait" ` +
      `(or install RabbitMQ), or point AMQP_URL at a running broker.`,
  );
}
