import assert from "node:assert/strict";
import { visitorAddress } from "./visitor.ts";

const forwarded = (value?: string) =>
  new Request("http://office.example/", {
    headers: value === undefined ? {} : { "x-forwarded-for": value },
  });

Deno.test("visitor: a trusted proxy's X-Forwarded-For names the visitor", () => {
  const proxies = new Set(["127.0.0.1", "10.0.0.5"]);
  assert.equal(
    visitorAddress(forwarded("203.0.113.7"), "127.0.0.1", proxies),
    "203.0.113.7",
  );
  // What the visitor wrote itself comes first; our proxies come last.
  assert.equal(
    visitorAddress(
      forwarded("1.2.3.4, 203.0.113.7, 10.0.0.5"),
      "127.0.0.1",
      proxies,
    ),
    "203.0.113.7",
  );
  assert.equal(
    visitorAddress(forwarded("2001:db8::1"), "127.0.0.1", proxies),
    "2001:db8::1",
  );
});

Deno.test("visitor: anyone else's header, or none, or nonsense, leaves the connection's address", () => {
  const proxies = new Set(["127.0.0.1"]);
  assert.equal(
    visitorAddress(forwarded("203.0.113.7"), "192.0.2.1", proxies),
    "192.0.2.1",
  );
  assert.equal(visitorAddress(forwarded(), "127.0.0.1", proxies), "127.0.0.1");
  assert.equal(
    visitorAddress(forwarded("<script>"), "127.0.0.1", proxies),
    "127.0.0.1",
  );
  assert.equal(
    visitorAddress(forwarded("127.0.0.1"), "127.0.0.1", proxies),
    "127.0.0.1",
  );
  assert.equal(
    visitorAddress(forwarded("203.0.113.7"), "127.0.0.1", new Set()),
    "127.0.0.1",
  );
});
