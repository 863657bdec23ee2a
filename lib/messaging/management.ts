/**
 * A small client of RabbitMQ's management HTTP API (plugin
 * `rabbitmq_management`): what `deno task broker -- setup` reads and
 * changes on a broker that may be on another host.
 *
 * @module
 */
import { brokerUrls, redactUrl } from "../config/mod.ts";
import { errorMessage } from "../core/mod.ts";

/** A request to the management API that failed: its status, when it answered. */
export class ManagementError extends Error {
  /** The HTTP status, when the API answered. */
  readonly status: number | undefined;

  /** Creates the error; `message` is one line without credentials. */
  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "ManagementError";
    this.status = status;
  }
}

/** Options of {@linkcode Management}. */
export interface ManagementOptions {
  /** The API's base URL, e.g. `http://localhost:15672`, without credentials. */
  url: string;
  /** The user, an administrator. */
  username: string;
  /** Its password. */
  password: string;
  /**
   * Milliseconds a request may take.
   *
   * @default {10000}
   */
  timeoutMs?: number;
}

/**
 * The management API's URL for an AMQP URL: the first broker's host, port
 * 15672 (15671 for `amqps://`), and its credentials.
 *
 * @example
 * ```ts
 * import { managementOf } from "./management.ts";
 *
 * managementOf("amqp://admin:s3cret@rmq1:5672/shop");
 * // { url: "http://rmq1:15672", username: "admin", password: "s3cret" }
 * ```
 */
export function managementOf(
  amqpUrl: string,
  managementUrl?: string,
): { url: string; username: string; password: string } {
  const [first] = brokerUrls(amqpUrl);
  if (first === undefined) throw new ManagementError("AMQP_URL is empty");
  const username = decodeURIComponent(first.username || "guest");
  const password = decodeURIComponent(first.password || "guest");
  if (managementUrl !== undefined) {
    const parsed = new URL(managementUrl);
    const url = `${parsed.protocol}//${parsed.host}${
      parsed.pathname.replace(/\/$/, "")
    }`;
    return parsed.username
      ? {
        url,
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      }
      : { url, username, password };
  }
  const secure = first.protocol === "amqps:";
  return {
    url: `${secure ? "https" : "http"}://${first.hostname}:${
      secure ? 15671 : 15672
    }`,
    username,
    password,
  };
}

/** The management API of one broker, as an administrator. */
export class Management {
  /** Where it is, without credentials, for lines. */
  readonly url: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;

  /** A client of the API at `options.url`. */
  constructor(options: ManagementOptions) {
    this.url = redactUrl(options.url).replace(/\/$/, "");
    this.#authorization = `Basic ${
      btoa(
        String.fromCharCode(
          ...new TextEncoder().encode(
            `${options.username}:${options.password}`,
          ),
        ),
      )
    }`;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** The path of `segments`, each encoded: `["queues", "/", "q"]`. */
  static path(...segments: string[]): string {
    return segments.map(encodeURIComponent).join("/");
  }

  /**
   * GETs `path` (under `/api/`); `undefined` when it is not there.
   *
   * @throws {ManagementError} for any other failure.
   */
  async get<T>(path: string): Promise<T | undefined> {
    const response = await this.#request("GET", path);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    return await response.json() as T;
  }

  /** PUTs `body` as JSON to `path`. */
  async put(path: string, body: unknown): Promise<void> {
    await (await this.#request("PUT", path, body)).body?.cancel();
  }

  /** POSTs `body` as JSON to `path`. */
  async post(path: string, body: unknown): Promise<void> {
    await (await this.#request("POST", path, body)).body?.cancel();
  }

  /** DELETEs `path`; one that is not there is no failure. */
  async delete(path: string): Promise<void> {
    const response = await this.#request("DELETE", path);
    await response.body?.cancel();
  }

  async #request(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Response> {
    const where = `${method} ${this.url}/api/${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.url}/api/${path}`, {
        method,
        headers: {
          authorization: this.#authorization,
          ...body === undefined ? {} : { "content-type": "application/json" },
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      throw new ManagementError(
        `The management API did not answer (${where}): ${
          errorMessage(error)
        }; is the rabbitmq_management plugin enabled? --management-url says where it is`,
        undefined,
        { cause: error },
      );
    }
    if (response.ok || (response.status === 404 && method !== "PUT")) {
      return response;
    }
    const text = (await response.text()).slice(0, 500);
    let reason = text;
    try {
      const parsed = JSON.parse(text) as { reason?: unknown };
      if (typeof parsed.reason === "string") reason = parsed.reason;
    } catch {
      // Not JSON: the text as it came.
    }
    const advice = response.status === 401
      ? ": the user of AMQP_URL must be an administrator the API accepts"
      : "";
    throw new ManagementError(
      `${where} answered ${response.status}: ${
        reason.replace(/\s+/g, " ").trim()
      }${advice}`,
      response.status,
    );
  }
}
