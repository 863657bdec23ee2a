/**
 * Signing in to the back office: the login page, the session cookie
 * (HttpOnly, SameSite=Strict, Secure over https), a CSRF token in every
 * form, the role each route needs, attempts limited per account and per
 * address, and each sign-in and sign-out in the audit trail.
 *
 * @module
 */
import { printable } from "../../contracts/text.ts";
import type { Log } from "../../lib/log/mod.ts";
import {
  type Accounts,
  allows,
  type AuditEntry,
  DEVICE_MS,
  type Role,
  type Session,
} from "./accounts.ts";
import { markup } from "./html.ts";
import { layout, message, problemPage } from "./pages/layout.ts";
import { page } from "./respond.ts";
import { Gate, GateFull } from "./gate.ts";
import type { Route, RouteHandler } from "./router.ts";

const COOKIE = "office_session";
/** A browser an account signed in from: its tries are counted apart. */
const DEVICE_COOKIE = "office_device";
/** Failed sign-ins from one remembered browser per window. */
const MAX_PER_DEVICE = 10;
/** Failed sign-ins of one account per window. */
const MAX_PER_ACCOUNT = 5;
/** Failed sign-ins from one address per window: a shared address has several people. */
const MAX_PER_ADDRESS = 20;
const WINDOW_MS = 15 * 60_000;

/** Who asked: the session, the address, and the token. */
export interface Caller {
  session?: Session;
  token?: string;
  address: string;
}

/** What signing in works with. */
export interface AuthContext {
  accounts: Accounts;
  log: Log;
  /** Whether the office is served over https (the cookie is Secure). */
  secure: boolean;
  /** What each request's caller is, set before routing. */
  callers: WeakMap<Request, Caller>;
}

/** The session token in a request's cookies, or another cookie's value. */
export function tokenOf(request: Request, cookie = COOKIE): string | undefined {
  const cookies = request.headers.get("cookie") ?? "";
  for (const part of cookies.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === cookie) return value.join("=");
  }
  return undefined;
}

/** Failures counted per key, forgotten after the window. */
class Limiter {
  readonly #failures = new Map<string, number[]>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Whether `key` may try again now. */
  allowed(key: string): boolean {
    const now = Date.now();
    const recent = (this.#failures.get(key) ?? []).filter((at) =>
      now - at < WINDOW_MS
    );
    if (recent.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, recent);
    return recent.length < this.#max;
  }

  fail(key: string): void {
    this.#failures.set(key, [...this.#failures.get(key) ?? [], Date.now()]);
    // Bounded: a flood of names cannot grow it for ever.
    if (this.#failures.size > 10_000) {
      this.#failures.delete(this.#failures.keys().next().value!);
    }
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }
}

/** Records `action` in the trail and the log, with who and from where. */
export async function audit(
  context: AuthContext,
  request: Request,
  action: string,
  detail: string,
): Promise<void> {
  const caller = context.callers.get(request);
  const entry: Omit<AuditEntry, "At"> = {
    Who: caller?.session?.name ?? "-",
    Action: action,
    Detail: detail,
    From: caller?.address ?? "-",
  };
  await context.accounts.audit(entry);
  context.log.info(
    `office: ${printable(entry.Who)} ${action}: ${
      printable(detail)
    } (from ${entry.From})`,
  );
}

function loginPage(options: { next: string; error?: string }): string {
  return layout(
    { title: "Sign in", section: "" },
    markup`
      ${message("error", options.error)}
      <form method="post" action="/login" class="login">
        <input type="hidden" name="next" value="${options.next}">
        <label for="name">Name<input id="name" name="name" required
          autocomplete="username"></label>
        <label for="password">Password<input id="password" name="password"
          type="password" required autocomplete="current-password"></label>
        <button type="submit">Sign in</button>
      </form>
    `,
  );
}

/** Where to go after signing in: a path of the office, nothing else. */
function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") &&
      !next.startsWith("//") && !next.startsWith("/\\")
    ? next
    : "/";
}

