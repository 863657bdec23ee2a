/**
 * The back office's routes: each page, the live stream, the JSON API, the
 * Stock form and the error queues' actions, as a table the router walks.
 *
 * @module
 */
import type { Gap } from "../../lib/reconcile/mod.ts";
import type { ChannelModel } from "amqplib";
import { DEFAULT_STORE } from "../../contracts/sale.ts";
import { UsageError } from "../../lib/core/mod.ts";
import type { Log } from "../../lib/log/mod.ts";
import {
  countErrorQueues,
  type ErroredMessage,
  type Publisher,
  readErrored,
  walkErrorQueue,
} from "../../lib/messaging/mod.ts";
import { BodyRefused, readBody } from "./body_limit.ts";
import type { EventStream } from "./event_stream.ts";
import { type OfficeModel } from "./model.ts";
import {
  type AdjustForm,
  confirmPage,
  errorQueuePage,
  problemPage,
  stockPage,
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
import { page, pathPart, redirect } from "./respond.ts";
import { assetRoutes, readRoutes } from "./read_routes.ts";

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
  /** The products' names by SKU, from the catalog. */
  names: ReadonlyMap<string, string>;
  /** The gaps in the tills' sales the office itself has, old enough to show. */
  gaps(): Promise<Gap[]>;
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
