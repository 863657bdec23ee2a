/**
 * Where a visitor came from, as sign-in limits and the audit trail name it.
 *
 * @module
 */
import { isIpAddress } from "../../lib/config/mod.ts";

/**
 * The visitor's address: the connection's, or, when that is a proxy in
 * `trusted`, the last address its `X-Forwarded-For` names that is not one of
 * them. Only a trusted proxy's header is read: anyone else could write one.
 *
 * @example
 * ```ts
 * import { visitorAddress } from "./visitor.ts";
 *
 * const request = new Request("http://office.example/", {
 *   headers: { "x-forwarded-for": "198.51.100.2, 203.0.113.7" },
 * });
 * visitorAddress(request, "127.0.0.1", new Set(["127.0.0.1"])); // "203.0.113.7"
 * visitorAddress(request, "192.0.2.1", new Set(["127.0.0.1"])); // "192.0.2.1"
 * ```
 */
export function visitorAddress(
  request: Request,
  peer: string,
  trusted: ReadonlySet<string>,
): string {
  if (!trusted.has(peer)) return peer;
  const hops = (request.headers.get("x-forwarded-for") ?? "").split(",")
    .map((hop) => hop.trim());
  // Each proxy appends the address it saw: the right-most untrusted one is
  // the first that no proxy of ours wrote for itself.
  for (const hop of hops.toReversed()) {
    if (trusted.has(hop)) continue;
    return isIpAddress(hop) ? hop : peer;
  }
  return peer;
}
