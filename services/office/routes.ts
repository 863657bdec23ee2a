/**
 * The back office's routes: each page, the live stream, the JSON API, the
 * Stock form and the error queues' actions, as a table the router walks.
 *
 * @module
 */
import type { ChannelModel } from "amqplib";
import { DEFAULT_STORE } from "../../contracts/sale.ts";
import { wholeNumber } from "../../lib/config/mod.ts";
import { UsageError } from "../../lib/core/mod.ts";
import type { Log } from "../../lib/log/mod.ts";
import {
  countErrorQueues,
  type ErroredMessage,
  type Publisher,
  readErrored,
  walkErrorQueue,
} from "../../lib/messaging/mod.ts";
import { SCRIPT, STYLE } from "./assets.ts";
import { BodyRefused, readBody } from "./body_limit.ts";
import type { EventStream } from "./event_stream.ts";
import { FEED_LINES, type OfficeModel } from "./model.ts";
import {
  type AdjustForm,
  confirmPage,
  errorQueuePage,
  errorQueuesPage,
  invoicePage,
  invoicesPage,
  livePage,
  problemPage,
  stockPage,
  todayPage,
} from "./pages/mod.ts";
import { type Route, route, type RouteHandler } from "./router.ts";
import type { Role } from "./accounts.ts";
import {
  audit,
  type AuthContext,
  authRoutes,
  guarded,
  tokenOf,
} from "./auth.ts";
import { auditPage } from "./pages/audit.ts";

/** A route and the role it needs. */
type GuardedRoute = Route & { role: Role };

/** Messages an error queue's page lists. */
const LISTED = 50;

/** What the routes work with. */
export interface OfficeContext {
  /** The read model the pages show. */
  model: OfficeModel;
  /** The open pages' live stream. */
  stream: EventStream;
  /** The office's log. */
  log: Log;
  /** The error queues it shows. */
  errorQueues: string[];
  /**
   * The origins it serves (`http://127.0.0.1:8000`, its public URL's): a
   * request for another Host is refused, and so is a form from another
   * origin.
   */
  origins(): string[];
  /** Accounts, sessions and the audit trail. */
  auth: AuthContext;
  /** Runs `work` on a broker connection of its own. */
  withBroker<T>(
    work: (connection: ChannelModel, publisher: Publisher) => Promise<T>,
  ): Promise<T>;
  /**
   * Sends Inventory the adjustment a Stock form asks for; its id.
   *
   * @throws {UsageError} for a form that says nothing Inventory can do.
   */
  sendAdjustment(form: AdjustForm): Promise<string>;
}

/** Today, `2026-11-27`, in UTC as the read model's days are. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A day given in a query, `2026-11-27`, or undefined when none is given. */
function dayParam(name: string, text: string | null): string | undefined {
  if (text === null || text === "") return undefined;
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(text) ||
    Number.isNaN(new Date(text).getTime())
  ) {
    throw new UsageError(
      `Invalid ${name} "${text}": use a day, e.g. 2026-11-27`,
    );
  }
  return text;
}

/** A part of a path, decoded. */
function pathPart(text: string | undefined): string {
  try {
    return decodeURIComponent(text ?? "");
  } catch {
    throw new UsageError(`Invalid path part "${text}": a % that is not UTF-8`);
  }
}

const htmlHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "x-content-type-options": "nosniff",
};

