/**
 * An HTTP server with bounds a visitor cannot get round: the connections
 * open at once, a deadline for a request's head and one for the whole
 * request, a limit of silence on a connection, and the size of a head.
 * Handlers take a `Request` and the address it came from, and give a
 * `Response`, as with `Deno.serve`; underneath is `node:http`, whose server
 * has these bounds (Deno.serve has none: see
 * docs/decisions/connection-bounds.md).
 *
 * @module
 */
import type { createServer, IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Buffer } from "node:buffer";
import { errorMessage } from "../core/mod.ts";

/** The bounds of {@linkcode serveBounded}. */
export interface ServerLimits {
  /**
   * Connections open at once; one more is closed as it comes.
   *
   * @default {256}
   */
  maxConnections?: number;
  /**
   * Milliseconds a request's head may take to arrive.
   *
   * @default {10000}
   */
  headersTimeoutMs?: number;
  /**
   * Milliseconds the whole request, body included, may take to arrive.
   *
   * @default {30000}
   */
  requestTimeoutMs?: number;
  /**
   * Milliseconds a connection may pass with nothing read or written; a live
   * stream writes more often than that.
   *
   * @default {60000}
   */
  idleTimeoutMs?: number;
  /**
   * Bytes a request's head may take; a longer one is answered 431.
   *
   * @default {16384}
   */
  maxHeaderBytes?: number;
}

/** Options of {@linkcode serveBounded}. */
export interface BoundedServerOptions extends ServerLimits {
  /** The address to listen on. */
  hostname: string;
  /** The port; 0 for one the system picks. */
  port: number;
  /**
   * Told what the server did on its own, in one line: connections beyond
   * the bound closed (a line per 10 s at most), an accept that failed.
   *
   * @default {nothing}
   */
  say?(message: string): void;
}

/** Answers a request that came from `peer`. */
export type PeerHandler = (
  request: Request,
  peer: Deno.NetAddr,
) => Response | Promise<Response>;

/** A running server. */
export interface BoundedServer {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Stops listening and ends every connection. */
  close(): Promise<void>;
}

/**
 * Serves `handler` on `options.hostname` and `options.port`, within the
 * limits; resolves once it listens.
 *
 * @example
 * ```ts ignore
 * import { serveBounded } from "./bounded_server.ts";
 *
 * const server = await serveBounded(
 *   { hostname: "127.0.0.1", port: 0, maxConnections: 64 },
 *   (request, peer) => new Response(`Hello, ${peer.hostname}`),
 * );
 * await server.close();
 * ```
 */
