/**
 * The back office's accounts end to end: made from the command line with
 * the password on standard input, each role held to what it may do,
 * sign-in attempts limited, a new password ending the sessions, and every
 * change in the audit trail.
 */
import assert from "node:assert/strict";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";
import { runService } from "./support/process.ts";
import { peakMiB, signIn, startOffice } from "./support/office.ts";

Deno.test(
  "office accounts: roles, attempts, passwords and the trail",
  processTest,
  async (t) => {
    await withSandbox(async (sandbox) => {
      const users = (args: string[], stdin?: string) =>
        runService("office", sandbox, ["users", ...args], stdin);
      const { office, url, password } = await startOffice(sandbox);
      const { origin } = new URL(url);
      try {
        await t.step("users add, with the password on stdin", async () => {
          const added = await users(
            ["add", "ann", "--role", "viewer"],
            "ann's long password\n",
          );
          assert.equal(added.code, 0, added.stderr);
          const listed = await users(["list"]);
          assert.match(listed.stdout, /^admin +admin/m);
          assert.match(listed.stdout, /^ann +viewer/m);
          const short = await users(["add", "bob", "--role", "viewer"], "x\n");
          assert.equal(short.code, 2);
          assert.match(short.stderr, /at least 10 characters/);
        });
        await t.step("a viewer reads, and may not adjust stock", async () => {
          const { cookie, csrf } = await signIn(
            url,
            "ann's long password",
            "ann",
          );
          const today = await fetch(url, { headers: { cookie } });
          assert.equal(today.status, 200);
          await today.body?.cancel();
          const adjust = await fetch(`${url}/stock/adjust`, {
            method: "POST",
            headers: { origin, cookie },
            body: new URLSearchParams({
              _csrf: csrf,
              mode: "add",
              store: "NEPAL-01",
              sku: "MILK-1L",
              quantity: "1",
            }),
            redirect: "manual",
          });
          assert.equal(adjust.status, 403);
          assert.match(await adjust.text(), /needs the manager role/);
          const audit = await fetch(`${url}/audit`, { headers: { cookie } });
          assert.equal(audit.status, 403);
          await audit.body?.cancel();
        });
        await t.step(
          "a form without the session's token is refused",
          async () => {
            const { cookie } = await signIn(url, password);
            const forged = await fetch(`${url}/stock/adjust`, {
              method: "POST",
              headers: { origin, cookie },
              body: new URLSearchParams({
                mode: "add",
                store: "X",
                sku: "Y",
                quantity: "1",
              }),
              redirect: "manual",
            });
            assert.equal(forged.status, 403);
            assert.match(await forged.text(), /The form is stale/);
          },
        );
        await t.step(
          "five wrong passwords, then even the right one waits",
          async () => {
            const attempt = async (secret: string) => {
              const response = await fetch(`${url}/login`, {
                method: "POST",
                headers: { origin },
                body: new URLSearchParams({ name: "ann", password: secret }),
                redirect: "manual",
              });
              await response.body?.cancel();
              return response.status;
            };
            for (let i = 0; i < 5; i++) {
              assert.equal(await attempt("guess"), 401);
            }
            assert.equal(await attempt("ann's long password"), 429);
          },
        );
        await t.step("a new password ends the sessions", async () => {
          const { cookie } = await signIn(url, password);
          const changed = await users(
            ["passwd", "admin"],
            "a new admin password\n",
          );
          assert.equal(changed.code, 0, changed.stderr);
          const after = await fetch(`${url}/stock`, {
            headers: { cookie },
            redirect: "manual",
          });
          await after.body?.cancel();
          assert.equal(after.status, 303);
          assert.match(after.headers.get("location") ?? "", /^\/login/);
        });
        await t.step("the trail says who did what", async () => {
          const { cookie } = await signIn(url, "a new admin password");
          const trail =
            await (await fetch(`${url}/audit`, { headers: { cookie } }))
              .text();
          for (
            const words of [
              /added an account.*ann \(viewer\)/s,
              /failed to sign in.*as &quot;ann&quot;/s,
              /was refused sign-in/,
              /changed a password/,
              /signed in/,
            ]
          ) {
            assert.match(trail, words);
          }
          assert.ok(
            office.lines.some((line) => /admin signed in/.test(line)),
            "in the log too",
          );
        });
      } finally {
        await office.stop();
      }
    });
  },
);

