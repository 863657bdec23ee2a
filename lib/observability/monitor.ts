/**
 * What an operator sees of a running service: its log, its metrics and its
 * health, in one object the plumbing reports to. `lib/observability/http_server.ts` serves
 * the metrics and the health when HTTP_PORT is set.
 *
 * @module
 */
import type { ChannelModel } from "amqplib";
import { brokerOf, reportRetry } from "../messaging/mod.ts";
import { Counter, Gauge, Histogram, Registry } from "./metrics.ts";
import { createLog, type Log } from "../log/mod.ts";

/** Why a service is not healthy now, or undefined when it is. */
export type Condition =
  | "starting"
  | "broker away"
  | "store failing"
  | "draining"
  | undefined;

/** The health, as `GET /health` answers it. */
export interface HealthReport {
  /** "ok", or why not. */
  Status: string;
  /** The service. */
  Service: string;
  /** Whether it holds a connection to a broker. */
  Connected: boolean;
  /** The broker it is connected to (`host:port`), when it is. */
  Broker?: string;
  /** What it consumes or relays. */
  Work: string;
  /** Messages handled since it started. */
  Handled: number;
  /** Seconds since it started. */
  UptimeSeconds: number;
}

/** Options of {@linkcode Monitor}. */
export interface MonitorOptions {
  /**
   * Where lines go.
   *
   * @default {createLog(service)}
   */
  log?: Log;
  /** What it does, for the health: `consuming "billing_queue"`. */
  work?: string;
}

/** A service's log, metrics and health. */
export class Monitor {
  /** The service. */
  readonly service: string;
  /** Its log. */
  readonly log: Log;
  /** Its metrics, for `GET /metrics`. */
  readonly registry: Registry = new Registry();
  /** Messages handled (committed), by queue. */
  readonly handled: Counter;
  /** Messages set aside in an error queue, by queue and reason. */
  readonly rejected: Counter;
  /** Connections tried again, and messages handled again alone. */
  readonly retries: Counter;
  /** Messages waiting in the outbox, read at each scrape. */
  readonly outboxPending: Gauge;
  /** 1 while connected to a broker. */
  readonly connected: Gauge;
  /** Seconds from a publish to the broker's confirm. */
  readonly confirmSeconds: Histogram;
  /** Seconds to handle a batch of deliveries, commit included. */
  readonly handleSeconds: Histogram;
  /** What it does, for the health. */
  work: string;
  readonly #started = performance.now();
  #broker: string | undefined;
  #storeFailing = false;
  #draining = false;
  #working = false;

  /** A monitor for `service`. */
  constructor(service: string, options: MonitorOptions = {}) {
    this.service = service;
    this.log = options.log ?? createLog(service);
    this.work = options.work ?? "";
    const r = this.registry;
    this.handled = r.add(
      new Counter(
        "shoppingapp_messages_handled_total",
        "Messages handled and committed.",
      ),
    );
    this.rejected = r.add(
      new Counter(
        "shoppingapp_messages_rejected_total",
        "Messages set aside in an error queue, by reason.",
      ),
    );
    this.retries = r.add(
      new Counter(
        "shoppingapp_retries_total",
        "Connections tried again (kind=connection) and messages handled again alone (kind=message).",
      ),
    );
    this.outboxPending = r.add(
      new Gauge(
        "shoppingapp_outbox_pending",
        "Messages in the outbox waiting to be published.",
      ),
    );
    this.connected = r.add(
      new Gauge("shoppingapp_connected", "1 while connected to a broker."),
    );
    this.confirmSeconds = r.add(
      new Histogram(
        "shoppingapp_publish_confirm_seconds",
        "Seconds from a publish to the broker's confirm.",
      ),
    );
    this.handleSeconds = r.add(
      new Histogram(
        "shoppingapp_handle_seconds",
        "Seconds to handle a batch of deliveries, its commit included.",
      ),
    );
    this.connected.set({ service }, 0);
    this.retries.inc({ service, kind: "connection" }, 0);
    this.retries.inc({ service, kind: "message" }, 0);
  }

  /** The labels every series of this service carries. */
  get labels(): { service: string } {
    return { service: this.service };
  }

  /**
   * Follows a new connection: connected to its broker until it closes.
   * Returns the broker's `host:port`.
   */
  watchConnection(connection: ChannelModel): string {
    const broker = brokerOf(connection);
    this.setConnected(broker);
    connection.once("close", () => this.setConnected(undefined));
    return broker;
  }

  /**
   * An `onRetry` for `stayConnected`: counts the retry, marks the service
   * disconnected and writes the warning.
   */
  onRetry(
    detail?: () => string | Promise<string>,
  ): (message: string, delayMs: number) => Promise<void> {
    const report = reportRetry(this.log, detail);
    return (message, delayMs) => {
      this.setConnected(undefined);
      this.retries.inc({ ...this.labels, kind: "connection" });
      return report(message, delayMs);
    };
  }

  /** Reads `outbox`'s pending messages into the gauge at each scrape. */
  watchOutbox(outbox: { countPending(): Promise<number> }): void {
    this.registry.onCollect(async () =>
      this.outboxPending.set(this.labels, await outbox.countPending())
    );
  }

  /** Connected to `broker` (`host:port`), or no longer (undefined). */
  setConnected(broker: string | undefined): void {
    this.#broker = broker;
    this.connected.set(this.labels, broker ? 1 : 0);
    if (!broker) this.#working = false;
  }

  /** Consuming or relaying, or no longer. */
  setWorking(working: boolean): void {
    this.#working = working;
  }

  /** Its store fails, or works again. */
  setStoreFailing(failing: boolean): void {
    this.#storeFailing = failing;
  }

  /** Stopping: finishing what it holds. */
  setDraining(): void {
    this.#draining = true;
  }

  /** Whether it holds a connection to a broker now. */
  isConnected(): boolean {
    return this.#broker !== undefined;
  }

  /** Why it is not healthy, or undefined when it is. */
  condition(): Condition {
    if (this.#draining) return "draining";
    if (!this.#broker) return "broker away";
    if (this.#storeFailing) return "store failing";
    if (!this.#working) return "starting";
    return undefined;
  }

  /** The health, as `GET /health` answers it. */
  health(): HealthReport {
    return {
      Status: this.condition() ?? "ok",
      Service: this.service,
      Connected: this.isConnected(),
      ...(this.#broker ? { Broker: this.#broker } : {}),
      Work: this.work,
      Handled: this.handled.total(),
      UptimeSeconds: Math.round((performance.now() - this.#started) / 1000),
    };
  }
}