/** An HTML page. */
export function page(body: string, status = 200): Response {
  return new Response(body, { status, headers: htmlHeaders });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

const noStore = { headers: { "cache-control": "no-store" } };

/**
 * Whether a form comes from a page of the office itself: its Origin is one
 * the office serves, or, where a browser sends none, it says the request
 * is same-origin. A page elsewhere, or a client that says nothing (curl),
 * cannot make the office restock or drop messages.
 */
function fromOwnPage(request: Request, origins: string[]): boolean {
  const origin = request.headers.get("origin");
  if (origin !== null) return origins.includes(origin);
  return request.headers.get("sec-fetch-site") === "same-origin";
}

/** Whether the request's Host is one the office serves (not a rebound name). */
function servedHost(request: Request, origins: string[]): boolean {
  const { host } = new URL(request.url);
  return origins.some((origin) => new URL(origin).host === host);
}

/** The style sheet, the script and the icon: public, like the login page. */
function assetRoutes(): Route[] {
  return [
    {
      method: "GET",
      path: "/favicon.ico",
      handle: () => new Response(null, { status: 204 }),
    },
    {
      method: "GET",
      path: "/app.css",
      handle: () =>
        new Response(STYLE, {
          headers: { "content-type": "text/css; charset=utf-8" },
        }),
    },
    {
      method: "GET",
      path: "/app.js",
      handle: () =>
        new Response(SCRIPT, {
          headers: { "content-type": "text/javascript; charset=utf-8" },
        }),
    },
  ];
}

/** The pages, the stream and the API, read-only. */
function readRoutes(context: OfficeContext): Route[] {
  const { model, stream } = context;
  const summary = async (request: Request) =>
    await model.summary(
      dayParam("day", new URL(request.url).searchParams.get("day")) ?? today(),
    );
  return [
    {
      method: "GET",
      path: "/events",
      handle: async (request) => {
        const after = new URL(request.url).searchParams.get("after");
        return stream.response([
          { event: "summary", data: await model.summary(today()) },
          // What came since the page was made.
          ...(after
            ? (await model.feed(FEED_LINES, wholeNumber("after", after)))
              .toReversed().map((entry) => ({ event: "feed", data: entry }))
            : []),
        ]);
      },
    },
    {
      method: "GET",
      path: "/api/adjustments/:id",
      handle: async (_request, { id }) => {
        const applied = await model.adjustment(pathPart(id));
        return applied
          ? Response.json(applied, noStore)
          : Response.json({ Applied: false }, { status: 404 });
      },
    },
    {
      method: "GET",
      path: "/",
      handle: async (request) => page(todayPage(await summary(request))),
    },
    {
      method: "GET",
      path: "/api/summary",
      handle: async (request) => Response.json(await summary(request), noStore),
    },
    {
      method: "GET",
      path: "/api/stock",
      handle: async (request) =>
        Response.json(
          await model.stock(
            new URL(request.url).searchParams.get("store") || undefined,
          ),
          noStore,
        ),
    },
    {
      method: "GET",
      path: "/invoices",
      handle: async (request) => {
        const query = new URL(request.url).searchParams;
        const sale = query.get("sale");
        const search = {
          store: query.get("store")?.trim() || undefined,
          sale: sale ? wholeNumber("sale id", sale, { min: 1 }) : undefined,
          from: dayParam("from", query.get("from")),
          to: dayParam("to", query.get("to")),
          page: query.get("page")
            ? wholeNumber("page", query.get("page") ?? "", { min: 1 })
            : 1,
        };
        return page(invoicesPage(search, await model.invoices(search)));
      },
    },
    {
      method: "GET",
      path: "/invoices/:number",
      handle: async (_request, params) => {
        const number = pathPart(params.number);
        const found = await model.invoice(number);
        return found ? page(invoicePage(found)) : page(
          problemPage(
            "No such invoice",
            `No invoice "${number}" has reached the back office.`,
          ),
          404,
        );
      },
    },
    {
      method: "GET",
      path: "/stock",
      handle: async (request) => {
        const query = new URL(request.url).searchParams;
        const filter = query.get("store")?.trim() || undefined;
        const sent = query.get("sent");
        return page(stockPage(await model.stock(filter), {
          store: filter,
          defaultStore: DEFAULT_STORE,
          sent: sent === null
            ? undefined
            : { id: sent, applied: await model.adjustment(sent) },
        }));
      },
    },
    {
      method: "GET",
      path: "/errors",
      handle: async () =>
        page(
          errorQueuesPage(
            await context.withBroker((connection) =>
              countErrorQueues(connection, context.errorQueues)
            ),
          ),
        ),
    },
    {
      method: "GET",
      path: "/live",
      handle: async () => page(livePage(await model.feed(100))),
    },
  ];
}

/** One error queue's page, its confirmation, and its replay and purge. */
async function errorQueueRoute(
  context: OfficeContext,
  request: Request,
  queue: string,
  action: string | undefined,
): Promise<Response> {
  const { withBroker } = context;
  const query = new URL(request.url).searchParams;
  const base = `/errors/${encodeURIComponent(queue)}`;
  if (request.method === "GET" && action === undefined) {
    const messages: ErroredMessage[] = [];
    await withBroker((connection, publisher) =>
      walkErrorQueue(connection, {
        queue,
        action: "list",
        publisher,
        limit: LISTED + 1,
        onMessage: (message) => messages.push(readErrored(message)),
      })
    );
    return page(errorQueuePage(queue, messages.slice(0, LISTED), {
      done: query.get("done") ?? undefined,
      more: messages.length > LISTED,
    }));
  }
  if (request.method === "GET" && action === "confirm") {
    const verb = query.get("action");
    if (verb !== "replay" && verb !== "purge") {
      throw new UsageError(`Invalid action "${verb}": use replay or purge`);
    }
    const [{ Messages = 0 }] = await withBroker((connection) =>
      countErrorQueues(connection, [queue])
    );
    return page(confirmPage(queue, {
      action: verb,
      id: query.get("id") ?? undefined,
      count: Messages,
    }));
  }
  if (
    request.method === "POST" && (action === "replay" || action === "purge")
  ) {
    const form = await request.formData();
    const id = form.get("id");
    const taken = await withBroker((connection, publisher) =>
      walkErrorQueue(connection, {
        queue,
        action,
        publisher,
        id: typeof id === "string" && id !== "" ? id : undefined,
      })
    );
    const done = `${
      action === "replay" ? "Replayed" : "Dropped"
    } ${taken} message(s).`;
    await audit(
      context.auth,
      request,
      action === "replay" ? "replayed" : "purged",
      `${taken} message(s) from "${queue}"${
        typeof id === "string" && id !== "" ? ` (id ${id})` : ""
      }`,
    );
    return redirect(`${base}?done=${encodeURIComponent(done)}`);
  }
  return page(problemPage("Not found", `Nothing at ${base}/${action}.`), 404);
}

/** The forms that change the shop. */
function actionRoutes(context: OfficeContext): GuardedRoute[] {
  const { model, errorQueues } = context;
  const errorQueue: RouteHandler = (request, params) => {
    const queue = pathPart(params.queue);
    if (!errorQueues.includes(queue)) {
      return page(
        problemPage(
          "No such error queue",
          `"${queue}" is not an error queue of the shop: ${
            errorQueues.join(", ")
          }`,
        ),
        404,
      );
    }
    return errorQueueRoute(context, request, queue, params.action);
  };
  return [
    {
      method: "GET",
      path: "/errors/:queue",
      role: "viewer",
      handle: (request, params) => errorQueue(request, params),
    },
    {
      method: "*",
      path: "/errors/:queue/:action(confirm|replay|purge)",
      role: "admin",
      handle: (request, params) => errorQueue(request, params),
    },
    {
      method: "POST",
      path: "/stock/adjust",
      role: "manager",
      handle: async (request) => {
        const form = Object.fromEntries(
          await request.formData(),
        ) as Record<string, string>;
        try {
          const id = await context.sendAdjustment(form);
          await audit(
            context.auth,
            request,
            form.mode === "set" ? "counted stock" : "received stock",
            `${form.quantity} ${form.sku} in ${form.store} (${id})`,
          );
          return redirect(`/stock?sent=${encodeURIComponent(id)}`);
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          return page(
            stockPage(await model.stock(), {
              defaultStore: DEFAULT_STORE,
              error: `Nothing was sent: ${error.message}`,
              form,
            }),
            400,
          );
        }
      },
    },
  ];
}

/**
 * The office's answer to every request: a Host it does not serve is
 * refused before any route (a rebound name cannot read its pages), and so
 * are a form from another origin and a body too large or too slow; what no
 * route takes is a 404 page.
 */
export function officeHandler(
  context: OfficeContext,
): (request: Request, address: string) => Promise<Response> {
  const { auth } = context;
  const guardedRoutes: GuardedRoute[] = [
    ...readRoutes(context).map((entry) => ({
      ...entry,
      role: "viewer" as const,
    })),
    ...actionRoutes(context),
    {
      method: "GET",
      path: "/audit",
      role: "admin",
      handle: async () => page(auditPage(await auth.accounts.trail())),
    },
  ];
  const routed = route(
    [
      ...assetRoutes(),
      ...authRoutes(auth),
      ...guardedRoutes.map((entry) => ({
        ...entry,
        handle: guarded(auth, entry.role, entry.handle),
      })),
    ],
    (request) =>
      page(
        problemPage(
          "Not found",
          `Nothing at ${new URL(request.url).pathname}: see the pages above.`,
        ),
        404,
      ),
  );
  return async (request, address) => {
    const origins = context.origins();
    if (!servedHost(request, origins)) {
      await request.body?.cancel().catch(() => {});
      return page(
        problemPage(
          "Not served here",
          `This office answers ${origins.join(", ")} only.`,
        ),
        421,
      );
    }
    if (request.method === "POST" && !fromOwnPage(request, origins)) {
      await request.body?.cancel().catch(() => {});
      return page(
        problemPage(
          "Refused",
          "A form from another site cannot change the shop.",
        ),
        403,
      );
    }
    try {
      // Read whole and bounded before any route: a form is small.
      const read = await readBody(request);
      const token = tokenOf(read);
      auth.callers.set(read, {
        token,
        address,
        session: await auth.accounts.session(token),
      });
      return await routed(read);
    } catch (error) {
      if (!(error instanceof BodyRefused)) throw error;
      context.log.warn(
        `office: refused a request to ${
          new URL(request.url).pathname
        }: ${error.message}`,
      );
      return page(problemPage("Refused", `${error.message}.`), error.status);
    }
  };
}
