/**
 * A sandbox: a throwaway virtual host, data folder and database, so that
 * tests and the benchmark use the real queue names and tables without
 * touching anyone's data.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULT_AMQP_URL, readEnv } from "../../lib/config/mod.ts";
import pg from "pg";

/**
 * Creates or deletes a virtual host of the broker at `baseUrl`, giving its
 * user every permission there: with `rabbitmqctl` where RabbitMQ is
 * installed, or else the management API of a broker in a container.
 *
 * @throws {Error} naming the step that failed.
 */
export async function manageVhost(
  baseUrl: string,
  vhost: string,
  create: boolean,
): Promise<void> {
  const base = new URL(baseUrl);
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
      const { code, stderr } = await new Deno.Command("rabbitmqctl", {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output().then((output) => ({
        code: output.code,
        stderr: new TextDecoder().decode(output.stderr),
      }));
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

/** The broker sandboxes are made on: the first of AMQP_URL, or the default. */
export function baseUrl(): string {
  return readEnv("AMQP_URL")?.split(",")[0] || DEFAULT_AMQP_URL;
}

/** Runs `fn` in a fresh virtual host and data folder, then removes both. */
export async function withSandbox(
  fn: (sandbox: Sandbox) => Promise<void>,
): Promise<void> {
  const base = baseUrl();
  const vhost = `shop-test-${crypto.randomUUID().slice(0, 8)}`;
  await manageVhost(base, vhost, true);
  const dataDir = await Deno.makeTempDir({ prefix: "shop-test-" });
  const url = new URL(base);
  url.pathname = `/${vhost}`;
  const sandbox = {
    url: url.href,
    dataDir,
    env: { AMQP_URL: url.href, DATA_DIR: dataDir },
  };
  try {
    await fn(sandbox);
  } finally {
    await manageVhost(base, vhost, false);
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The same sandbox, reached at another AMQP_URL (a proxy, a broker list). */
export function atUrl(sandbox: Sandbox, url: string): Sandbox {
  return { ...sandbox, url, env: { ...sandbox.env, AMQP_URL: url } };
}

/**
 * The PostgreSQL server sandboxes make their databases on: TEST_DATABASE_URL,
 * or the local server's; undefined where this process may not reach it.
 */
export function testDatabaseServer(): string | undefined {
  const allowed = (name: "env" | "net", detail: string) =>
    Deno.permissions.querySync(
      name === "env" ? { name, variable: detail } : { name, host: detail },
    ).state === "granted";
  const url = (allowed("env", "TEST_DATABASE_URL") &&
    Deno.env.get("TEST_DATABASE_URL")) ||
    "postgres://postgres@127.0.0.1:5432/postgres";
  const host = new URL(url);
  return allowed("net", `${host.hostname}:${host.port || 5432}`) &&
      allowed("env", "PGSSLMODE")
    ? url
    : undefined;
}

/**
 * Runs `fn` in a PostgreSQL database of its own, made on `server` (by
 * default the test server) and dropped afterwards; `fn` gets its URL.
 * False where none answers.
 */
export async function withDatabase(
  fn: (url: string) => Promise<void>,
  server: string | undefined = testDatabaseServer(),
): Promise<boolean> {
  if (!server) return false;
  // A client for each statement: the server may restart in between.
  const admin = async (sql: string) => {
    const client = new pg.Client({
      connectionString: server,
      password: () => "",
    });
    client.on("error", () => {});
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => {});
    }
  };
  const name = `shop_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await admin(`CREATE DATABASE ${name}`);
  } catch {
    return false;
  }
  try {
    const url = new URL(server);
    url.pathname = `/${name}`;
    await fn(url.href);
  } finally {
    await admin(`DROP DATABASE ${name} WITH (FORCE)`);
  }
  return true;
}
