/**
 * What an operator sees: health and metrics over HTTP, one trace per sale
 * across the three services, JSON log lines, and a one-shot POS that gives
 * up on an absent broker with its sales kept.
 */
import assert from "node:assert/strict";
import { Running, runService } from "./support/process.ts";
import { sentSales } from "./support/ledger.ts";
import { eventually } from "./support/amqp.ts";
import { EXIT_DEFERRED } from "../lib/cli/mod.ts";
import { atUrl, type Sandbox, withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

/** A port nothing listens on now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function serving(sandbox: Sandbox, port: number): Sandbox {
  return { ...sandbox, env: { ...sandbox.env, HTTP_PORT: String(port) } };
}

/** The value of one series in a Prometheus exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((row) => row.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

Deno.test(
  "operability: /metrics counts every sale once, /health says ok or why not",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const ports = { billing: freePort(), inventory: freePort() };
      const consumers = [
        new Running("billing", serving(sandbox, ports.billing)),
        new Running("inventory", serving(sandbox, ports.inventory)),
      ];
      try {
        await Promise.all(consumers.map((c) => c.waitFor(/running on/)));
        await t.step("each prints where it serves", () => {
          assert.ok(consumers[0].lines.some((line) =>
            line ===
              `billing serves http://127.0.0.1:${ports.billing}/health and http://127.0.0.1:${ports.billing}/metrics`
          ));
        });
        const count = 120;
        const posPort = freePort();
        const pos = await runService("pos", serving(sandbox, posPort), [
          "--count",
          String(count),
          "--quiet",
        ]);
        assert.equal(pos.code, 0, pos.stderr);
        await consumers[0].waitFor(/Generating invoice/, count);
        await consumers[1].waitFor(/Inventory update/, count);

        await t.step("the handled counter of each consumer is N", async () => {
          for (
            const [service, queue] of [
              ["billing", "billing_queue"],
              ["inventory", "inventory_queue"],
            ] as const
          ) {
            const response = await fetch(
              `http://127.0.0.1:${ports[service]}/metrics`,
            );
            assert.equal(response.status, 200);
            assert.match(
              response.headers.get("content-type") ?? "",
              /^text\/plain; version=0\.0\.4/,
            );
            const text = await response.text();
            assert.equal(
              sample(
                text,
                `shoppingapp_messages_handled_total{service="${service}",queue="${queue}"}`,
              ),
              count,
            );
            assert.equal(
              sample(text, `shoppingapp_connected{service="${service}"}`),
              1,
            );
            assert.ok(
              sample(
                text,
                `shoppingapp_outbox_pending{service="${service}"}`,
              )! >=
                0,
            );
            // The events the sales made are relayed: the gauge comes to 0.
            await eventually(async () => {
              const now = await (await fetch(
                `http://127.0.0.1:${ports[service]}/metrics`,
              )).text();
              return sample(
                now,
                `shoppingapp_outbox_pending{service="${service}"}`,
              ) === 0;
            }, `${service}'s outbox drained`);
            assert.ok(
              (sample(
                text,
                `shoppingapp_handle_seconds_count{service="${service}"}`,
              ) ?? 0) > 0,
            );
            assert.match(
              text,
              /# TYPE shoppingapp_publish_confirm_seconds histogram/,
            );
            assert.match(
              text,
              /# TYPE shoppingapp_messages_rejected_total counter/,
            );
            assert.match(
              text,
              /shoppingapp_retries_total\{service="\w+",kind="connection"\} 0/,
            );
          }
        });

        await t.step("/health is 200 with what it does", async () => {
          const response = await fetch(
            `http://127.0.0.1:${ports.billing}/health`,
          );
          assert.equal(response.status, 200);
          const health = await response.json();
          assert.equal(health.Status, "ok");
          assert.equal(health.Service, "billing");
          assert.equal(health.Connected, true);
          assert.equal(
            health.Work,
            'consuming "billing_queue" and "billing_close_queue"',
          );
          assert.equal(health.Handled, count);
        });

        await t.step("status shows queues, stores and health", async () => {
          const { code, stdout, stderr } = await runService("status", sandbox, [
            "--json",
            "--interval",
            "0.2",
          ]);
          assert.equal(code, 0, stderr);
          const status = JSON.parse(stdout);
          assert.equal(status.Brokers[0].Reachable, true);
          assert.equal(status.Unsafe.length, 1, status.Unsafe.join("\n"));
          assert.match(status.Brokers[0].Version, /^\d+\.\d+/);
          assert.deepEqual(
            status.Queues.map((q: Record<string, unknown>) => [
              q.Queue,
              q.Messages,
              q.Consumers,
            ]),
            [
              ["billing_queue", 0, 1],
              ["billing_close_queue", 0, 1],
              ["inventory_queue", 0, 1],
              ["inventory_command_queue", 0, 1],
              ["inventory_close_queue", 0, 1],
              // No back office runs here: its queue is not there yet.
              ["office_queue", undefined, undefined],
            ],
          );
          assert.deepEqual(
            status.ErrorQueues.map((q: Record<string, unknown>) => q.Messages),
            [0, 0, 0, 0, 0, undefined],
          );
          const [pos, billing, inventory] = status.Services;
          assert.equal(pos.OutboxPending, 0);
          assert.match(pos.LastHandled, /^NEPAL-01:\d+$/);
          assert.equal(billing.OutboxPending, 0);
          assert.match(billing.LastHandled, /^NEPAL-01:\d+@till-/);
          assert.match(inventory.LastHandled, /^NEPAL-01:\d+@till-/);
          const health = Object.fromEntries(
            status.Endpoints.map((
              e: { Service: string; Health: { Status: string } },
            ) => [e.Service, e.Health.Status]),
          );
          assert.deepEqual(health, { billing: "ok", inventory: "ok" });
          const text = await runService("status", sandbox, [
            "--interval",
            "0.2",
          ]);
          assert.equal(text.code, 0, text.stderr);
          assert.match(text.stdout, /^ {2}billing_queue +0 +1 +0\.0$/m);
          // The sandbox's broker is reached as guest: said under Unsafe.
          assert.match(text.stdout, /^Unsafe\n {2}\S+ is reached as guest/m);
          assert.match(
            text.stdout,
            new RegExp(
              `^  billing +http://127\\.0\\.0\\.1:${ports.billing} +pid \\d+ +ok, ${count} handled`,
              "m",
            ),
          );
        });

        await t.step("anything else is 404, a POST 405", async () => {
          const missing = await fetch(`http://127.0.0.1:${ports.billing}/x`);
          assert.equal(missing.status, 404);
          await missing.body?.cancel();
          const post = await fetch(`http://127.0.0.1:${ports.billing}/health`, {
            method: "POST",
          });
          assert.equal(post.status, 405);
          await post.body?.cancel();
        });
      } finally {
        for (const consumer of consumers) await consumer.stop();
      }

      await t.step(
        "with no broker, /health is 503 with the reason",
        async () => {
          const port = freePort();
          const away = new Running(
            "billing",
            serving(
              atUrl(sandbox, `amqp://guest:guest@127.0.0.1:${freePort()}`),
              port,
            ),
          );
          try {
            await away.waitFor(/trying again/);
            const response = await fetch(`http://127.0.0.1:${port}/health`);
            assert.equal(response.status, 503);
            const health = await response.json();
            assert.equal(health.Status, "broker away");
            assert.equal(health.Connected, false);
            const metrics =
              await (await fetch(`http://127.0.0.1:${port}/metrics`))
                .text();
            assert.equal(
              sample(metrics, 'shoppingapp_connected{service="billing"}'),
              0,
            );
            assert.ok(
              (sample(
                metrics,
                'shoppingapp_retries_total{service="billing",kind="connection"}',
              ) ?? 0) >= 1,
            );
          } finally {
            assert.equal(await away.stop(), 0);
          }
        },
      );
    });
  },
);

Deno.test(
  "operability: LOG_FORMAT=json writes one object per line",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const json = { ...sandbox, env: { ...sandbox.env, LOG_FORMAT: "json" } };
      const billing = new Running("billing", json);
      try {
        await billing.waitFor(/running on/);
        const pos = await runService("pos", json, ["--items", "MILK-1L:2"]);
        assert.equal(pos.code, 0, pos.stderr);
        const sent = pos.stdout.split("\n").filter(Boolean).map((line) =>
          JSON.parse(line)
        ).find((entry) => /^Sent SaleEvent/.test(entry.message));
        assert.equal(sent.level, "info");
        assert.equal(sent.service, "pos");
        assert.equal(sent.store, "NEPAL-01");
        await billing.waitFor(/Generating invoice/);
      } finally {
        assert.equal(await billing.stop(), 0);
      }
      const entries = billing.lines.map((line) => JSON.parse(line));
      const invoice = entries.find((entry) =>
        /^Generating invoice/.test(entry.message)
      );
      assert.equal(invoice.level, "info");
      assert.equal(invoice.service, "billing");
      assert.equal(invoice.store, "NEPAL-01");
      assert.equal(typeof invoice.saleId, "number");
      assert.ok(!Number.isNaN(Date.parse(invoice.time)));
      assert.match(entries.at(-1).message, /^billing stopped: 1 handled/);
    });
  },
);

Deno.test(
  "operability: one sale is one trace across the three services",
  processTest,
  async () => {
    // A small OTLP/HTTP receiver, as a collector would be.
    const spans: { service: string; name: string; traceId: string }[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (request) => {
        const body = await request.json().catch(() => ({}));
        for (const resource of body.resourceSpans ?? []) {
          const service = resource.resource?.attributes?.find((
            attribute: { key: string },
          ) => attribute.key === "service.name")?.value?.stringValue;
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({ service, name: span.name, traceId: span.traceId });
            }
          }
        }
        return Response.json({});
      },
    );
    try {
      await withSandbox(async (sandbox) => {
        const traced = (service: string): Sandbox => ({
          ...sandbox,
          env: {
            ...sandbox.env,
            OTEL_DENO: "true",
            OTEL_SERVICE_NAME: service,
            OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
            OTEL_EXPORTER_OTLP_ENDPOINT:
              `http://127.0.0.1:${receiver.addr.port}`,
          },
        });
        const billing = new Running("billing", traced("billing"));
        const inventory = new Running("inventory", traced("inventory"));
        try {
          await billing.waitFor(/running on/);
          await inventory.waitFor(/running on/);
          const pos = await runService("pos", traced("pos"), [
            "--items",
            "MILK-1L:1",
          ]);
          assert.equal(pos.code, 0, pos.stderr);
          await billing.waitFor(/Generating invoice/);
          await inventory.waitFor(/Inventory update/);
        } finally {
          await billing.stop();
          await inventory.stop();
        }
        const sale = spans.find((span) => span.name === "pos sale");
        assert.ok(sale, `no "pos sale" span in ${JSON.stringify(spans)}`);
        const trace = spans.filter((span) => span.traceId === sale.traceId);
        const names = new Set(
          trace.map((span) => `${span.service}/${span.name}`),
        );
        for (
          const expected of [
            "pos/pos sale",
            "pos/publish sale.created",
            "billing/billing handle",
            "billing/billing commit",
            "billing/publish invoice.created",
            "inventory/inventory handle",
            "inventory/inventory commit",
          ]
        ) {
          assert.ok(names.has(expected), `${expected} not in ${[...names]}`);
        }
      });
    } finally {
      await receiver.shutdown();
    }
  },
);

Deno.test(
  "operability: a one-shot POS with no broker gives up after --timeout, the sale kept",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const away = atUrl(sandbox, `amqp://guest:guest@127.0.0.1:${freePort()}`);
      const started = performance.now();
      const pos = await runService("pos", away, [
        "--items",
        "MILK-1L:2",
        "--timeout",
        "2",
      ]);
      assert.equal(pos.code, EXIT_DEFERRED, pos.stderr);
      assert.ok(performance.now() - started < 20_000);
      assert.match(
        pos.stderr,
        /^pos: No broker answered within 2 s: 1 sale\(s\) are kept in the outbox and sent at the next start$/m,
      );
      const kept = sentSales(sandbox);
      assert.equal(kept.length, 1);
      assert.equal(kept[0].sent, false);
      // The next start sends it.
      const billing = new Running("billing", sandbox);
      try {
        await billing.waitFor(/running on/);
        const again = await runService("pos", sandbox, ["--count", "0"]);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(sentSales(sandbox)[0].sent, true);
        await billing.waitFor(/Generating invoice/);
      } finally {
        await billing.stop();
      }
    });
  },
);
