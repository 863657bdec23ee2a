/**
 * Each service's permission set, as the launcher derives it, really denies
 * what it does not list.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { permissionFlags as derive } from "../lib/cli/mod.ts";
import {
  invocation,
  type ProgramName,
  PROGRAMS,
  SERVICES,
} from "../tools/launcher.ts";
import { command, projectPath } from "./support/process.ts";
import { withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

/** A program's flags where AMQP_URL, DATA_DIR and CATALOG are as `placement` says. */
function permissionFlags(
  name: ProgramName,
  placement: { url: string; dataDir: string; catalog?: string },
  args: string[] = [],
): string[] {
  return derive(PROGRAMS[name], {
    AMQP_URL: placement.url,
    DATA_DIR: placement.dataDir,
    CATALOG: placement.catalog,
  }, args);
}

Deno.test("permissions: derived from AMQP_URL and DATA_DIR, nothing broad", () => {
  const placement = {
    url:
      "amqp://guest:secret@broker.example:5673/shop,amqps://u:p@node2.example",
    dataDir: "/var/lib/shop",
    catalog: "/etc/shop/catalog.csv",
  };
  const net = "--allow-net=broker.example:5673,node2.example:5671";
  const expected: Record<string, string[]> = {
    pos: [
      "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,DATA_DIR,DATABASE_URL,DATABASE_URL_FILE,HTTP_PORT,HTTP_HOST,RETENTION,MONEY,CATALOG,TILL_ID,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
      "--allow-read=/var/lib/shop/pos,/etc/shop/catalog.csv",
      "--allow-write=/var/lib/shop/pos",
    ],
    billing: [
      "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,DATA_DIR,DATABASE_URL,DATABASE_URL_FILE,PREFETCH,MAX_MESSAGE_BYTES,QUEUE_TYPE,HTTP_PORT,HTTP_HOST,RETENTION,CLOSE_GRACE,GAP_AGE,TAX_RATE,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
      "--allow-read=/var/lib/shop/billing",
      "--allow-write=/var/lib/shop/billing",
    ],
    inventory: [
      "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,DATA_DIR,DATABASE_URL,DATABASE_URL_FILE,PREFETCH,MAX_MESSAGE_BYTES,QUEUE_TYPE,HTTP_PORT,HTTP_HOST,RETENTION,CLOSE_GRACE,GAP_AGE,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
      "--allow-read=/var/lib/shop/inventory",
      "--allow-write=/var/lib/shop/inventory",
    ],
    office: [
      "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,DATA_DIR,DATABASE_URL,DATABASE_URL_FILE,PREFETCH,MAX_MESSAGE_BYTES,QUEUE_TYPE,RETENTION,CLOSE_GRACE,GAP_AGE,MONEY,TIME_ZONE,PORT,CATALOG,PUBLIC_URL,TRUST_PROXY,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
      // Its catalog, for the products' names.
      "--allow-read=/var/lib/shop/office,/etc/shop/catalog.csv",
      "--allow-write=/var/lib/shop/office",
    ],
  };
  for (const service of SERVICES) {
    assert.deepEqual(permissionFlags(service, placement), [
      "--no-prompt",
      // The back office also listens, on its own address only.
      service === "office" ? `${net},127.0.0.1:8000` : net,
      ...expected[service],
    ]);
  }
  // TLS files named by settings are read, and only they.
  assert.ok(
    derive(PROGRAMS.billing, {
      AMQP_URL: "amqps://u:p@node2.example",
      DATA_DIR: placement.dataDir,
      AMQP_CA_FILE: "/etc/shop/ca.pem",
    }).includes("--allow-read=/var/lib/shop/billing,/etc/shop/ca.pem"),
  );
  assert.equal(
    permissionFlags("office", placement, [
      "--port",
      "8080",
      "--host",
      "::1",
    ])[1],
    `${net},[::1]:8080`,
  );
  // A file named on the command line is readable for that run only.
  assert.deepEqual(
    permissionFlags("pos", placement, ["--file", "day.csv"]).at(-2),
    "--allow-read=/var/lib/shop/pos,day.csv,/etc/shop/catalog.csv",
  );
  assert.deepEqual(
    permissionFlags("inventory", placement, ["stock", "load", "open.csv"]).at(
      -2,
    ),
    "--allow-read=/var/lib/shop/inventory,open.csv",
  );
  // The tools reach the broker and nothing else.
  for (const tool of ["errors", "watch"] as const) {
    assert.deepEqual(permissionFlags(tool, placement), [
      "--no-prompt",
      net,
      "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
    ]);
  }
  // Serving /health and /metrics adds its own listen address, no other.
  assert.equal(
    permissionFlags("billing", placement, ["--http-port", "9101"])[1],
    `${net},127.0.0.1:9101`,
  );
  // Status reads the stores and asks the services on HTTP_HOST.
  assert.deepEqual(permissionFlags("status", placement), [
    "--no-prompt",
    `${net},127.0.0.1`,
    "--allow-env=AMQP_URL,AMQP_URL_FILE,AMQP_CA_FILE,AMQP_CERT_FILE,AMQP_KEY_FILE,DATA_DIR,DATABASE_URL,DATABASE_URL_FILE,HTTP_HOST,GAP_AGE,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
    "--allow-read=/var/lib/shop/pos,/var/lib/shop/billing,/var/lib/shop/inventory,/var/lib/shop/office",
  ]);
});

