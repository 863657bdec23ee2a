/**
 * A route table: each route a method and a path pattern, tried in order;
 * the first that matches answers. `HEAD` is answered as `GET`.
 *
 * @example
 * ```ts
 * import { route } from "./router.ts";
 *
 * const handler = route([
 *   { method: "GET", path: "/hello/:name", handle: (_request, { name }) => new Response(`Hello ${name}`) },
 * ], () => new Response("Not found", { status: 404 }));
 * const response = await handler(new Request("http://localhost/hello/you"));
 * ```
 *
 * @module
 */

/** A route's answer to a request, given the path's named parts (encoded). */
export type RouteHandler = (
  request: Request,
  params: Record<string, string | undefined>,
) => Response | Promise<Response>;

/** A method, or `"*"` for any, and a path such as `/invoices/:number`. */
export interface Route {
  /** `GET` (which answers `HEAD` too), `POST`, or `"*"` for any method. */
  method: "GET" | "POST" | "*";
  /** A URLPattern pathname: `/errors/:queue{/:action}?`. */
  path: string;
  /** Answers a request that matched. */
  handle: RouteHandler;
}

/** Answers each request with the first route that matches, else `fallback`. */
export function route(
  routes: Route[],
  fallback: (request: Request) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  const table = routes.map((entry) => ({
    ...entry,
    pattern: new URLPattern({ pathname: entry.path }),
  }));
  return async (request) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    const { pathname } = new URL(request.url);
    for (const entry of table) {
      if (entry.method !== "*" && entry.method !== method) continue;
      const match = entry.pattern.exec({ pathname });
      if (match) return await entry.handle(request, match.pathname.groups);
    }
    return await fallback(request);
  };
}
