/**
 * What a visitor sends cannot stop the back office: a huge form is refused
 * with 413 before it is read, pages that never read their live stream are
 * dropped instead of filling its memory, the error queue pages share one
 * broker connection, another Host is refused (a rebound name reads
 * nothing) and so is a form from another origin or none; thousands of
 * connections that never finish a request are closed, and it goes on.
 * Against the running office, with raw sockets.
 */
import assert from "node:assert/strict";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";
import { command, runService } from "./support/process.ts";
import { peakMiB, signIn, startOffice } from "./support/office.ts";

Deno.test(
  "office limits: a 60 MB form and 20 pages that never read leave it standing",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox);
      const address = new URL(url);
      const { cookie } = await signIn(url, password);
      const sockets: Deno.Conn[] = [];
      try {
        const big = await fetch(`${url}/stock/adjust`, {
          method: "POST",
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            origin: address.origin,
          },
          body: new Uint8Array(60 * 1024 * 1024).fill(0x61),
        });
        assert.equal(big.status, 413);
        await big.body?.cancel();
        for (let i = 0; i < 20; i++) {
          sockets.push(
            await openSocket(
              address,
              `GET /events HTTP/1.1\r\nHost: ${address.host}\r\nCookie: ${cookie}\r\n\r\n`,
            ),
          );
        }
        const pos = await runService("pos", sandbox, [
          "--count",
          "20000",
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await office.waitFor(/dropped a live page that fell behind/, 1, 60_000);
        const health = await fetch(`${url}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        const peak = await peakMiB(office.pid);
        console.log(`office peak RSS ${peak.toFixed(1)} MiB`);
        assert.ok(peak < 200, `the office peaked at ${peak.toFixed(1)} MiB`);
      } finally {
        for (const socket of sockets) socket.close();
        assert.equal(await office.stop(), 0, office.lines.slice(-5).join("\n"));
      }
    });
  },
);

Deno.test(
  "office limits: the error queue pages share one broker connection",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox);
      try {
        const { cookie } = await signIn(url, password);
        const pages = await Promise.all(
          Array.from({ length: 100 }, async () => {
            const response = await fetch(`${url}/errors`, {
              headers: { cookie },
            });
            await response.body?.cancel();
            return response.status;
          }),
        );
        assert.deepEqual(new Set(pages), new Set([200]));
        const vhost = decodeURIComponent(
          new URL(sandbox.url).pathname.slice(1),
        );
        const { stdout } = await command("rabbitmqctl", [
          "list_connections",
          "-q",
          "--no-table-headers",
          "vhost",
          "client_properties",
        ]);
        const forPages = stdout.split("\n").filter((line) =>
          line.startsWith(`${vhost}\t`) && line.includes("office error queues")
        );
        assert.equal(forPages.length, 1, stdout);
      } finally {
        assert.equal(await office.stop(), 0, office.lines.slice(-5).join("\n"));
      }
    });
  },
);

/**
 * A connection to `address` that has sent `text`; one the office closed at
 * once (beyond its bound) is returned all the same.
 */
async function openSocket(address: URL, text: string): Promise<Deno.Conn> {
  const socket = await Deno.connect({
    hostname: address.hostname,
    port: Number(address.port),
  });
  await socket.write(new TextEncoder().encode(text)).catch(() => {});
  return socket;
}

/** A raw HTTP/1.1 request to `address` with `headers`; the status line. */
async function rawStatus(
  address: URL,
  request: string,
): Promise<string> {
  const socket = await openSocket(address, request);
  try {
    const buffer = new Uint8Array(4096);
    const n = await socket.read(buffer) ?? 0;
    return new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
  } finally {
    socket.close();
  }
}

Deno.test(
  "office limits: only its own Host, and forms only from its own pages",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox);
      const address = new URL(url);
      const { cookie, csrf } = await signIn(url, password);
      const form =
        `mode=add&store=NEPAL-01&sku=MILK-1L&quantity=1&new=on&_csrf=${csrf}`;
      const post = (host: string, origin?: string) =>
        rawStatus(
          address,
          `POST /stock/adjust HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\n${
            origin ? `Origin: ${origin}\r\n` : ""
          }Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${form.length}\r\nConnection: close\r\n\r\n${form}`,
        );
      try {
        const evil = `evil.example:${address.port}`;
        // A rebound name reads nothing, and changes nothing.
        assert.match(
          await rawStatus(
            address,
            `GET /invoices HTTP/1.1\r\nHost: ${evil}\r\nConnection: close\r\n\r\n`,
          ),
          / 421 /,
        );
        assert.match(await post(evil, `http://${evil}`), / 421 /);
        // Its own Host, but a form from elsewhere, or from no page at all.
        assert.match(await post(address.host, `http://${evil}`), / 403 /);
        assert.match(await post(address.host), / 403 /);
        // From its own page: taken.
        assert.match(await post(address.host, address.origin), / 303 /);
        assert.match(
          await post(
            `localhost:${address.port}`,
            `http://localhost:${address.port}`,
          ),
          / 303 /,
        );
        const page = await fetch(`${url}/stock`, { headers: { cookie } });
        const policy = page.headers.get("content-security-policy") ?? "";
        await page.body?.cancel();
        assert.match(policy, /form-action 'self'/);
        assert.match(policy, /base-uri 'none'/);
        // The forms taken left no runtime warning among its lines.
        assert.deepEqual(office.lines.filter((l) => /Deno\.serve/.test(l)), []);
      } finally {
        assert.equal(await office.stop(), 0, office.lines.slice(-5).join("\n"));
      }
    });
  },
);

Deno.test(
  "office limits: 2,000 connections that never finish a request are closed, and it goes on",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox);
      const address = new URL(url);
      // Fewer files than connections: unbounded, it would run out of them.
      const limited = await command("prlimit", [
        `--pid=${office.pid}`,
        "--nofile=1024:1024",
      ]);
      assert.equal(limited.code, 0, limited.stderr);
      const sockets: Deno.Conn[] = [];
      try {
        for (let i = 0; i < 2000; i++) {
          // A head begun and never ended.
          sockets.push(
            await openSocket(
              address,
              `GET / HTTP/1.1\r\nHost: ${address.host}\r\n`,
            ),
          );
        }
        const started = performance.now();
        const ends = await Promise.all(sockets.map(async (socket) => {
          try {
            while (await socket.read(new Uint8Array(512)) !== null) {
              // Whatever it says, until it closes.
            }
          } catch {
            // Reset: closed all the same.
          }
          return performance.now() - started;
        }));
        const last = Math.max(...ends);
        console.log(
          `2,000 unfinished requests: the last closed after ${
            (last / 1000).toFixed(1)
          } s`,
        );
        assert.ok(last < 20_000, `the last was closed after ${last} ms`);
        await office.waitFor(
          /office: HTTP: closed \d+ connection\(s\) beyond the 256 open at once/,
        );
        const health = await fetch(`${url}/health`);
        assert.equal(health.status, 200);
        await health.body?.cancel();
        await signIn(url, password);
      } finally {
        for (const socket of sockets) {
          try {
            socket.close();
          } catch {
            // Closed by the office.
          }
        }
        assert.equal(await office.stop(), 0, office.lines.slice(-5).join("\n"));
      }
    });
  },
);
