/**
 * A service's own HTTP endpoint, when HTTP_PORT asks for one: `GET /health`
 * (200 with a small JSON when it works, 503 with the reason otherwise) and
 * `GET /metrics` (Prometheus text). It listens on HTTP_HOST, 127.0.0.1
 * unless told otherwise, and its permission set grows by that address only.
 * Its connections are bounded ({@linkcode serveBounded}): no visitor holds
 * it open.
 *
 * @module
 */
import { join } from "node:path";
import { joinHostPort } from "../config/mod.ts";
import type { Config } from "../config/mod.ts";
import type { Monitor } from "./monitor.ts";
import {
  type PeerHandler,
  serveBounded,
  type ServerLimits,
} from "./bounded_server.ts";

/** Options of {@linkcode serveMonitor}. */
export interface ServeMonitorOptions extends ServerLimits {
  /** The port. */
  port: number;
  /**
   * The address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Answers every other path: a service's own pages.
   *
   * @default {a 404 that names /health and /metrics}
   */
  handler?: PeerHandler;
}

/** A running endpoint. */
export interface MonitorServer {
  /** Where it listens: `http://127.0.0.1:9101`. */
  url: string;
  /** Stops listening. */
  close(): Promise<void>;
}

/** The Prometheus text format's content type. */
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Serves `monitor`'s health and metrics; resolves once it listens. */
export async function serveMonitor(
  monitor: Monitor,
  options: ServeMonitorOptions,
): Promise<MonitorServer> {
  const { port, hostname = "127.0.0.1", handler, ...limits } = options;
  const server = await serveBounded({
    port,
    hostname,
    ...limits,
    say: (message) => monitor.log.warn(`${monitor.service}: HTTP: ${message}`),
  }, async (request, peer) => {
    const { pathname } = new URL(request.url);
    const own = pathname === "/health" || pathname === "/metrics";
    if (handler && !own) return await handler(request, peer);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Only GET\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    if (pathname === "/health") {
      const report = monitor.health();
      return Response.json(report, {
        status: report.Status === "ok" ? 200 : 503,
        headers: { "cache-control": "no-store" },
      });
    }
    if (pathname === "/metrics") {
      return new Response(await monitor.registry.expose(), {
        headers: { "content-type": METRICS_TYPE },
      });
    }
    return new Response("Not found: try /health or /metrics\n", {
      status: 404,
    });
  });
  const { hostname: host, port: bound } = server.addr;
  return {
    url: `http://${joinHostPort(host, bound)}`,
    close: () => server.close(),
  };
}

/** Starts the service's endpoint when HTTP_PORT asks for one, and says where. */
export async function serveIfAsked(
  config: Config,
  monitor: Monitor,
): Promise<MonitorServer | undefined> {
  if (config.httpPort === undefined) return undefined;
  const server = await serveMonitor(monitor, {
    port: config.httpPort,
    hostname: config.httpHost,
  });
  monitor.log.info(
    `${monitor.service} serves ${server.url}/health and ${server.url}/metrics`,
  );
  const unmark = markServing(config, monitor.service, server.url);
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await unmark();
    },
  };
}

/**
 * Leaves `serving-<pid>.json` in the service's own folder, where
 * `deno task status` finds its health.
 *
 * @returns what takes it away again.
 */
export function markServing(
  config: Pick<Config, "dataDir">,
  service: string,
  url: string,
): () => Promise<void> {
  const folder = join(config.dataDir, service);
  const file = join(folder, `${SERVING_PREFIX}${Deno.pid}.json`);
  Deno.mkdirSync(folder, { recursive: true });
  Deno.writeTextFileSync(file, JSON.stringify({ Url: url, Pid: Deno.pid }));
  return () => Deno.remove(file).catch(() => {});
}

/** What a service that serves leaves in its folder: `serving-<pid>.json`. */
export const SERVING_PREFIX = "serving-";
