/**
 * The real programs as processes under their real permission sets, their
 * output collected.
 *
 * @module
 */
import { join } from "node:path";
import type { Sandbox } from "./sandbox.ts";
import { Running } from "../../tools/_process.ts";

export { command, Running, runService } from "../../tools/_process.ts";

/**
 * Billing and Inventory of the sandbox, `instances` of each (the Billings
 * first), once all consume.
 */
export async function startConsumers(
  sandbox: Sandbox,
  options: { instances?: number; args?: string[] } = {},
): Promise<Running[]> {
  const { instances = 1, args = [] } = options;
  const running = (["billing", "inventory"] as const).flatMap((name) =>
    Array.from(
      { length: instances },
      () => new Running(name, sandbox, args),
    )
  );
  await Promise.all(running.map((service) => service.waitFor(/running on/)));
  return running;
}

/** A path in the project. */
export function projectPath(...parts: string[]): string {
  return join(new URL("../..", import.meta.url).pathname, ...parts);
}

/**
 * Waits until the lines matching `pattern`, summed over several instances
 * of a service, reach `count`; on a timeout, says what each last printed.
 */
export async function waitForAll(
  instances: Running[],
  pattern: RegExp,
  count: number,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const matched = () =>
    instances.reduce(
      (sum, instance) =>
        sum + instance.lines.filter((line) => pattern.test(line)).length,
      0,
    );
  while (matched() < count) {
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for ${count} x ${pattern} (${matched()}):\n${
          instances.map((instance) =>
            instance.lines.filter((line) => !pattern.test(line)).slice(-6)
              .join("\n")
          ).join("\n--\n")
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
