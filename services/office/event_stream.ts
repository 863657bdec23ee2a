/**
 * Server-Sent Events to every page that listens: each `send` goes to all of
 * them, as `event: <name>` with JSON data. A comment every 15 s keeps idle
 * streams open through proxies; `close` ends them all, so that a server
 * can shut down without waiting for its open pages.
 *
 * What a page has not read yet is bounded: one that falls behind (a slow or
 * stalled client) is dropped, and catches up when it reconnects. So are the
 * pages listening at once.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Options of {@linkcode EventStream}. */
export interface EventStreamOptions {
  /**
   * Milliseconds between keep-alive comments.
   *
   * @default {15000}
   */
  keepAliveMs?: number;
  /**
   * Bytes a page may leave unread before it is dropped.
   *
   * @default {262144}
   */
  maxQueuedBytes?: number;
  /**
   * Pages listening at once; one more is refused with 503.
   *
   * @default {200}
   */
  maxClients?: number;
  /** Told of each page dropped for falling behind. */
  onDrop?(): void;
}

/** The open streams of a server's pages. */
export class EventStream {
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #keepAliveMs: number;
  readonly #maxQueuedBytes: number;
  readonly #maxClients: number;
  readonly #onDrop: (() => void) | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #dropped = 0;

  /** Makes a stream with no page listening yet. */
  constructor(options: EventStreamOptions = {}) {
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 256 * 1024;
    this.#maxClients = options.maxClients ?? 200;
    this.#onDrop = options.onDrop;
  }

  /** Pages dropped so far for falling behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** How many pages listen. */
  get size(): number {
    return this.#clients.size;
  }

  /**
   * The response for a page that asks for the stream; `first` is sent to it
   * alone before anything else.
   */
  response(first: { event: string; data: unknown }[] = []): Response {
    if (this.#clients.size >= this.#maxClients) {
      return new Response("Too many live pages: try again later\n", {
        status: 503,
        headers: { "retry-after": "10", "cache-control": "no-store" },
      });
    }
    let self: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#clients.add(controller);
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        for (const { event, data } of first) {
          controller.enqueue(frame(event, data));
        }
        this.#keepAlive();
      },
      cancel: () => {
        this.#clients.delete(self);
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: this.#maxQueuedBytes }));
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  }

  /** Sends `data` as `event` to every page listening. */
  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const bytes = frame(event, data);
    for (const client of this.#clients) this.#enqueue(client, bytes);
  }

  /**
   * Queues `bytes` for one page; a page whose unread bytes passed the bound
   * is dropped, its queue with it.
   */
  #enqueue(
    client: ReadableStreamDefaultController<Uint8Array>,
    bytes: Uint8Array,
  ): void {
    try {
      if ((client.desiredSize ?? 0) <= 0) {
        this.#clients.delete(client);
        this.#dropped++;
        client.error(new Error("The page fell behind"));
        this.#onDrop?.();
        return;
      }
      client.enqueue(bytes);
    } catch {
      this.#clients.delete(client); // Gone.
    }
  }

  /** Ends every stream. */
  close(): void {
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // Gone already.
      }
    }
    this.#clients.clear();
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #keepAlive(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => {
      if (this.#clients.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        return;
      }
      const comment = encoder.encode(": keep-alive\n\n");
      for (const client of this.#clients) this.#enqueue(client, comment);
    }, this.#keepAliveMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }
}

/** One event: JSON has no raw newline, so one `data:` line holds it. */
function frame(event: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
