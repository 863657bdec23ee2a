/**
 * The back office of a sandbox, started for a test.
 *
 * @module
 */
import assert from "node:assert/strict";
import { firstAdminPassword } from "../../services/office/accounts.ts";
import { Running } from "./process.ts";
import type { Sandbox } from "./sandbox.ts";

/**
 * The back office of the sandbox on a port of its own: its address, and
 * the password of the admin its first start made.
 */
export async function startOffice(
  sandbox: Sandbox,
  args: string[] = [],
): Promise<{ office: Running; url: string; password: string }> {
  const office = new Running("office", sandbox, ["--port", "0", ...args]);
  await office.waitFor(/running on "office_queue"/);
  const line = office.lines.find((text) => text.startsWith("Back office at "));
  assert.ok(line, office.lines.join("\n"));

  return {
    office,
    url: line.slice("Back office at ".length),
    password: firstAdminPassword(office.lines) ?? "",
  };
}

/** A signed-in session of the office at `url`: its cookie and CSRF token. */
export async function signIn(
  url: string,
  password: string,
  name = "admin",
): Promise<{ cookie: string; csrf: string }> {
  const { origin } = new URL(url);
  const response = await fetch(`${url}/login`, {
    method: "POST",
    headers: { origin },
    body: new URLSearchParams({ name, password, next: "/" }),
    redirect: "manual",
  });
  await response.body?.cancel();
  assert.equal(response.status, 303, `sign-in as ${name}`);
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0];
  const page = await fetch(`${url}/stock`, { headers: { cookie } });
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  assert.ok(csrf, "a CSRF token in the forms");
  return { cookie, csrf };
}

/** The peak resident memory of process `pid`, in MiB. */
export async function peakMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}
