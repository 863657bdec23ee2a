/**
 * The settings every service reads, each from a flag or else an environment
 * variable or else a default, resolved by one function that the services
 * and the launcher both call, so that they cannot disagree.
 *
 * @module
 */
import { DEFAULT_AMQP_URL } from "./amqp_url.ts";
import {
  errorMessage,
  type MoneyFormat,
  parseMoney,
  parseTimeZone,
  UsageError,
} from "../core/mod.ts";
import {
  DEFAULT_RETENTION,
  parseDuration,
  parseRetention,
} from "./retention.ts";

/** Where the services keep their data unless DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = "./data";
/** Where /health and /metrics are served unless HTTP_HOST says otherwise. */
export const DEFAULT_HTTP_HOST = "127.0.0.1";
/** Unacked deliveries per consumer unless PREFETCH says otherwise. */
export const DEFAULT_PREFETCH = 200;
/**
 * The largest message body a consumer reads unless MAX_MESSAGE_BYTES says
 * otherwise: a sale of 1,000 items is about 60 KiB.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;

/** The configuration a service runs with. */
export interface Config {
  /** AMQP_URL or `--url`: one broker or several, comma-separated. */
  url: string;
  /**
   * AMQP_CA_FILE or `--ca-file`: PEM certificates of the authorities an
   * `amqps://` broker's certificate must chain to; unset, the system's.
   */
  caFile?: string;
  /** AMQP_CERT_FILE or `--cert-file`: a PEM client certificate to present over TLS. */
  certFile?: string;
  /** AMQP_KEY_FILE or `--key-file`: the PEM key of that certificate. */
  keyFile?: string;
  /** DATA_DIR or `--data-dir`: the folder holding each service's own folder. */
  dataDir: string;
  /** PREFETCH or `--prefetch`. */
  prefetch: number;
  /** MAX_MESSAGE_BYTES or `--max-message-bytes`. */
  maxMessageBytes: number;
  /** QUEUE_TYPE or `--queue-type`: how the services' queues are declared. */
  queueType: QueueType;
  /**
   * DATABASE_URL or `--database-url`: a PostgreSQL database the service
   * keeps its state in, in a schema of its own; unset, a SQLite file under
   * DATA_DIR.
   */
  databaseUrl?: string;
  /**
   * HTTP_PORT or `--http-port`: serve `/health` and `/metrics` on this
   * port; unset, nothing is served.
   */
  httpPort?: number;
  /** HTTP_HOST or `--http-host`: the address to serve on. */
  httpHost: string;
  /**
   * RETENTION or `--retention`: how long inbox keys and sent outbox
   * messages are kept, in milliseconds.
   */
  retentionMs: number;
  /**
   * CLOSE_GRACE or `--close-grace`: how long after a till's day close a
   * consumer waits for its last sales before it says they are missing, in
   * milliseconds.
   */
  closeGraceMs: number;
  /**
   * GAP_AGE or `--gap-age`: how old a gap in a till's sales is before it
   * is shown, in milliseconds.
   */
  gapAgeMs: number;
  /** MONEY or `--money`: the currency's symbol and the locale amounts are shown in. */
  money: MoneyFormat;
  /** TIME_ZONE or `--time-zone`: the shop's zone, for the times people read. */
  timeZone: string;
}

/** The settings of a program that talks AMQP: the broker, and TLS. */
export const AMQP_SETTINGS: readonly (keyof Config)[] = [
  "url",
  "caFile",
  "certFile",
  "keyFile",
];

/**
 * Classic queues (one node; the .NET services declare them so), or quorum
 * queues (replicated over a cluster's nodes).
 */
export type QueueType = "classic" | "quorum";

/** A setting of {@linkcode Config}: its flag, its variable, its help. */
export interface Setting {
  /** The flag, without dashes. */
  flag: string;
  /** The environment variable. */
  env: string;
  /**
   * A variable naming a file that holds the value (Docker secrets'
   * `_FILE` convention), read when neither the flag nor `env` gives one.
   */
  file?: string;
  /**
   * Whether the value names a file the program reads (its permission set
   * grows by that file).
   *
   * @default {false}
   */
  path?: boolean;
  /** What the flag takes, for help: `<url>`. */
  value: string;
  /** One line of help. */
  help: string;
  /**
   * The value as its variable takes it, for handing it on.
   *
   * @default {String}
   */
  text?(value: never): string;
}

