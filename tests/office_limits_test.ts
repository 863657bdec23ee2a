/**
 * What a visitor sends cannot stop the back office: a huge form is refused
 * with 413 before it is read, pages that never read their live stream are
 * dropped instead of filling its memory, and the error queue pages share
 * one broker connection. Against the running office, with raw sockets.
 */
import assert from "node:assert/strict";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";
import { command, runService } from "./support/process.ts";
import { peakMiB, startOffice } from "./support/office.ts";

Deno.test(
  "office limits: a 60 MB form and 20 pages that never read leave it standing",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url } = await startOffice(sandbox);
      const address = new URL(url);
      const sockets: Deno.Conn[] = [];
      try {
        const big = await fetch(`${url}/stock/adjust`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new Uint8Array(60 * 1024 * 1024).fill(0x61),
        });
        assert.equal(big.status, 413);
        await big.body?.cancel();
        for (let i = 0; i < 20; i++) {
          const socket = await Deno.connect({
            hostname: address.hostname,
            port: Number(address.port),
          });
          await socket.write(
            new TextEncoder().encode(
              `GET /events HTTP/1.1\r\nHost: ${address.host}\r\n\r\n`,
            ),
          );
          sockets.push(socket);
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
      const { office, url } = await startOffice(sandbox);
      try {
        const pages = await Promise.all(
          Array.from({ length: 100 }, async () => {
            const response = await fetch(`${url}/errors`);
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
