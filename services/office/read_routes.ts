/**
 * The back office's routes that only read: its assets (public), and its pages,
 * live stream and JSON API (for any signed-in role).
 *
 * @module
 */
import { DEFAULT_STORE } from "../../contracts/sale.ts";
import { wholeNumber } from "../../lib/config/mod.ts";
import { countErrorQueues } from "../../lib/messaging/mod.ts";
import { SCRIPT, STYLE } from "./assets.ts";
import { FEED_LINES } from "./model.ts";
import {
  dayClosePage,
  errorQueuesPage,
  invoicePage,
  invoicesPage,
  livePage,
  problemPage,
  shownEntry,
  stockPage,
  todayPage,
} from "./pages/mod.ts";
import type { Route } from "./router.ts";
import { dayParam, noStore, page, pathPart, today } from "./respond.ts";
import type { OfficeContext } from "./routes.ts";

/** The style sheet, the script and the icon: public, like the login page. */
export function assetRoutes(): Route[] {
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
export function readRoutes(context: OfficeContext): Route[] {
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
              .toReversed().map((entry) => ({
                event: "feed",
                data: shownEntry(entry),
              }))
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
      handle: async (request) =>
        page(todayPage(await summary(request), await model.discrepancies())),
    },
    {
      method: "GET",
      path: "/close",
      handle: async () =>
        page(dayClosePage({
          closes: await model.closes(),
          open: await model.openDays(),
          gaps: await context.gaps(),
          untilled: await model.untilled(),
        })),
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
        return found ? page(invoicePage(found, context.names)) : page(
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
