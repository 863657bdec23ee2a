/**
 * The errors the plumbing throws, and how to say them in one line. Library
 * code throws these; only a program's main turns them into an exit code.
 *
 * @module
 */

export { errorMessage } from "../../contracts/text.ts";

/**
 * AMQP reply codes after which trying again cannot help: 403 access refused,
 * 404 not found, 406 precondition failed (a queue declared with other
 * arguments), 530 not allowed (a virtual host that does not exist or may not
 * be used), 540 not implemented.
 */
export const IRRECOVERABLE_REPLY_CODES: readonly number[] = [
  403,
  404,
  406,
  530,
  540,
];

/** Options of {@linkcode BrokerError}. */
export interface BrokerErrorOptions {
  /** The AMQP reply code the broker gave, when it gave one. */
  replyCode?: number;
  /**
   * Whether trying again cannot help. Defaults to whether `replyCode` is
   * one of {@linkcode IRRECOVERABLE_REPLY_CODES}.
   */
  permanent?: boolean;
  /** What was thrown underneath. */
  cause?: unknown;
}

/** A broker that cannot be reached, or refused us; the message is one line. */
export class BrokerError extends Error {
  /** The AMQP reply code, when the broker gave one. */
  readonly replyCode: number | undefined;
  /** Whether trying again cannot help: refused credentials, a host not permitted, a bad URL. */
  readonly permanent: boolean;

  /** Creates the error; `message` is one line naming the URL without its password. */
  constructor(message: string, options: BrokerErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "BrokerError";
    this.replyCode = options.replyCode;
    this.permanent = options.permanent ??
      (options.replyCode !== undefined &&
        IRRECOVERABLE_REPLY_CODES.includes(options.replyCode));
  }
}

/** A confirmed publish that no queue took (mandatory, unroutable). */
export class UnroutableError extends Error {
  /** Creates the error for a message returned by the broker. */
  constructor(message: string) {
    super(message);
    this.name = "UnroutableError";
  }
}

/**
 * A message that can never be handled, whatever is tried (a conflict, a
 * value out of range): the consumer sets it aside at once instead of trying
 * again.
 */
export class RejectedError extends Error {
  /** Creates the error; `message` is the reason, one line. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RejectedError";
  }
}

/**
 * A message that can never be published as it is (a message id longer than
 * AMQP's 255-byte short string, a header of a type AMQP cannot carry): the
 * relay sets it aside in its outbox instead of trying again.
 */
export class UnpublishableError extends Error {
  /** Creates the error; `message` is the reason, one line. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnpublishableError";
  }
}

/** A command line or setting that cannot be used; a program exits 2 for it. */
export class UsageError extends Error {
  /** Creates the error; `message` is one line naming the value. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * Work that could not be done now but is kept to be done later (sales kept
 * in the outbox while no broker answers); a program exits 75 for it, as
 * sysexits' EX_TEMPFAIL.
 */
export class DeferredError extends Error {
  /** Creates the error; `message` is one line saying what is kept. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DeferredError";
  }
}

/**
 * The AMQP reply code of what amqplib threw: its `code` for a channel or
 * connection closed by the broker, or the code of a close during the
 * handshake, which amqplib reports only in its message.
 */
export function replyCodeOf(error: unknown): number | undefined {
  if (error instanceof BrokerError) return error.replyCode;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") return code;
  const handshake = /^Handshake terminated by server: (\d{3})/.exec(
    error.message,
  );
  if (handshake) return Number(handshake[1]);
  // The broker answers connection.open only with a close: 530 NOT_ALLOWED.
  if (/^Expected ConnectionOpenOk; got <ConnectionClose/.test(error.message)) {
    return 530;
  }
  return undefined;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the broker running?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection reset",
  EPERM: "not permitted: the service's --allow-net does not list this host",
};

const REPLY_CODES: Record<number, string> = {
  403: "access refused: check the user name and password",
  530:
    "access refused: the virtual host does not exist or the user may not use it",
};

/** One line for a broker or network failure, the broker's own words where it gave some. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof Deno.errors.NotCapable) {
    // Deno says which access: "Requires write access to "/x", run again…".
    const asked = /Requires (\w+) access to "?([^",]+)"?/.exec(error.message);
    if (!asked || asked[1] === "net") return NETWORK_ERRORS.EPERM;
    return `not permitted: its permission set does not let it ${
      asked[1] === "env" ? "read the variable" : asked[1]
    } ${asked[2]}`;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code in NETWORK_ERRORS) {
    return NETWORK_ERRORS[code];
  }
  const replyCode = replyCodeOf(error);
  // A connection refused at the handshake; a channel's 403 keeps its words.
  if (
    replyCode !== undefined && replyCode in REPLY_CODES &&
    !(error instanceof BrokerError) && typeof code !== "number"
  ) {
    return REPLY_CODES[replyCode];
  }
  return error.message.split("\n")[0].replace(/\s+/g, " ").trim();
}