Deno.test(
  "permissions: a service cannot open another host",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      // Allowed: the sandbox's broker as "localhost". Asked for: the same
      // broker as 127.0.0.1, which the permission set does not name.
      const elsewhere = sandbox.url.replace("localhost", "127.0.0.1");
      assert.notEqual(elsewhere, sandbox.url);
      const { args, env } = invocation("billing", sandbox.env);
      const { code, stderr } = await command(Deno.execPath(), args, {
        env: { ...env, AMQP_URL: elsewhere },
      });
      assert.equal(code, 1);
      assert.match(
        stderr,
        /^billing: Cannot connect to "amqp:\/\/guest@127\.0\.0\.1:5672\/shop-test-\w+": not permitted/,
      );
      assert.equal(stderr.trim().split("\n").length, 1, stderr);
    });
  },
);

Deno.test(
  "permissions: a service reaches only its own data",
  processTest,
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "shop-perm-" });
    const probe = join(dataDir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `
const tries = {
  ownWrite: () => Deno.writeTextFileSync(Deno.args[0] + "/billing/own.txt", "x"),
  ownRead: () => Deno.readTextFileSync(Deno.args[0] + "/billing/own.txt"),
  otherService: () => Deno.readDirSync(Deno.args[0] + "/inventory").next(),
  dataRoot: () => Deno.writeTextFileSync(Deno.args[0] + "/loose.txt", "x"),
  project: () => Deno.readTextFileSync(Deno.args[1]),
  etc: () => Deno.readTextFileSync("/etc/passwd"),
  env: () => Deno.env.get("HOME"),
  run: () => new Deno.Command("true").outputSync(),
  net: () => Deno.connect({ hostname: "127.0.0.1", port: 5672 }),
  sys: () => Deno.hostname(),
};
const result = {};
for (const [name, attempt] of Object.entries(tries)) {
  try {
    await attempt();
    result[name] = "allowed";
  } catch (error) {
    result[name] = error instanceof Deno.errors.NotCapable ? "denied" : String(error);
  }
}
console.log(JSON.stringify(result));
`,
    );
    try {
      await Deno.mkdir(join(dataDir, "billing"));
      await Deno.mkdir(join(dataDir, "inventory"));
      const flags = permissionFlags("billing", {
        url: "amqp://guest:guest@localhost:5672",
        dataDir,
      });
      const { code, stdout, stderr } = await command(Deno.execPath(), [
        "run",
        ...flags,
        probe,
        dataDir,
        projectPath("deno.json"),
      ]);
      assert.equal(code, 0, stderr);
      const result = JSON.parse(stdout);
      const expected: Record<string, string> = {
        ownWrite: "allowed",
        ownRead: "allowed",
        otherService: "denied",
        dataRoot: "denied",
        project: "denied",
        etc: "denied",
        env: "denied",
        run: "denied",
        net: "denied",
        sys: "denied",
      };
      for (const [name, outcome] of Object.entries(expected)) {
        await t.step(`${name}: ${outcome}`, () => {
          assert.equal(result[name], outcome);
        });
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test("permissions: --url works and its secret stays off command lines", () => {
  const url = "amqp://shop:s3cret@broker.example:5673/shop";
  const run = invocation("billing", { DATA_DIR: "/srv/shop" }, [
    "--url",
    url,
    "--prefetch=50",
  ]);
  assert.ok(run.args.includes("--allow-net=broker.example:5673"));
  assert.ok(
    !run.args.some((arg) => arg.includes("s3cret")),
    run.args.join(" "),
  );
  assert.equal(run.env.AMQP_URL, url);
  assert.equal(run.env.PREFETCH, "50");
  assert.equal(run.env.DATA_DIR, "/srv/shop");
  // A service runs with a bounded heap; its listings and the tools do not.
  assert.ok(run.args.some((arg) => arg.startsWith("--v8-flags=")));
  for (
    const [name, args] of [
      ["billing", ["invoices"]],
      ["inventory", ["stock"]],
      ["errors", ["list"]],
    ] as const
  ) {
    assert.ok(
      !invocation(name, {}, [...args]).args.some((arg) =>
        arg.startsWith("--v8-flags=")
      ),
      name,
    );
  }
});

Deno.test("permissions: a secret in AMQP_URL_FILE stays in its file, which the service alone reads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "shop-secret-" });
  try {
    const file = join(dir, "billing_amqp_url");
    await Deno.writeTextFile(
      file,
      "amqp://billing:s3cret@broker.example:5673/shop\n",
    );
    const run = invocation("billing", {
      AMQP_URL_FILE: file,
      DATA_DIR: "/srv/shop",
    });
    assert.ok(run.args.includes("--allow-net=broker.example:5673"));
    assert.ok(run.args.includes(`--allow-read=/srv/shop/billing,${file}`));
    assert.equal(run.env.AMQP_URL_FILE, file);
    assert.equal(run.env.AMQP_URL, undefined);
    assert.ok(
      !JSON.stringify(run).includes("s3cret"),
      "the secret is nowhere in the invocation",
    );
    // A flag still wins, and then no file is handed on.
    const flagged = invocation("billing", { AMQP_URL_FILE: file }, [
      "--url",
      "amqp://other@localhost:5672",
    ]);
    assert.equal(flagged.env.AMQP_URL, "amqp://other@localhost:5672");
    assert.equal(flagged.env.AMQP_URL_FILE, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "permissions: deno task billing connects with AMQP_URL_FILE alone",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const file = join(sandbox.dataDir, "billing_amqp_url");
      await Deno.mkdir(sandbox.dataDir, { recursive: true });
      await Deno.writeTextFile(file, `${sandbox.url}\n`, { mode: 0o600 });
      const { AMQP_URL: _, ...env } = sandbox.env;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "billing"],
        // Only the sandbox's settings, and what finds deno and sh.
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          HOME: Deno.env.get("HOME") ?? "",
          ...env,
          AMQP_URL_FILE: file,
        },
        clearEnv: true,
        cwd: projectPath(),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const lines: string[] = [];
      const reader = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      try {
        while (!lines.join("").includes("running on")) {
          const { value, done } = await reader.read();
          if (done) break;
          lines.push(value);
        }
        assert.match(lines.join(""), /billing running on "billing_queue"/);
      } finally {
        try {
          child.kill("SIGINT");
        } catch {
          // Ended already: its status and stderr say why.
        }
        reader.releaseLock();
        await child.stdout.cancel().catch(() => {});
        const { code } = await child.status;
        const stderr = await new Response(child.stderr).text();
        assert.equal(code, 0, stderr);
      }
    });
  },
);
