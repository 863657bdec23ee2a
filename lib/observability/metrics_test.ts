import assert from "node:assert/strict";
import { Counter, Gauge, Histogram, Registry } from "./metrics.ts";

Deno.test("metrics: the Prometheus text exposition", async () => {
  const registry = new Registry();
  const handled = registry.add(new Counter("x_total", "Handled."));
  const pending = registry.add(new Gauge("x_pending", "Pending."));
  const seconds = registry.add(new Histogram("x_seconds", "Time.", [0.1, 1]));
  handled.inc({ queue: 'a"b' });
  handled.inc({ queue: 'a"b' }, 2);
  seconds.observe({}, 0.05);
  seconds.observe({}, 0.5);
  seconds.observe({}, 5);
  registry.onCollect(() => pending.set({ service: "s" }, 7));
  registry.onCollect(() => Promise.reject(new Error("store away")));
  assert.equal(
    await registry.expose(),
    [
      "# HELP x_total Handled.",
      "# TYPE x_total counter",
      'x_total{queue="a\\"b"} 3',
      "# HELP x_pending Pending.",
      "# TYPE x_pending gauge",
      'x_pending{service="s"} 7',
      "# HELP x_seconds Time.",
      "# TYPE x_seconds histogram",
      'x_seconds_bucket{le="0.1"} 1',
      'x_seconds_bucket{le="1"} 2',
      'x_seconds_bucket{le="+Inf"} 3',
      "x_seconds_sum 5.55",
      "x_seconds_count 3",
      "",
    ].join("\n"),
  );
  assert.equal(handled.total(), 3);
});
