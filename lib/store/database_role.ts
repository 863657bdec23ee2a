/**
 * What is unsafe about a database role the services use: one that may use
 * several services' schemas lets a service holding it read the others'.
 *
 * @module
 */
import { PostgresStore } from "./postgres_store.ts";

/**
 * One line for each thing unsafe about the role of `url`, for
 * `deno task status`; none when it cannot be reached (that is said
 * elsewhere).
 *
 * @example
 * ```ts ignore
 * import { unsafeDatabaseRole } from "./database_role.ts";
 *
 * await unsafeDatabaseRole("postgres://postgres@localhost/shop", ["pos", "billing"]);
 * // ['The database role "postgres" is a superuser: …']
 * ```
 */
export async function unsafeDatabaseRole(
  url: string,
  schemas: readonly string[],
): Promise<string[]> {
  let store: PostgresStore | undefined;
  try {
    store = await PostgresStore.open(url, "public");
    const role = await store.get(
      "SELECT current_user AS name, rolsuper AS super FROM pg_roles WHERE rolname = current_user",
    );
    const name = String(role?.name ?? "");
    const advice =
      "deno task database -- setup gives each service a role of its own";
    if (role?.super) {
      return [
        `The database role "${name}" is a superuser: a service holding it may read and change everything; ${advice}`,
      ];
    }
    const usable = (await store.all(
      "SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY(?) AND has_schema_privilege(nspname, 'USAGE') ORDER BY nspname",
      [...schemas],
    )).map((row) => String(row.name));
    return usable.length > 1
      ? [
        `The database role "${name}" may read the schemas of ${
          usable.join(", ")
        }: a service holding it reads the others'; ${advice}`,
      ]
      : [];
  } catch {
    return [];
  } finally {
    await store?.close();
  }
}
