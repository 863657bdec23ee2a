/**
 * The back office of a sandbox, started for a test.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Running } from "./process.ts";
import type { Sandbox } from "./sandbox.ts";

/** The back office of the sandbox on a port of its own; its address. */
export async function startOffice(
  sandbox: Sandbox,
): Promise<{ office: Running; url: string }> {
  const office = new Running("office", sandbox, ["--port", "0"]);
  await office.waitFor(/running on "office_queue"/);
  const line = office.lines.find((text) => text.startsWith("Back office at "));
  assert.ok(line, office.lines.join("\n"));
  return { office, url: line.slice("Back office at ".length) };
}

/** The peak resident memory of process `pid`, in MiB. */
export async function peakMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}