/** The settings, by their {@linkcode Config} key. */
export const SETTINGS: Record<keyof Config, Setting> = {
  url: {
    flag: "url",
    env: "AMQP_URL",
    file: "AMQP_URL_FILE",
    value: "url",
    help:
      `broker(s), comma-separated; default ${DEFAULT_AMQP_URL}; as a flag, its password shows in ps: prefer AMQP_URL_FILE`,
  },
  caFile: {
    flag: "ca-file",
    env: "AMQP_CA_FILE",
    value: "file",
    path: true,
    help: "with amqps://: the CA certificates (PEM) to verify the broker by",
  },
  certFile: {
    flag: "cert-file",
    env: "AMQP_CERT_FILE",
    value: "file",
    path: true,
    help: "with amqps://: a client certificate (PEM) to present",
  },
  keyFile: {
    flag: "key-file",
    env: "AMQP_KEY_FILE",
    value: "file",
    path: true,
    help: "with amqps://: the client certificate's key (PEM)",
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
  maxMessageBytes: {
    flag: "max-message-bytes",
    env: "MAX_MESSAGE_BYTES",
    value: "n",
    help:
      `larger messages are set aside unread; default ${DEFAULT_MAX_MESSAGE_BYTES}`,
  },
  databaseUrl: {
    flag: "database-url",
    env: "DATABASE_URL",
    file: "DATABASE_URL_FILE",
    value: "url",
    help:
      "postgres://… to keep state in PostgreSQL (?sslmode=verify-full&sslrootcert=ca.pem for TLS); default a SQLite file; as a flag, its password shows in ps",
  },
  httpPort: {
    flag: "http-port",
    env: "HTTP_PORT",
    value: "port",
    help: "serve /health and /metrics on this port; default none",
  },
  httpHost: {
    flag: "http-host",
    env: "HTTP_HOST",
    value: "host",
    help: `the address to serve on; default ${DEFAULT_HTTP_HOST}`,
  },
  retentionMs: {
    flag: "retention",
    env: "RETENTION",
    value: "time",
    help:
      `inbox keys and sent outbox messages are kept this long; default ${DEFAULT_RETENTION}`,
    text: (ms: number) => `${ms / 1000}s`,
  },
  closeGraceMs: {
    flag: "close-grace",
    env: "CLOSE_GRACE",
    value: "time",
    help:
      "how long after a till's close its last sales may still come before they are missing; default 1m",
    text: (ms: number) => `${ms / 1000}s`,
  },
  gapAgeMs: {
    flag: "gap-age",
    env: "GAP_AGE",
    value: "time",
    help:
      "how old a gap in a till's sales is before status and the metrics show it; default 5m",
    text: (ms: number) => `${ms / 1000}s`,
  },
  money: {
    flag: "money",
    env: "MONEY",
    value: "format",
    help:
      'the currency symbol and locale amounts are shown in, e.g. "NPR ne-NP"; default "Rs en-US"',
    text: (money: MoneyFormat) => `${money.symbol} ${money.locale}`,
  },
  timeZone: {
    flag: "time-zone",
    env: "TIME_ZONE",
    value: "zone",
    help:
      "the shop's time zone for the times people read, e.g. Asia/Kathmandu; default UTC (JSON stays UTC)",
  },
  queueType: {
    flag: "queue-type",
    env: "QUEUE_TYPE",
    value: "type",
    help: "classic or quorum; default classic",
  },
};

/**
 * A setting's value from the file `variable` names: its first line.
 *
 * @throws {UsageError} naming the variable and the file when it cannot be
 * read.
 */
function fromFile(
  variable: string,
  path: string,
  readFile: (path: string) => string,
): string {
  try {
    return readFile(path).split(/\r?\n/)[0].trim();
  } catch (error) {
    throw new UsageError(
      `Cannot read ${variable} "${path}": ${errorMessage(error)}`,
    );
  }
}

/**
 * The configuration from parsed flags and the environment: a flag wins
 * over its variable, a variable over the file its `_FILE` variable names,
 * and that over the default.
 *
 * @throws {UsageError} naming a value that cannot be used.
 */
export function resolveConfig(
  flags: Record<string, unknown>,
  env: (name: string) => string | undefined,
  readFile: (path: string) => string = Deno.readTextFileSync,
): Config {
  const read = (key: keyof Config) => {
    const { flag, env: variable, file } = SETTINGS[key];
    const value = flags[flag];
    if (typeof value === "string") return value;
    const text = env(variable);
    // An AMQP_URL set to nothing is a mistake to say, not the default
    // broker; an empty variable of any other setting is its default.
    if (text !== undefined && text !== "") return text;
    const path = file === undefined ? undefined : env(file);
    if (path) return fromFile(file!, path, readFile);
    return text === "" && key !== "url" ? undefined : text;
  };
  const whole = (
    key: "prefetch" | "maxMessageBytes" | "httpPort",
    min: number,
    max: number,
    fallback: number,
  ) => {
    const text = read(key) ?? String(fallback);
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new UsageError(
        `Invalid ${
          SETTINGS[key].flag.replaceAll("-", " ")
        } "${text}": use ${min} to ${max}`,
      );
    }
    return value;
  };
  const queueType = read("queueType") ?? "classic";
  if (queueType !== "classic" && queueType !== "quorum") {
    throw new UsageError(
      `Invalid queue type "${queueType}": use classic or quorum`,
    );
  }
  const databaseUrl = read("databaseUrl");
  if (
    databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^/]/.test(databaseUrl)
  ) {
    throw new UsageError(
      `Invalid database URL "${
        databaseUrl.replace(/:[^:@/]*@/, ":***@")
      }": use postgres://user@host:port/database`,
    );
  }
  const url = read("url") ?? DEFAULT_AMQP_URL;
  const [caFile, certFile, keyFile] =
    (["caFile", "certFile", "keyFile"] as const)
      .map(read);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      "AMQP_CERT_FILE and AMQP_KEY_FILE go together: give both or neither",
    );
  }
  // A certificate set for a plain connection would be ignored without a
  // word, and the connection made in the clear: say so instead.
  const tlsFile = caFile ?? certFile;
  if (tlsFile !== undefined && /(^|,)\s*amqp:\/\//i.test(url)) {
    throw new UsageError(
      `AMQP_CA_FILE or AMQP_CERT_FILE is set, but AMQP_URL names a plain amqp:// broker: use amqps:// for TLS`,
    );
  }
  const httpPort = read("httpPort") === undefined
    ? undefined
    : whole("httpPort", 1, 65535, 0);
  return {
    ...(databaseUrl === undefined ? {} : { databaseUrl }),
    ...(httpPort === undefined ? {} : { httpPort }),
    ...(caFile === undefined ? {} : { caFile }),
    ...(certFile === undefined ? {} : { certFile, keyFile }),
    httpHost: read("httpHost") ?? DEFAULT_HTTP_HOST,
    retentionMs: parseRetention(read("retentionMs") ?? DEFAULT_RETENTION),
    closeGraceMs: parseDuration("close grace", read("closeGraceMs") ?? "1m"),
    gapAgeMs: parseDuration("gap age", read("gapAgeMs") ?? "5m"),
    money: parseMoney(read("money") ?? "Rs en-US"),
    timeZone: parseTimeZone(read("timeZone") ?? "UTC"),
    queueType,
    url,
    dataDir: read("dataDir") ?? DEFAULT_DATA_DIR,
    prefetch: whole("prefetch", 1, 65535, DEFAULT_PREFETCH),
    // RabbitMQ's own ceiling is 512 MiB.
    maxMessageBytes: whole(
      "maxMessageBytes",
      1024,
      512 * 1024 * 1024,
      DEFAULT_MAX_MESSAGE_BYTES,
    ),
  };
}

/**
 * An environment variable (`""` when it is set to nothing), or undefined
 * when it is not set or this process's permissions do not let it read
 * that one.
 */
export function readEnv(name: string): string | undefined {
  const { state } = Deno.permissions.querySync({ name: "env", variable: name });
  return state === "granted" ? Deno.env.get(name) : undefined;
}

/**
 * The variables node-postgres reads for what we do not give it ourselves:
 * a service on PostgreSQL may read these and no others of the PG* family.
 */
export const POSTGRES_ENV: readonly string[] = [
  "PGBINARY",
  "PGCLIENT_ENCODING",
  "PGREPLICATION",
  "PGSSLMODE",
  "PGSSLNEGOTIATION",
  "PGCONNECT_TIMEOUT",
];
