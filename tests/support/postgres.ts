/**
 * A PostgreSQL cluster of a test's own: `initdb` and `pg_ctl` in a
 * temporary folder, on a port of its own, so that a test may restart or stop
 * its database without touching the machine's.
 *
 * @module
 */
import { join } from "node:path";

/** Where the PostgreSQL binaries are, or undefined. */
function binaries(): string | undefined {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = `/usr/lib/postgresql/${version}/bin`;
      try {
        Deno.statSync(join(bin, "initdb"));
        return bin;
      } catch {
        // Not this one.
      }
    }
  } catch {
    // None installed.
  }
  return undefined;
}

/** Why a cluster of a test's own cannot run here, or undefined when it can. */
export function ownPostgresMissing(): string | undefined {
  if (binaries() === undefined) return "initdb and pg_ctl are not installed";
  if (Deno.uid() !== 0) return "not root, to run them as the postgres user";
  return undefined;
}

/** A running cluster of the test's own. */
export interface OwnPostgres {
  /** Its URL, as the `postgres` superuser (trust). */
  url: string;
  /** Restarts it, waiting until it is up again. */
  restart(): Promise<void>;
}

/** Runs `args` of `pg_ctl`, `initdb` or such as the postgres user. */
async function asPostgres(program: string, args: string[]): Promise<void> {
  const { code, stderr, stdout } = await new Deno.Command("runuser", {
    args: ["-u", "postgres", "--", program, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const text = new TextDecoder().decode(stderr) ||
      new TextDecoder().decode(stdout);
    throw new Error(`${program.split("/").at(-1)} failed: ${text.trim()}`);
  }
}

/** A port nothing listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Runs `fn` with a cluster of its own, stopped and removed afterwards.
 *
 * @throws {Error} when the cluster cannot be made (see
 * {@linkcode ownPostgresMissing}).
 */
export async function withOwnPostgres(
  fn: (server: OwnPostgres) => Promise<void>,
  options: {
    /** PEM certificate and key: TLS on, beside plain connections. */
    ssl?: { certFile: string; keyFile: string };
  } = {},
): Promise<void> {
  const bin = binaries();
  if (!bin) throw new Error("initdb and pg_ctl are not installed");
  const dir = await Deno.makeTempDir({ prefix: "shop-pg-" });
  const data = join(dir, "data");
  const port = freePort();
  await Deno.mkdir(data);
  const ssl: string[] = [];
  if (options.ssl) {
    // The server reads its key only when its own user alone may.
    await Deno.copyFile(options.ssl.certFile, join(dir, "server.crt"));
    await Deno.copyFile(options.ssl.keyFile, join(dir, "server.key"));
    await Deno.chmod(join(dir, "server.key"), 0o600);
    ssl.push(
      "-c ssl=on",
      `-c ssl_cert_file=${join(dir, "server.crt")}`,
      `-c ssl_key_file=${join(dir, "server.key")}`,
    );
  }
  await new Deno.Command("chown", { args: ["-R", "postgres:", dir] }).output();
  const ctl = (action: string) =>
    asPostgres(join(bin, "pg_ctl"), [
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-o",
      [`-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, ...ssl].join(" "),
      "-w",
      "-m",
      "fast",
      action,
    ]);
  try {
    await asPostgres(join(bin, "initdb"), [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
    ]);
    await ctl("start");
    try {
      await fn({
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        restart: () => ctl("restart"),
      });
    } finally {
      await ctl("stop").catch(() => {});
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
