import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** What `deno info` says of one import of a module. */
interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

/** The modules `root` loads when it starts: static imports of code only. */
async function loadedAtStart(root: URL): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", fileURLToPath(root)],
    stdin: "null",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const graph: {
    modules: { specifier: string; dependencies?: Dependency[] }[];
  } = JSON.parse(new TextDecoder().decode(stdout));
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) {
        visit(dependency.code.specifier);
      }
    }
  };
  visit(root.href);
  return [...loaded];
}

Deno.test("exec_line: starts without any service's code or npm package", async () => {
  const loaded = await loadedAtStart(
    new URL("./exec_line.ts", import.meta.url),
  );
  // A service's code or a package here costs every `deno task <service>`
  // a tenth of a second and more before the service starts.
  assert.deepEqual(
    loaded.filter((specifier) =>
      specifier.startsWith("npm:") || specifier.includes("/services/")
    ),
    [],
  );
});
