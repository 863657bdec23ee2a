/**
 * The spans of a consumer's batch: each delivery continues the trace its
 * message came with (or starts one) with a `handle` span, and a `commit`
 * span under it covers the batch's one transaction. The events the handler
 * makes carry on the trace of the delivery they come from.
 *
 * @module
 */
import {
  contextOf,
  endSpan,
  type Span,
  SpanKind,
  startSpan,
  traceIdOf,
  TRACEPARENT,
  traceparentOf,
  TRACING,
} from "./tracing.ts";

/** A delivery, with the trace context it came with. */
export interface Traced {
  /** The `traceparent` header of its message. */
  traceparent?: string;
}

/** The spans of one batch of deliveries. */
export class TraceBatch<D extends Traced> {
  readonly #service: string;
  readonly #spans = new Map<D, Span>();

  private constructor(service: string) {
    this.#service = service;
  }

  /**
   * Starts a `handle` span per delivery; undefined when tracing is off, so
   * that a batch costs nothing then.
   */
  static start<D extends Traced>(
    service: string,
    deliveries: D[],
    attributes: (delivery: D) => Record<string, string | number | undefined>,
  ): TraceBatch<D> | undefined {
    if (!TRACING) return undefined;
    const batch = new TraceBatch<D>(service);
    for (const delivery of deliveries) {
      const span = startSpan(`${service} handle`, {
        parent: contextOf(delivery.traceparent),
        kind: SpanKind.CONSUMER,
        attributes: { "messaging.system": "rabbitmq", ...attributes(delivery) },
      });
      if (span) batch.#spans.set(delivery, span);
    }
    return batch;
  }

  /** The headers an event made for `delivery` carries. */
  headersOf(delivery: D): Record<string, string> | undefined {
    const span = this.#spans.get(delivery);
    return span ? { [TRACEPARENT]: traceparentOf(span) } : undefined;
  }

  /** Runs the batch's transaction under a `commit` span per delivery. */
  async commit<T>(work: () => Promise<T>): Promise<T> {
    const spans = [...this.#spans.values()].map((parent) =>
      startSpan(`${this.#service} commit`, { parent })
    );
    try {
      const result = await work();
      for (const span of spans) endSpan(span);
      return result;
    } catch (error) {
      for (const span of spans) endSpan(span, error);
      throw error;
    }
  }

  /** Ends every `handle` span. */
  end(error?: unknown): void {
    for (const span of this.#spans.values()) endSpan(span, error);
  }
}

/**
 * The trace id a log line about `delivery` names: its span's when traced,
 * else the one it came with.
 */
export function traceIdFor<D extends Traced>(
  batch: TraceBatch<D> | undefined,
  delivery: D,
): string | undefined {
  return traceIdOf(batch?.headersOf(delivery)?.[TRACEPARENT]) ??
    traceIdOf(delivery.traceparent);
}

/**
 * Runs `work` on a batch under its spans, started with `attributes` per
 * delivery and ended (failed, when it throws) once the work is done; with
 * tracing off, `work` gets undefined and nothing else is made.
 */
export async function withTraceBatch<D extends Traced>(
  service: string,
  deliveries: D[],
  options: {
    attributes: (delivery: D) => Record<string, string | number | undefined>;
    work: (trace: TraceBatch<D> | undefined) => Promise<void>;
  },
): Promise<void> {
  const trace = TraceBatch.start(service, deliveries, options.attributes);
  try {
    await options.work(trace);
    trace?.end();
  } catch (error) {
    trace?.end(error);
    throw error;
  }
}
