import assert from "node:assert/strict";
import { route } from "./router.ts";

const handler = route([
  { method: "GET", path: "/", handle: () => new Response("home") },
  {
    method: "GET",
    path: "/invoices/:number",
    handle: (_request, { number }) => new Response(`invoice ${number}`),
  },
  {
    method: "*",
    path: "/errors/:queue{/:action}?",
    handle: (request, { queue, action }) =>
      new Response(`${request.method} ${queue} ${action ?? "-"}`),
  },
  { method: "POST", path: "/stock/adjust", handle: () => new Response("sent") },
], (request) =>
  new Response(`nothing at ${new URL(request.url).pathname}`, {
    status: 404,
  }));

async function answer(path: string, method = "GET"): Promise<string> {
  const response = await handler(
    new Request(`http://office.test${path}`, { method }),
  );
  return await response.text();
}

Deno.test("route: the first route whose method and path match answers", async () => {
  assert.equal(await answer("/"), "home");
  assert.equal(await answer("/invoices/INV-7"), "invoice INV-7");
  assert.equal(await answer("/invoices/a%2Fb"), "invoice a%2Fb");
  assert.equal(await answer("/stock/adjust", "POST"), "sent");
});

Deno.test("route: HEAD is answered as GET, another method falls through", async () => {
  const head = await handler(
    new Request("http://office.test/", { method: "HEAD" }),
  );
  assert.equal(head.status, 200);
  assert.equal(await answer("/stock/adjust"), "nothing at /stock/adjust");
  assert.equal(await answer("/", "POST"), "nothing at /");
});

Deno.test("route: optional parts and any method", async () => {
  assert.equal(await answer("/errors/q_error"), "GET q_error -");
  assert.equal(
    await answer("/errors/q_error/replay", "POST"),
    "POST q_error replay",
  );
  assert.equal(await answer("/errors/a/b/c"), "nothing at /errors/a/b/c");
});
