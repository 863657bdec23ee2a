/**
 * What `deno task status` found, and its one screen of text.
 *
 * @module
 */
import { printable } from "../contracts/text.ts";
import { formatRanges } from "../contracts/till.ts";
import { SALES_EXCHANGE } from "../contracts/names.ts";
import type { HealthReport } from "../lib/observability/mod.ts";
import type { Gap, OpenDiscrepancy } from "../lib/reconcile/mod.ts";

/** One broker of AMQP_URL. */
export interface BrokerStatus {
  Broker: string;
  Reachable: boolean;
  Version?: string;
  Cluster?: string;
  Error?: string;
}

/** One queue. */
export interface QueueStatus {
  Queue: string;
  Messages?: number;
  Consumers?: number;
  /** Change of depth per second over the sample. */
  ChangePerSecond?: number;
  Error?: string;
}

/** One service, from its store. */
export interface ServiceStatus {
  Service: string;
  Store?: string;
  OutboxPending?: number;
  LastHandled?: string;
  LastHandledAt?: string;
  /** Closes it answered with a discrepancy not mended since. */
  Discrepancies?: OpenDiscrepancy[];
  /** Sales it lacks though it has the till's next one, older than GAP_AGE. */
  Gaps?: Gap[];
  Error?: string;
}

/** One instance that serves /health. */
export interface EndpointStatus {
  Service: string;
  Url: string;
  Pid: number;
  Health?: HealthReport;
  Error?: string;
}

/** What `--json` prints. */
export interface Status {
  At: string;
  /** What in the settings is unsafe, one line each. */
  Unsafe: string[];
  Brokers: BrokerStatus[];
  Queues: QueueStatus[];
  ErrorQueues: QueueStatus[];
  Services: ServiceStatus[];
  Endpoints: EndpointStatus[];
}

/** The status as one screen of text. */
export function render(status: Status): string {
  const lines = [`ShoppingApp status at ${status.At}`, ""];
  lines.push("Brokers");
  for (const broker of status.Brokers) {
    lines.push(
      `  ${broker.Broker.padEnd(32)} ${
        broker.Reachable
          ? `up    RabbitMQ ${broker.Version}${
            broker.Cluster ? `, cluster ${broker.Cluster}` : ""
          }`
          : `DOWN  ${broker.Error}`
      }`,
    );
  }
  lines.push(
    "",
    `Queues (bound to ${SALES_EXCHANGE})     messages  consumers  change/s`,
  );
  for (const queue of status.Queues) {
    lines.push(
      queue.Error
        ? `  ${queue.Queue.padEnd(30)} ${queue.Error}`
        : `  ${queue.Queue.padEnd(30)} ${String(queue.Messages).padStart(9)}  ${
          String(queue.Consumers).padStart(9)
        }  ${(queue.ChangePerSecond ?? 0).toFixed(1).padStart(8)}`,
    );
  }
  lines.push("", "Error queues                       messages");
  for (const queue of status.ErrorQueues) {
    lines.push(
      queue.Error
        ? `  ${queue.Queue.padEnd(30)} ${queue.Error}`
        : `  ${queue.Queue.padEnd(30)} ${String(queue.Messages).padStart(9)}${
          (queue.Messages ?? 0) > 0 ? "  (deno task errors -- list)" : ""
        }`,
    );
  }
  lines.push("", "Services   outbox  last sale made or handled");
  for (const service of status.Services) {
    lines.push(
      service.Error
        ? `  ${service.Service.padEnd(9)} ${service.Error}`
        : `  ${service.Service.padEnd(9)} ${
          String(service.OutboxPending ?? 0).padStart(6)
        }  ${
          service.LastHandled
            ? `${printable(service.LastHandled)} at ${service.LastHandledAt}`
            : "none yet"
        }`,
    );
  }
  lines.push("", "Day closes");
  const problems = status.Services.flatMap((service) => [
    ...(service.Discrepancies ?? []).map((found) =>
      `${service.Service} lacks ${
        formatRanges(found.Missing) || "no sale"
      } of till ${found.TillId} (${found.StoreId}), day ${found.BusinessDay}: Rs.${found.SeenAmount} of Rs.${found.TotalAmount}`
    ),
    ...(service.Gaps ?? []).map((gap) =>
      `${service.Service} lacks sale #${gap.saleId} of till ${gap.tillId} (${gap.storeId}), though the next came at ${gap.since}`
    ),
  ]);
  if (problems.length === 0) lines.push("  every close reconciled, no gap");
  for (const line of problems) lines.push(`  ${printable(line)}`);
  if (problems.length > 0) {
    lines.push("  (deno task pos -- resend --missing sends them again)");
  }
  lines.push("", "Unsafe");
  if (status.Unsafe.length === 0) lines.push("  nothing found");
  for (const line of status.Unsafe) lines.push(`  ${printable(line)}`);
  lines.push("", "Serving");
  if (status.Endpoints.length === 0) {
    lines.push("  none (set HTTP_PORT to serve /health and /metrics)");
  }
  for (const endpoint of status.Endpoints) {
    const health = endpoint.Health;
    lines.push(
      `  ${endpoint.Service.padEnd(9)} ${endpoint.Url.padEnd(24)} pid ${
        String(endpoint.Pid).padEnd(7)
      } ${
        health
          ? `${health.Status}, ${health.Handled} handled, up ${health.UptimeSeconds} s`
          : endpoint.Error
      }`,
    );
  }
  return lines.join("\n");
}