export async function serveBounded(
  options: BoundedServerOptions,
  handler: PeerHandler,
): Promise<BoundedServer> {
  const {
    hostname,
    port,
    maxConnections = 256,
    headersTimeoutMs = 10_000,
    requestTimeoutMs = 30_000,
    idleTimeoutMs = 60_000,
    maxHeaderBytes = 16 * 1024,
    say = () => {},
  } = options;
  // Loaded only by a program that serves: the others start without it.
  const { createServer } = await import("node:http");
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: Math.max(requestTimeoutMs, headersTimeoutMs),
    maxHeaderSize: maxHeaderBytes,
    // How often the two deadlines above are looked at.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(1000, headersTimeoutMs / 4),
    ),
    keepAliveTimeout: Math.min(5000, idleTimeoutMs),
  }, (req, res) => {
    answer(req, res, handler, `${hostname}:${port}`, say).catch(() => {
      res.destroy();
    });
  });
  const closeBeyond = boundConnections(server, maxConnections, say);
  server.setTimeout(idleTimeoutMs, (socket: Socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // Once listening, a failed accept is said, never the end of the process.
  server.on("error", (error) => say(errorMessage(error)));
  const address = server.address() as AddressInfo;
  return {
    addr: { transport: "tcp", hostname: address.address, port: address.port },
    close: () =>
      new Promise<void>((resolve) => {
        closeBeyond();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** How often at most the connections closed beyond the bound are said. */
const DROPS_SAID_EVERY_MS = 10_000;

/**
 * Closes each connection beyond `max` open as it comes, and says how many,
 * once at the first and then once per 10 s while it goes on.
 *
 * @returns what stops the saying.
 */
function boundConnections(
  server: ReturnType<typeof createServer>,
  max: number,
  say: (message: string) => void,
): () => void {
  let open = 0;
  let dropped = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (dropped === 0) return;
    say(`closed ${dropped} connection(s) beyond the ${max} open at once`);
    dropped = 0;
    timer = setTimeout(flush, DROPS_SAID_EVERY_MS);
    Deno.unrefTimer(timer);
  };
  server.on("connection", (socket: Socket) => {
    if (open >= max) {
      socket.destroy();
      dropped++;
      if (timer === undefined) flush();
      return;
    }
    open++;
    socket.once("close", () => open--);
  });
  return () => clearTimeout(timer);
}

/** Refused in the words the client gets back. */
class RequestRefused extends Error {
  override name = "RequestRefused";
}

/** A Host header as a name or address and an optional port, nothing else. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The request `req` is, as a `Request`. */
function requestOf(req: IncomingMessage, listening: string): Request {
  const target = req.url ?? "/";
  // A browser asks an origin server for a path; a full URL is for proxies,
  // and would let the URL say another host than the Host header.
  if (!target.startsWith("/")) {
    throw new RequestRefused("Only a path may be asked for");
  }
  const host = req.headers.host ?? listening;
  if (!HOST.test(host)) throw new RequestRefused("Invalid Host header");
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  const method = req.method ?? "GET";
  const body = method === "GET" || method === "HEAD" ? undefined : bodyOf(req);
  return new Request(new URL(target, `http://${host}`), {
    method,
    headers,
    body,
    // A body streamed in, as it arrives.
    duplex: "half",
  } as RequestInit);
}

/**
 * The body of `req` as a stream read as the handler asks: a handler that
 * stops reading (a body too large) leaves the rest unread, and the
 * connection is closed after its answer.
 */
function bodyOf(req: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.pause();
      req.on("data", (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once("end", () => controller.close());
      req.once("error", (error) => controller.error(error));
    },
    pull() {
      req.resume();
    },
    cancel() {
      req.pause();
    },
  }, { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength });
}

/** The address a request came from; IPv4 as such, not IPv6-mapped. */
function peerOf(socket: Socket): Deno.NetAddr {
  const address = socket.remoteAddress ?? "";
  return {
    transport: "tcp",
    hostname: address.startsWith("::ffff:") && address.includes(".")
      ? address.slice("::ffff:".length)
      : address,
    port: socket.remotePort ?? 0,
  };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  handler: PeerHandler,
  listening: string,
  say: (message: string) => void,
): Promise<void> {
  let request: Request;
  try {
    request = requestOf(req, listening);
  } catch (error) {
    // What the client sent (a Host or header value a Request cannot hold).
    return await send(req, res, plain(400, refusal(error)));
  }
  let response: Response;
  try {
    response = await handler(request, peerOf(req.socket));
  } catch (error) {
    // The handler's own failure is the server's, and said.
    say(`${new URL(request.url).pathname}: ${errorMessage(error)}`);
    response = plain(500, "Something failed");
  }
  await send(req, res, response);
}

/** What a refused request is told. */
function refusal(error: unknown): string {
  return error instanceof RequestRefused ? error.message : "Not understood";
}

/** A short text answer. */
function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { "content-type": "text/plain" },
  });
}

/** Writes `response` to `res`, as fast as the client reads it. */
async function send(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
): Promise<void> {
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie") res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  // What the handler left unread is not read on: the connection ends.
  if (!req.complete) res.setHeader("connection", "close");
  if (response.body === null || req.method === "HEAD") {
    await response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  // A stream's head goes out at once: a live page waits for no event.
  res.flushHeaders();
  const reader = response.body.getReader();
  let gone = false;
  res.once("close", () => {
    gone = true;
    reader.cancel().catch(() => {});
  });
  try {
    while (!gone) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      if (!res.write(value)) await drainedOrGone(res);
    }
    if (!gone) res.end();
  } catch {
    res.destroy();
  }
}

/** Resolves once `res` takes more, or is gone. */
function drainedOrGone(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
