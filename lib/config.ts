/**
 * The settings every service reads, each from a flag or else an environment
 * variable or else a default, resolved by one function that the services
 * and the launcher both call, so that they cannot disagree.
 *
 * @module
 */
import { DEFAULT_AMQP_URL } from "./amqp_url.ts";
import { UsageError } from "./errors.ts";

/** Where the services keep their data unless DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = "./data";
/** Unacked deliveries per consumer unless PREFETCH says otherwise. */
export const DEFAULT_PREFETCH = 200;

/** The configuration a service runs with. */
export interface Config {
  /** AMQP_URL or `--url`: one broker or several, comma-separated. */
  url: string;
  /** DATA_DIR or `--data-dir`: the folder holding each service's own folder. */
  dataDir: string;
  /** PREFETCH or `--prefetch`. */
  prefetch: number;
}

/** A setting of {@linkcode Config}: its flag, its variable, its help. */
export interface Setting {
  /** The flag, without dashes. */
  flag: string;
  /** The environment variable. */
  env: string;
  /** What the flag takes, for help: `<url>`. */
  value: string;
  /** One line of help. */
  help: string;
}

/** The settings, by their {@linkcode Config} key. */
export const SETTINGS: Record<keyof Config, Setting> = {
  url: {
    flag: "url",
    env: "AMQP_URL",
    value: "url",
    help: `broker(s), comma-separated; default ${DEFAULT_AMQP_URL}`,
  },
  dataDir: {
    flag: "data-dir",
    env: "DATA_DIR",
    value: "dir",
    help: `where data files are kept; default ${DEFAULT_DATA_DIR}`,
  },
  prefetch: {
    flag: "prefetch",
    env: "PREFETCH",
    value: "n",
    help: `unacked deliveries per consumer; default ${DEFAULT_PREFETCH}`,
  },
};

/**
 * The configuration from parsed flags and the environment: a flag wins
 * over its variable, a variable over the default.
 *
 * @throws {UsageError} naming a value that cannot be used.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: (name: string) => string | undefined,
): Config {
  const read = (key: keyof Config) => {
    const { flag, env: variable } = SETTINGS[key];
    const value = flags[flag];
    return typeof value === "string" ? value : env(variable) || undefined;
  };
  const prefetchText = read("prefetch") ?? String(DEFAULT_PREFETCH);
  const prefetch = Number(prefetchText);
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65535) {
    throw new UsageError(
      `Invalid prefetch "${prefetchText}": use 1 to 65535`,
    );
  }
  return {
    url: read("url") ?? DEFAULT_AMQP_URL,
    dataDir: read("dataDir") ?? DEFAULT_DATA_DIR,
    prefetch,
  };
}

/**
 * An environment variable, or undefined when it is not set or this
 * process's permissions do not let it read that one.
 */
export function readEnv(name: string): string | undefined {
  const { state } = Deno.permissions.querySync({ name: "env", variable: name });
  return state === "granted" ? Deno.env.get(name) || undefined : undefined;
}
