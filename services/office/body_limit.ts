/**
 * A request's body read with bounds: the office's forms are a few hundred
 * bytes, so a body past a small cap, or one sent too slowly, is refused
 * before it can take the office's memory or hold a request open.
 *
 * @module
 */

/** Options of {@linkcode readBody}. */
export interface BodyLimits {
  /**
   * The largest body read, in bytes.
   *
   * @default {16384}
   */
  maxBytes?: number;
  /**
   * Milliseconds the whole body may take to arrive.
   *
   * @default {10000}
   */
  timeoutMs?: number;
}

/** A body refused: too large (413) or too slow (408). */
export class BodyRefused extends Error {
  /** The status to answer with. */
  readonly status: 408 | 413;

  /** Creates the refusal; `message` says why in one line. */
  constructor(status: 408 | 413, message: string) {
    super(message);
    this.name = "BodyRefused";
    this.status = status;
  }
}

/**
 * `request` with its body read whole, within `limits`: what follows reads
 * the copy in memory.
 *
 * @throws {BodyRefused} for a body past the cap (by its Content-Length, or
 * as it arrives) or one that takes too long.
 */
export async function readBody(
  request: Request,
  limits: BodyLimits = {},
): Promise<Request> {
  const { maxBytes = 16 * 1024, timeoutMs = 10_000 } = limits;
  if (!request.body) return request;
  const tooLarge = () =>
    new BodyRefused(413, `The body is larger than ${maxBytes} bytes`);
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await request.body.cancel().catch(() => {});
    throw tooLarge();
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let late = false;
  const tooSlow = () =>
    new BodyRefused(408, `The body took more than ${timeoutMs} ms`);
  // A cancelled read ends as if the body did: the flag tells them apart.
  const timer = setTimeout(() => {
    late = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    while (true) {
      const { done, value } = await reader.read().catch((error) => {
        throw late ? tooSlow() : error;
      });
      if (late) throw tooSlow();
      if (done) break;
      length += value.byteLength;
      if (length > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return new Request(request, { body });
}
