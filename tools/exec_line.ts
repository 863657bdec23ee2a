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
import { UsageError } from "../lib/core/mod.ts";
import { runMain, shellCommandsOf } from "../lib/cli/mod.ts";
import {
  SERVICE_PROGRAMS,
  type ServiceName,
  SERVICES,
} from "../lib/programs/mod.ts";

function main(): void {
  const [name, ...args] = Deno.args;
  if (!Object.hasOwn(SERVICE_PROGRAMS, name)) {
    throw new UsageError(
      `Unknown service "${name ?? ""}": use one of ${SERVICES.join(", ")}`,
    );
  }
  const declared = SERVICE_PROGRAMS[name as ServiceName];
  console.log(shellCommandsOf(declared, Deno.env.toObject(), args));
}

if (import.meta.main) Deno.exit(await runMain("exec", main));
