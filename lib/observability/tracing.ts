/**
 * W3C trace context across the services: the POS starts a trace per sale and
 * its `sale.created` carries `traceparent`; the consumers continue it, and
 * the events they make carry it on. Spans go to OpenTelemetry through
 * `npm:@opentelemetry/api`, which Deno's own exporter serves when
 * `OTEL_DENO=true` (with the standard `OTEL_*` variables). Off, nothing is
 * made: no span, no header.
 *
 * @module
 */
import {
  type Context,
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from "@opentelemetry/api";

export { type Span, SpanKind };

/** The message header that carries the trace context. */
export const TRACEPARENT = "traceparent";

const tracer = trace.getTracer("shoppingapp");

/**
 * Whether spans are exported: Deno registers its tracer provider at start
 * when `OTEL_DENO=true`; otherwise the API's proxy has none to delegate to.
 */
export const TRACING: boolean = (() => {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) ||
    provider.getDelegateTracer("shoppingapp") !== undefined;
})();

const TRACEPARENT_FORMAT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The context a `traceparent` header names, to continue its trace; the
 * root context (a new trace) when there is none or it is not well-formed,
 * as from the .NET POS.
 */
export function contextOf(traceparent: unknown): Context {
  if (typeof traceparent !== "string") return ROOT_CONTEXT;
  const match = TRACEPARENT_FORMAT.exec(traceparent.trim());
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) {
    return ROOT_CONTEXT;
  }
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1],
    spanId: match[2],
    traceFlags: parseInt(match[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The `traceparent` header that continues `span`'s trace. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-0${traceFlags & TraceFlags.SAMPLED}`;
}

/** The trace id in a `traceparent` header, for log lines. */
export function traceIdOf(traceparent: unknown): string | undefined {
  if (typeof traceparent !== "string") return undefined;
  return TRACEPARENT_FORMAT.exec(traceparent.trim())?.[1];
}

/** Options of {@linkcode startSpan}. */
export interface StartSpanOptions {
  /** The context to continue; a new trace without. */
  parent?: Context | Span;
  /**
   * What the span is to the messaging.
   *
   * @default {SpanKind.INTERNAL}
   */
  kind?: SpanKind;
  /** When it started; default now. */
  startTime?: Date;
  /** Its attributes. */
  attributes?: Record<string, string | number | boolean | undefined>;
}

/** Starts a span; undefined when tracing is off, so that nothing is made. */
export function startSpan(
  name: string,
  options: StartSpanOptions = {},
): Span | undefined {
  if (!TRACING) return undefined;
  const { parent } = options;
  const parentContext = parent === undefined
    ? ROOT_CONTEXT
    : "spanContext" in parent
    ? trace.setSpan(context.active(), parent)
    : parent;
  const attributes = Object.fromEntries(
    Object.entries(options.attributes ?? {}).filter(([, value]) =>
      value !== undefined
    ),
  ) as Record<string, string | number | boolean>;
  return tracer.startSpan(name, {
    kind: options.kind ?? SpanKind.INTERNAL,
    startTime: options.startTime,
    attributes,
  }, parentContext);
}

/** Ends `span`, marked failed with `error` when there is one. */
export function endSpan(span: Span | undefined, error?: unknown): void {
  if (!span) return;
  if (error !== undefined) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

/**
 * Runs `work` with a `start` that starts spans; each ends once `work` has,
 * failed with its error when it failed: spans of the sales a transaction
 * makes end with its commit or its rollback.
 *
 * @example
 * ```ts
 * import { withSpans } from "./tracing.ts";
 *
 * await withSpans(async (start) => {
 *   start("pos sale", { attributes: { "shoppingapp.sale_id": 10000 } });
 * });
 * ```
 */
export async function withSpans<T>(
  work: (start: typeof startSpan) => Promise<T>,
): Promise<T> {
  const spans: Span[] = [];
  try {
    const result = await work((name, options) => {
      const span = startSpan(name, options);
      if (span) spans.push(span);
      return span;
    });
    for (const span of spans) endSpan(span);
    return result;
  } catch (error) {
    for (const span of spans) endSpan(span, error);
    throw error;
  }
}
