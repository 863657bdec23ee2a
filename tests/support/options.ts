/**
 * What the end-to-end tests share.
 *
 * @module
 */

/**
 * Options of a test that runs services as processes: their pipes and the
 * broker connections of helpers outlive a step by design, so Deno's
 * resource and op sanitizers would report them.
 */
export const processTest = { sanitizeResources: false, sanitizeOps: false };
