import assert from "node:assert/strict";
import { BodyRefused, readBody } from "./body_limit.ts";

function post(body: BodyInit, headers: Record<string, string> = {}) {
  return new Request("http://office.test/stock/adjust", {
    method: "POST",
    body,
    headers,
  });
}

Deno.test("readBody: a small form is read whole and can be read again", async () => {
  const request = await readBody(
    post("sku=MILK-1L&quantity=2", {
      "content-type": "application/x-www-form-urlencoded",
    }),
  );
  assert.equal((await request.formData()).get("sku"), "MILK-1L");
});

Deno.test("readBody: a body past the cap is refused with 413, by its length or as it comes", async () => {
  await assert.rejects(
    readBody(post("x".repeat(100)), { maxBytes: 10 }),
    (error) => error instanceof BodyRefused && error.status === 413,
  );
  // No Content-Length: refused once the bytes pass the cap.
  let sent = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += 1024;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  await assert.rejects(
    readBody(post(endless), { maxBytes: 4096 }),
    (error) => error instanceof BodyRefused && error.status === 413,
  );
  assert.ok(sent < 64 * 1024, `read ${sent} bytes of an endless body`);
});

Deno.test("readBody: a body that does not come in time is refused with 408", async () => {
  const stalled = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("sku="));
    },
  });
  await assert.rejects(
    readBody(post(stalled), { timeoutMs: 50 }),
    (error) => error instanceof BodyRefused && error.status === 408,
  );
});
