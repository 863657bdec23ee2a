import assert from "node:assert/strict";
import { unsafeBrokerUrls } from "./amqp_url.ts";

Deno.test("unsafeBrokerUrls: says the guest user and a plain amqp:// beyond loopback are unsafe", () => {
  assert.deepEqual(unsafeBrokerUrls("amqp://pos:pw@localhost:5672"), []);
  assert.deepEqual(
    unsafeBrokerUrls("amqps://pos:pw@broker.example"),
    [],
  );
  const guest = unsafeBrokerUrls("amqp://localhost:5672");
  assert.equal(guest.length, 1);
  assert.match(guest[0], /^localhost:5672 is reached as guest/);
  const plain = unsafeBrokerUrls(
    "amqp://pos:pw@broker.example:5672,amqps://guest:guest@b2.example",
  );
  assert.deepEqual(plain.map((line) => line.split(" is ")[0]), [
    "broker.example:5672",
    "b2.example:5671",
  ]);
  assert.match(plain[0], /plain amqp:\/\//);
  assert.match(plain[1], /as guest/);
});
