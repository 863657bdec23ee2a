/**
 * The shell commands `tools/exec.sh` evaluates to run a service in its own
 * process: the service's settings exported, then `exec` of Deno with the
 * permission flags derived from its command line.
 *
 *     exec_line.ts <pos|billing|inventory|office> [args]
 *
 * Apart from the launcher, and reading only the services' declarations: it
 * runs before every `deno task <service>`, and loading the services' code
 * (amqplib, zod, OpenTelemetry) to read them took most of its time.
 *
 * @module
 */
import { UsageError } from "../lib/errors.ts";
import { shellCommandsOf } from "../lib/invocation.ts";
import { runMain } from "../lib/main.ts";
import { program as billing } from "../lib/programs/billing.ts";
import { program as inventory } from "../lib/programs/inventory.ts";
import { program as office } from "../lib/programs/office.ts";
import { program as pos } from "../lib/programs/pos.ts";

const SERVICES = { pos, billing, inventory, office } as const;

function main(): void {
  const [name, ...args] = Deno.args;
  if (!Object.hasOwn(SERVICES, name)) {
    throw new UsageError(
      `Unknown service "${name ?? ""}": use one of ${
        Object.keys(SERVICES).join(", ")
      }`,
    );
  }
  const declared = SERVICES[name as keyof typeof SERVICES];
  console.log(shellCommandsOf(declared, Deno.env.toObject(), args));
}

if (import.meta.main) Deno.exit(await runMain("exec", main));
