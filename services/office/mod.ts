/**
 * The back office's parts, beside its entry `services/office.ts`: the read
 * model it keeps from the events it consumes, the pages it renders, the
 * routes that serve them, and the live stream to open pages.
 *
 * @module
 */
export * from "./events.ts";
export * from "./model.ts";
export * from "./views.ts";
export * from "./pages/mod.ts";
export * from "./assets.ts";
export * from "./html.ts";
export * from "./event_stream.ts";
export * from "./routes.ts";
export * from "./queue.ts";
export * from "./body_limit.ts";
export * from "./accounts.ts";
export * from "./auth.ts";
export * from "./respond.ts";
export * from "./visitor.ts";
