/**
 * A plain AMQP client for tests: publish raw bytes as a third party would,
 * read queues, wait for a condition.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { ChannelModel, GetMessage } from "amqplib";
import { DOTNET_MESSAGE } from "../../contracts/_fixtures.ts";
import { connectBroker } from "../../lib/messaging/mod.ts";
import { delay } from "../../lib/core/mod.ts";
import type { Sandbox } from "./sandbox.ts";

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

/** A plain connection to the sandbox, for publishing and reading raw messages. */
export async function openClient(sandbox: Sandbox): Promise<ChannelModel> {
  return await connectBroker({ url: sandbox.url, name: "test" });
}

/** Takes every message now in `queue`, acking each. */
export async function drain(
  connection: ChannelModel,
  queue: string,
): Promise<GetMessage[]> {
  const channel = await connection.createChannel();
  const messages: GetMessage[] = [];
  for (let message; (message = await channel.get(queue, { noAck: true }));) {
    messages.push(message);
  }
  await channel.close();
  return messages;
}

/** Publishes raw bytes as the .NET POS does: default properties, not persistent. */
export async function publishRaw(
  connection: ChannelModel,
  body: string | Uint8Array,
  routing = { exchange: "sales_exchange", routingKey: "sale.created" },
): Promise<void> {
  const channel = await connection.createConfirmChannel();
  channel.publish(
    routing.exchange,
    routing.routingKey,
    Buffer.from(body),
  );
  await channel.waitForConfirms();
  await channel.close();
}

/**
 * The .NET POS's sale in Billing's error queue with id "replay-me", set aside
 * as Billing's consumer does it after failing on it 5 times.
 */
export async function setAsideInBilling(
  connection: ChannelModel,
): Promise<void> {
  const channel = await connection.createConfirmChannel();
  channel.sendToQueue("billing_queue_error", Buffer.from(DOTNET_MESSAGE), {
    messageId: "replay-me",
    persistent: true,
    headers: {
      "x-error-reason": "Handling failed 5 times: database is locked",
      "x-attempts": 5,
      "x-original-exchange": "sales_exchange",
      "x-original-routing-key": "sale.created",
      "x-original-queue": "billing_queue",
      "x-failed-at": new Date().toISOString(),
    },
  });
  await channel.waitForConfirms();
  await channel.close();
}

/** Waits until `check` holds, polling. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