/** The routes that sign in and out; they need no session. */
export function authRoutes(context: AuthContext): Route[] {
  const perAccount = new Limiter(MAX_PER_ACCOUNT);
  const perAddress = new Limiter(MAX_PER_ADDRESS);
  const perDevice = new Limiter(MAX_PER_DEVICE);
  const refusalSaid = new Limiter(1);
  const deviceCookie = (value: string) =>
    `${DEVICE_COOKIE}=${value}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=${
      DEVICE_MS / 1000
    }${context.secure ? "; Secure" : ""}`;
  const checking = new Gate({ running: 1, waiting: 8 });
  /** A sign-in over the limits: said in the trail once a window, each key. */
  const refused = async (
    request: Request,
    name: string,
    from: string,
    next: string,
  ): Promise<Response> => {
    const key = `${name}\u0000${from}`;
    if (refusalSaid.allowed(key)) {
      refusalSaid.fail(key);
      await audit(
        context,
        request,
        "was refused sign-in",
        `as "${name}": too many tries (more are refused unsaid for 15 minutes)`,
      );
    }
    return page(
      loginPage({
        next,
        error: "Too many failed sign-ins: try again in 15 minutes.",
      }),
      429,
      { "retry-after": String(WINDOW_MS / 1000) },
    );
  };
  const cookie = (value: string, maxAge: number) =>
    `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${
      context.secure ? "; Secure" : ""
    }`;
  return [
    {
      method: "GET",
      path: "/login",
      handle: (request) =>
        page(loginPage({
          next: safeNext(new URL(request.url).searchParams.get("next")),
        })),
    },
    {
      method: "POST",
      path: "/login",
      handle: async (request) => {
        const form = await request.formData();
        // As said and kept: a name is 32 characters at most, and one
        // longer is no account's.
        const said = String(form.get("name") ?? "").trim();
        const name = said.length > 32 ? `${said.slice(0, 32)}…` : said;
        const password = String(form.get("password") ?? "");
        const next = safeNext(form.get("next"));
        const { address } = context.callers.get(request)!;
        // A browser the account signed in from before is limited on its
        // own: others' wrong passwords for the name do not keep it out.
        const device = tokenOf(request, DEVICE_COOKIE);
        const known = await context.accounts.knownDevice(device, name);
        const from = known ? `device:${device}` : address;
        const allowed = () =>
          known
            ? perDevice.allowed(device!)
            : perAccount.allowed(name) && perAddress.allowed(address);
        // Refused before the queue, so that refused tries hold up no one;
        // and inside the turn again, where the count is exact.
        if (!allowed()) return await refused(request, name, from, next);
        try {
          // One check at a time: each takes 64 MiB and a tenth of a second.
          return await checking.run(async () => {
            if (!allowed()) return await refused(request, name, from, next);
            const token = await context.accounts.signIn(name, password);
            if (!token) {
              if (known) {
                perDevice.fail(device!);
              } else {
                perAccount.fail(name);
                perAddress.fail(address);
              }
              await audit(
                context,
                request,
                "failed to sign in",
                `as "${name}"`,
              );
              return page(
                loginPage({ next, error: "Wrong name or password." }),
                401,
              );
            }
            if (!known) perAccount.clear(name);
            const caller = context.callers.get(request)!;
            caller.session = await context.accounts.session(token);
            await audit(context, request, "signed in", next);
            const headers = new Headers({ location: next });
            headers.append("set-cookie", cookie(token, 8 * 3600));
            if (!known) {
              headers.append(
                "set-cookie",
                deviceCookie(await context.accounts.rememberDevice(name)),
              );
            }
            return new Response(null, { status: 303, headers });
          });
        } catch (error) {
          if (!(error instanceof GateFull)) throw error;
          return page(
            loginPage({
              next,
              error: "Too many sign-ins at once: try again in a moment.",
            }),
            503,
            { "retry-after": "1" },
          );
        }
      },
    },
    {
      method: "POST",
      path: "/logout",
      handle: guarded(context, "viewer", async (request) => {
        const { token } = context.callers.get(request)!;
        await audit(context, request, "signed out", "");
        if (token) await context.accounts.signOut(token);
        return new Response(null, {
          status: 303,
          headers: { location: "/login", "set-cookie": cookie("", 0) },
        });
      }),
    },
  ];
}

/**
 * `handle` for a caller whose role allows `role`: without a session, a
 * page sends to the login page and anything else is 401; with too weak a
 * role, 403; a form without the session's CSRF token, 403. Pages get the
 * token in each form, and the header who is signed in.
 */
export function guarded(
  context: AuthContext,
  role: Role,
  handle: RouteHandler,
): RouteHandler {
  return async (request, params) => {
    const { session } = context.callers.get(request) ?? {};
    if (!session) {
      const { pathname, search } = new URL(request.url);
      if (
        request.method === "GET" && !pathname.startsWith("/api/") &&
        pathname !== "/events"
      ) {
        return new Response(null, {
          status: 303,
          headers: {
            location: `/login?next=${encodeURIComponent(pathname + search)}`,
          },
        });
      }
      return page(problemPage("Sign in first", "This needs a session."), 401);
    }
    if (!allows(session.role, role)) {
      return page(
        problemPage(
          "Not for your role",
          `This needs the ${role} role; ${session.name} is a ${session.role}.`,
        ),
        403,
      );
    }
    if (request.method === "POST") {
      const form = await request.clone().formData().catch(() => undefined);
      if (form?.get("_csrf") !== session.csrf) {
        return page(
          problemPage("Refused", "The form is stale: open the page again."),
          403,
        );
      }
    }
    const response = await handle(request, params);
    if (!response.headers.get("content-type")?.startsWith("text/html")) {
      return response;
    }
    return new Response(signedIn(await response.text(), session), {
      status: response.status,
      headers: response.headers,
    });
  };
}

/** A page with the session's token in each form, and who is signed in. */
function signedIn(page: string, session: Session): string {
  const token =
    markup`<input type="hidden" name="_csrf" value="${session.csrf}">`;
  const who = markup`<form method="post" action="/logout" class="inline who">
    <span class="muted">${session.name} (${session.role})</span>
    ${token}<button type="submit">Sign out</button></form>`;
  return page
    .replace(/(<form\b[^>]*\bmethod="post"[^>]*>)/g, `$1${token}`)
    .replace("</header>", `${who}</header>`);
}
