/**
 * The services' declarations, by name: what the launcher, `tools/exec_line.ts`
 * and `tools/status.ts` know of the services without loading their code.
 *
 * @module
 */
import { program as billing } from "./billing.ts";
import { program as inventory } from "./inventory.ts";
import { program as office } from "./office.ts";
import { program as pos } from "./pos.ts";

/** Each service's declaration, by its name. */
export const SERVICE_PROGRAMS = { pos, billing, inventory, office } as const;

/** A service's name: its script is `services/<name>.ts`. */
export type ServiceName = keyof typeof SERVICE_PROGRAMS;

/** The services, in the order they are listed and started. */
export const SERVICES = Object.keys(SERVICE_PROGRAMS) as ServiceName[];
