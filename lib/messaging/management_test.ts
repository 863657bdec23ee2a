import assert from "node:assert/strict";
import { Management, managementOf } from "./management.ts";

Deno.test("management: by default the first broker's host, port 15672, with its credentials", () => {
  assert.deepEqual(
    managementOf("amqp://admin:p%40ss@rmq1:5672/shop,amqp://admin:p%40ss@rmq2"),
    { url: "http://rmq1:15672", username: "admin", password: "p@ss" },
  );
  assert.equal(
    managementOf("amqps://a:b@broker:5671").url,
    "https://broker:15671",
  );
});

Deno.test("management: --management-url wins, with its own credentials when it has them", () => {
  assert.deepEqual(managementOf("amqp://a:b@h", "http://m:1/api-root/"), {
    url: "http://m:1/api-root",
    username: "a",
    password: "b",
  });
  assert.deepEqual(managementOf("amqp://a:b@h", "https://x:y@m"), {
    url: "https://m",
    username: "x",
    password: "y",
  });
});

Deno.test("management: a path's segments are encoded, the default vhost included", () => {
  assert.equal(Management.path("queues", "/", "a b"), "queues/%2F/a%20b");
});

Deno.test("management: a request that cannot be made says where, without the password", async () => {
  const api = new Management({
    url: "http://127.0.0.1:1",
    username: "admin",
    password: "secret-pw",
    timeoutMs: 2000,
  });
  const error = await api.get("overview").catch((error: Error) =>
    error
  ) as Error;
  assert.match(
    error.message,
    /^The management API did not answer \(GET http:\/\/127\.0\.0\.1:1\/api\/overview\)/,
  );
  assert.ok(!error.message.includes("secret-pw"));
});
