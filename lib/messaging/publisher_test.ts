import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fakeConnection } from "../../tests/support/fake_channel.ts";
import { BrokerError, UnroutableError } from "../core/mod.ts";
import { type Outgoing, Publisher } from "./publisher.ts";

function message(id: string): Outgoing {
  return {
    exchange: "sales_exchange",
    routingKey: "sale.created",
    body: Buffer.from("{}"),
    messageId: id,
  };
}

Deno.test("publisher: resolves on the confirm, persistent and mandatory", async () => {
  const { connection, channel } = fakeConnection();
  const publisher = await Publisher.open(connection);
  const sent = publisher.publish(message("a"));
  await Promise.resolve();
  const [published] = channel.published;
  assert.equal(published.options.persistent, true);
  assert.equal(published.options.mandatory, true);
  assert.equal(published.options.messageId, "a");
  assert.equal(published.options.contentType, "application/json");
  published.confirm();
  await sent;
  await publisher.close();
});

Deno.test("publisher: a return before the confirm is an UnroutableError", async () => {
  const { connection, channel } = fakeConnection();
  const publisher = await Publisher.open(connection);
  const sent = publisher.publish(message("lost"));
  const other = publisher.publish(message("kept"));
  await Promise.resolve();
  channel.published[0].returnThenConfirm();
  channel.published[1].confirm();
  await assert.rejects(sent, UnroutableError);
  await other;
  await publisher.close();
});

Deno.test("publisher: a nack rejects with the message id", async () => {
  const { connection, channel } = fakeConnection();
  const publisher = await Publisher.open(connection);
  const sent = publisher.publish(message("n1"));
  await Promise.resolve();
  channel.published[0].nack();
  await assert.rejects(sent, (error: Error) => {
    assert.ok(error instanceof BrokerError);
    assert.match(error.message, /^Message "n1" was not confirmed/);
    return true;
  });
  await publisher.close();
});

Deno.test("publisher: one timer expires every unconfirmed publish", async () => {
  const { connection } = fakeConnection();
  const publisher = await Publisher.open(connection, { confirmTimeout: 30 });
  const started = performance.now();
  // The sweeper does not keep a process alive; this test's timer does.
  const alive = setTimeout(() => {}, 1000);
  const results = await Promise.allSettled([
    publisher.publish(message("t1")),
    publisher.publish(message("t2")),
  ]);
  clearTimeout(alive);
  assert.ok(performance.now() - started >= 30);
  for (const result of results) {
    assert.equal(result.status, "rejected");
    assert.match(
      String((result as PromiseRejectedResult).reason.message),
      /was not confirmed within 30 ms/,
    );
  }
  await publisher.close();
});

Deno.test("publisher: a blocked connection holds publishes and their timeout", async () => {
  const { connection, channel, events } = fakeConnection();
  const publisher = await Publisher.open(connection, { confirmTimeout: 30 });
  events.emit("blocked", "low on memory");
  const sent = publisher.publish(message("b1"));
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(channel.published.length, 0, "nothing written while blocked");
  events.emit("unblocked");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(channel.published.length, 1);
  channel.published[0].confirm();
  await sent;
  await publisher.close();
});

Deno.test("publisher: a closed channel fails the publish at once", async () => {
  const { connection, channel } = fakeConnection();
  const publisher = await Publisher.open(connection);
  await channel.close();
  await assert.rejects(publisher.publish(message("c1")), /Channel closed/);
});