Deno.test(
  "office accounts: behind a trusted proxy, sign-ins are limited and audited by the visitor's address",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox, [
        "--trust-proxy",
        "127.0.0.1",
      ]);
      const { origin } = new URL(url);
      const attempt = async (from: string, name: string, secret: string) => {
        const response = await fetch(`${url}/login`, {
          method: "POST",
          headers: { origin, "x-forwarded-for": from },
          body: new URLSearchParams({ name, password: secret }),
          redirect: "manual",
        });
        await response.body?.cancel();
        return response;
      };
      try {
        // Twenty failures from one visitor, under names of their own.
        for (let i = 0; i < 20; i++) {
          const failed = await attempt("203.0.113.7", `guess${i}`, "wrong");
          assert.equal(failed.status, 401);
        }
        const stopped = await attempt("203.0.113.7", "admin", password);
        assert.equal(stopped.status, 429);
        // Another visitor behind the same proxy is not held up by them.
        const signedIn = await attempt("203.0.113.8", "admin", password);
        assert.equal(signedIn.status, 303);
        const cookie = (signedIn.headers.get("set-cookie") ?? "").split(";")[0];
        const trail = await (await fetch(`${url}/audit`, {
          headers: { cookie },
        })).text();
        assert.match(trail, /203\.0\.113\.7/);
        assert.match(trail, /203\.0\.113\.8/);
      } finally {
        await office.stop();
      }
    });
  },
);

Deno.test(
  "office accounts: forty sign-ins at once are checked in turn, the rest told to wait, within the office's memory",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url } = await startOffice(sandbox);
      const { origin } = new URL(url);
      try {
        const statuses = await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const response = await fetch(`${url}/login`, {
              method: "POST",
              headers: { origin },
              body: new URLSearchParams({ name: `guess${i}`, password: "x" }),
              redirect: "manual",
            });
            await response.body?.cancel();
            return response.status;
          }),
        );
        const checked = statuses.filter((status) => status === 401).length;
        const waiting = statuses.filter((status) => status === 503).length;
        assert.equal(checked + waiting, 40, statuses.join(" "));
        assert.ok(checked >= 1 && checked <= 20, `${checked} checked`);
        // Each check takes 64 MiB: forty at once took 2 GiB.
        const peak = await peakMiB(office.pid);
        console.log(
          `40 sign-ins at once: ${checked} checked, ${waiting} told to wait; office peak RSS ${
            peak.toFixed(1)
          } MiB`,
        );
        assert.ok(peak < 300, `the office peaked at ${peak.toFixed(1)} MiB`);
        // A name of 10,000 characters is said as its first 32.
        const long = await fetch(`${url}/login`, {
          method: "POST",
          headers: { origin },
          body: new URLSearchParams({
            name: "n".repeat(10_000),
            password: "x",
          }),
          redirect: "manual",
        });
        await long.body?.cancel();
        assert.equal(long.status, 401);
        const line = office.lines.find((text) => /as "nnn/.test(text));
        assert.ok(
          line !== undefined && line.length < 200,
          String(line).slice(0, 300),
        );
        assert.match(line, new RegExp(`as "${"n".repeat(32)}…"`));
      } finally {
        await office.stop();
      }
    });
  },
);

Deno.test(
  "office accounts: others' wrong passwords for a name do not keep out a browser it signed in from",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const { office, url, password } = await startOffice(sandbox);
      const { origin } = new URL(url);
      const attempt = async (secret: string, cookie?: string) => {
        const response = await fetch(`${url}/login`, {
          method: "POST",
          headers: { origin, ...(cookie ? { cookie } : {}) },
          body: new URLSearchParams({ name: "admin", password: secret }),
          redirect: "manual",
        });
        await response.body?.cancel();
        return response;
      };
      try {
        const first = await attempt(password);
        assert.equal(first.status, 303);
        const device = first.headers.getSetCookie().find((line) =>
          line.startsWith("office_device=")
        );
        assert.ok(device, first.headers.getSetCookie().join("\n"));
        assert.match(device, /HttpOnly; SameSite=Strict/);
        const remembered = device.split(";")[0];
        // Someone else guesses: the name is closed to new browsers.
        for (let i = 0; i < 5; i++) {
          assert.equal((await attempt("a guess")).status, 401);
        }
        assert.equal((await attempt(password)).status, 429);
        // Its own browser still signs in, and is limited on its own.
        assert.equal((await attempt(password, remembered)).status, 303);
        for (let i = 0; i < 10; i++) {
          assert.equal((await attempt("a slip", remembered)).status, 401);
        }
        assert.equal((await attempt(password, remembered)).status, 429);
      } finally {
        await office.stop();
      }
    });
  },
);
