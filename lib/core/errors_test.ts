import assert from "node:assert/strict";
import { brokerUrls, hostAndPort, redactUrl } from "../config/mod.ts";
import { inTurn } from "../messaging/mod.ts";
import { BrokerError, describeError, replyCodeOf } from "./errors.ts";

Deno.test("errors: permanence is decided by the AMQP reply code", () => {
  const channelError = Object.assign(
    new Error(
      "Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message \"inequivalent arg 'x-queue-type'\"",
    ),
    { code: 406 },
  );
  assert.equal(replyCodeOf(channelError), 406);
  assert.equal(
    replyCodeOf(
      new Error(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"',
      ),
    ),
    403,
  );
  assert.equal(
    replyCodeOf(
      new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"),
    ),
    530,
  );
  assert.equal(replyCodeOf(new Error("socket hang up")), undefined);
  assert.equal(new BrokerError("x", { replyCode: 406 }).permanent, true);
  assert.equal(new BrokerError("x", { replyCode: 320 }).permanent, false);
  assert.equal(new BrokerError("x").permanent, false);
});

Deno.test("errors: one line, in the user's words where we know them", () => {
  assert.equal(
    describeError(
      Object.assign(new Error("connect"), { code: "ECONNREFUSED" }),
    ),
    "connection refused (is the broker running?)",
  );
  assert.equal(
    describeError(
      new Error(
        'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "x"',
      ),
    ),
    "access refused: check the user name and password",
  );
  assert.equal(
    describeError(
      new Error("Expected ConnectionOpenOk; got <ConnectionClose channel:0>"),
    ),
    "access refused: the virtual host does not exist or the user may not use it",
  );
  assert.equal(describeError(new Error("two\nlines")), "two");
  assert.equal(describeError("text"), "text");
});

Deno.test("amqp url: a list of brokers, printed without secrets", () => {
  const urls = brokerUrls(" amqp://u:p@a:1/v , amqps://b ,");
  assert.deepEqual(urls.map(hostAndPort), ["a:1", "b:5671"]);
  assert.equal(redactUrl("amqp://u:secret@a:1/shop?x=1"), "amqp://u@a:1/shop");
  assert.equal(redactUrl("::"), "(an invalid URL)");
  assert.throws(() => brokerUrls("http://a"), /use amqp:\/\/ or amqps:\/\//);
});

Deno.test("amqp url: each connect starts from the next broker", () => {
  const urls = ["a", "b", "c"];
  assert.deepEqual(inTurn(urls, 0), ["a", "b", "c"]);
  assert.deepEqual(inTurn(urls, 1), ["b", "c", "a"]);
  assert.deepEqual(inTurn(urls, 5), ["c", "a", "b"]);
  assert.deepEqual(inTurn(["only"], 7), ["only"]);
});
