import assert from "node:assert/strict";
import { delay } from "../core/mod.ts";
import {
  type BoundedServer,
  type BoundedServerOptions,
  type PeerHandler,
  serveBounded,
} from "./bounded_server.ts";

const encoder = new TextEncoder();

async function withServer(
  limits: Omit<BoundedServerOptions, "hostname" | "port">,
  handler: PeerHandler,
  use: (server: BoundedServer, url: string) => Promise<void>,
): Promise<void> {
  const server = await serveBounded(
    { hostname: "127.0.0.1", port: 0, ...limits },
    handler,
  );
  try {
    await use(server, `http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.close();
  }
}

/** Opens a raw connection and writes `text` to it. */
async function rawConnection(
  server: BoundedServer,
  text: string,
): Promise<Deno.Conn> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.addr.port,
  });
  if (text) await conn.write(encoder.encode(text));
  return conn;
}

/** What the server sends until it closes, and after how many ms it did. */
async function untilClosed(
  conn: Deno.Conn,
): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  const buffer = new Uint8Array(4096);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // Reset: closed all the same.
  } finally {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
  return { text, ms: performance.now() - started };
}

Deno.test("bounded server: a Request in, with where it came from; a Response out", async () => {
  await withServer({}, async (request, peer) => {
    const body = request.method === "POST" ? await request.text() : "";
    const headers = new Headers({ "content-type": "text/plain" });
    headers.append("set-cookie", "a=1; HttpOnly");
    headers.append("set-cookie", "b=2; HttpOnly");
    return new Response(
      `${request.method} ${request.url} from ${peer.hostname} ${body.length} ${
        request.headers.get("x-two")
      }`,
      { status: 201, headers },
    );
  }, async (server, url) => {
    const got = await fetch(`${url}/a?b=c`, { headers: { "x-two": "2" } });
    assert.equal(got.status, 201);
    assert.equal(
      await got.text(),
      `GET http://127.0.0.1:${server.addr.port}/a?b=c from 127.0.0.1 0 2`,
    );
    assert.deepEqual(got.headers.getSetCookie(), [
      "a=1; HttpOnly",
      "b=2; HttpOnly",
    ]);
    const posted = await fetch(url, {
      method: "POST",
      body: "x".repeat(100_000),
    });
    assert.match(await posted.text(), / 100000 /);
    const head = await fetch(url, { method: "HEAD" });
    assert.equal(head.status, 201);
    assert.equal(await head.text(), "");
  });
});

Deno.test("bounded server: a head that never ends, or nothing at all, is closed by its deadline", async () => {
  await withServer(
    { headersTimeoutMs: 300, requestTimeoutMs: 300, idleTimeoutMs: 400 },
    () => new Response("ok"),
    async (server) => {
      const [slow, silent] = await Promise.all([
        rawConnection(server, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
        rawConnection(server, ""),
      ]);
      const [slowEnd, silentEnd] = await Promise.all([
        untilClosed(slow),
        untilClosed(silent),
      ]);
      assert.ok(slowEnd.ms < 3000, `closed after ${slowEnd.ms} ms`);
      assert.ok(silentEnd.ms < 3000, `closed after ${silentEnd.ms} ms`);
      assert.doesNotMatch(slowEnd.text, / 200 /);
    },
  );
});

Deno.test("bounded server: connections beyond the bound are closed as they come, and said; the server goes on", async () => {
  const said: string[] = [];
  await withServer(
    {
      maxConnections: 3,
      say: (line: string) => said.push(line),
    },
    () => new Response("ok"),
    async (server, url) => {
      const held = await Promise.all(
        [1, 2, 3].map(() => rawConnection(server, "GET / HTTP/1.1\r\n")),
      );
      await delay(100);
      const extra = await untilClosed(
        await rawConnection(server, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
      );
      assert.doesNotMatch(extra.text, / 200 /);
      assert.deepEqual(said, [
        "closed 1 connection(s) beyond the 3 open at once",
      ]);
      for (const conn of held) conn.close();
      await delay(100);
      const after = await fetch(url);
      assert.equal(await after.text(), "ok");
    },
  );
});

Deno.test("bounded server: a head too large is 431, a full URL or a bad Host 400", async () => {
  await withServer(
    { maxHeaderBytes: 1024 },
    () => new Response("ok"),
    async (server) => {
      const large = await untilClosed(
        await rawConnection(
          server,
          `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(4000)}\r\n\r\n`,
        ),
      );
      assert.match(large.text, /^HTTP\/1\.1 431 /);
      const full = await untilClosed(
        await rawConnection(
          server,
          "GET http://evil.example/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        ),
      );
      assert.match(full.text, /^HTTP\/1\.1 400 /);
      assert.match(full.text, /Only a path may be asked for/);
      const host = await untilClosed(
        await rawConnection(
          server,
          "GET / HTTP/1.1\r\nHost: a/b@c\r\nConnection: close\r\n\r\n",
        ),
      );
      assert.match(host.text, /^HTTP\/1\.1 400 /);
    },
  );
});

Deno.test("bounded server: a stream goes out as it is written and is cancelled when the client goes", async () => {
  const cancelled = Promise.withResolvers<void>();
  await withServer({}, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode("event: one\n\n"));
        },
        cancel() {
          cancelled.resolve();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    ), async (_server, url) => {
    const stop = new AbortController();
    const got = await fetch(url, { signal: stop.signal });
    const reader = got.body!.getReader();
    const { value } = await reader.read();
    assert.equal(new TextDecoder().decode(value), "event: one\n\n");
    stop.abort();
    await reader.cancel().catch(() => {});
    await Promise.race([
      cancelled.promise,
      delay(3000).then(() => assert.fail("the stream was not cancelled")),
    ]);
  });
});

Deno.test("bounded server: a body the handler stops reading gets its answer, and the connection ends", async () => {
  await withServer({}, async (request) => {
    const reader = request.body!.getReader();
    await reader.read();
    await reader.cancel();
    return new Response("too large\n", { status: 413 });
  }, async (server) => {
    const conn = await rawConnection(
      server,
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000\r\n\r\n",
    );
    await conn.write(new Uint8Array(100_000)).catch(() => {});
    const { text } = await untilClosed(conn);
    assert.match(text, /^HTTP\/1\.1 413 /);
  });
});

Deno.test("bounded server: a handler that fails is a 500, said, and the server goes on", async () => {
  const said: string[] = [];
  await withServer(
    { say: (line: string) => said.push(line) },
    (request) => {
      if (new URL(request.url).pathname === "/fail") {
        throw new Error("the handler broke");
      }
      return new Response("ok");
    },
    async (_server, url) => {
      const failed = await fetch(`${url}/fail`);
      assert.equal(failed.status, 500);
      assert.equal(await failed.text(), "Something failed\n");
      assert.deepEqual(said, ["/fail: the handler broke"]);
      assert.equal(await (await fetch(url)).text(), "ok");
    },
  );
});
