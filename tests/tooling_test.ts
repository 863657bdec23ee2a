/**
 * What a user meets first: help, configuration errors, `deno task start`,
 * compose.yaml and the compiled binaries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SERVICES } from "../tools/launcher.ts";
import {
  command,
  projectPath,
  Running,
  runService,
} from "./support/process.ts";
import { type Sandbox, withSandbox } from "./support/sandbox.ts";
import { processTest } from "./support/options.ts";

Deno.test("cli: --help on every service", async () => {
  const sandbox: Sandbox = {
    url: "amqp://guest:guest@localhost:5672",
    dataDir: "/nonexistent",
    env: {},
  };
  for (const service of SERVICES) {
    const { code, stdout } = await runService(service, sandbox, ["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /Usage:/);
    assert.match(stdout, /AMQP_URL/);
    assert.match(stdout, /DATA_DIR/);
    // Only the consumers take deliveries, so only they list PREFETCH.
    if (service === "pos") assert.doesNotMatch(stdout, /PREFETCH/);
    else assert.match(stdout, /PREFETCH/);
  }
});

Deno.test(
  "cli: broker and flag errors are one clear line",
  processTest,
  async (t) => {
    const dataDir = await Deno.makeTempDir({ prefix: "shop-cli-" });
    const run = (
      service: "pos" | "billing",
      url: string,
      args: string[] = [],
    ) =>
      runService(service, {
        url,
        dataDir,
        env: { AMQP_URL: url, DATA_DIR: dataDir },
      }, args);
    try {
      await t.step(
        "unreachable brokers: one line per try, then again",
        async () => {
          const url =
            "amqp://guest:hunter2@localhost:5998,amqp://guest:hunter2@localhost:5999";
          const billing = new Running("billing", {
            url,
            dataDir,
            env: { AMQP_URL: url, DATA_DIR: dataDir },
          });
          // Each try starts from the next broker of the list.
          const refused = (port: number) =>
            `Cannot connect to "amqp:\\/\\/guest@localhost:${port}": connection refused \\(is the broker running\\?\\)`;
          const line = new RegExp(
            `^billing: (${refused(5998)}; ${refused(5999)}|${refused(5999)}; ${
              refused(5998)
            }); trying again in \\d+\\.\\d s$`,
          );
          await billing.waitFor(line, 2);
          assert.match(
            billing.lines[1],
            new RegExp(`^billing: ${refused(5999)}`),
          );
          assert.equal(await billing.stop(), 0);
          const [last, ...tries] = [...billing.lines].reverse();
          assert.ok(
            tries.every((printed) => line.test(printed)),
            billing.lines.join("\n"),
          );
          assert.match(
            last,
            /^billing stopped: 0 handled, 0 set aside, up \d+\.\d s\.$/,
          );
          assert.doesNotMatch(billing.lines.join("\n"), /hunter2/);
        },
      );
      await t.step("refused credentials", async () => {
        const { code, stderr } = await run(
          "pos",
          "amqp://guest:wrong@localhost:5672",
          ["--count", "1"],
        );
        assert.equal(code, 1);
        assert.match(
          stderr,
          /^pos: Cannot connect to "amqp:\/\/guest@localhost:5672": access refused: check the user name and password\n/,
        );
        assert.doesNotMatch(stderr, /wrong|at .*\.ts/);
      });
      await t.step("bad flags", async () => {
        const url = "amqp://guest:guest@localhost:5672";
        for (
          const [service, args, pattern] of [
            ["pos", ["--count=-3"], /^pos: Invalid count "-3"/],
            ["pos", ["--count", "x"], /^pos: Invalid count "x"/],
            ["pos", ["--rate", "5"], /^pos: --rate goes with --count/],
            ["billing", ["--prefetch", "0"], /^billing: Invalid prefetch "0"/],
            [
              "billing",
              ["--bogus"],
              /^billing: Unknown option --bogus: billing takes --url, .*--help, --version$/m,
            ],
            [
              "pos",
              ["--count", "-1"],
              /^pos: --count takes <n>, and what follows it looks like an option: write --count=<value> to give one that starts with -$/m,
            ],
            [
              "pos",
              ["--count"],
              /^pos: --count takes <n>, and none was given$/m,
            ],
            [
              "pos",
              ["--quiet=yes"],
              /^pos: --quiet takes no value: give it alone$/m,
            ],
            [
              "pos",
              ["--simulate"],
              /^pos: Unknown option --simulate: pos takes /,
            ],
          ] as const
        ) {
          const { code, stderr } = await run(service, url, [...args]);
          assert.equal(code, 2, stderr);
          assert.match(stderr, pattern);
          assert.equal(stderr.trim().split("\n").length, 1, stderr);
        }
        // Another kind of CSV is said once, with the header it should have.
        const catalog = await run("pos", url, [
          "--file",
          projectPath("contracts", "catalog.csv"),
        ]);
        assert.equal(catalog.code, 1);
        assert.match(
          catalog.stderr,
          /^pos: \S+catalog\.csv is not a sales file: its header is "sku,name,unit_price,currency", a sales file's is "receipt,sku,quantity\[,store\]"\n$/,
        );
      });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
);

Deno.test(
  "start: all four in one terminal, prefixed",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "start"],
        cwd: projectPath(),
        // The back office on a free port: 8000 may be taken here.
        env: { ...sandbox.env, PORT: "0" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      let output = "";
      const reading = (async () => {
        for await (
          const text of child.stdout.pipeThrough(new TextDecoderStream())
        ) output += text;
      })();
      const deadline = Date.now() + 30_000;
      const waitFor = async (pattern: RegExp) => {
        while (!pattern.test(output)) {
          assert.ok(Date.now() < deadline, `No ${pattern} in:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      // Each says when it is ready: what it consumes or sends, and where.
      await waitFor(
        /\[billing {2}\] billing running on "billing_queue" \(sale\.created from sales_exchange\) and "billing_close_queue" \(till\.closed from sales_exchange\) at [\d.:]+ \(vhost shop-test-\w+\), RabbitMQ \d/,
      );
      await waitFor(/\[inventory\] inventory running on "inventory_queue"/);
      await waitFor(
        /\[office {3}\] Back office at http:\/\/127\.0\.0\.1:\d+\n/,
      );
      await waitFor(/\[office {3}\] office running on "office_queue"/);
      await waitFor(/\[pos {6}\] Press a to add new item/);
      await writer.write(new TextEncoder().encode("a\n"));
      await waitFor(/\[pos {6}\] .*Sent SaleEvent #10000\./);
      await waitFor(
        /\[billing {2}\] Generating invoice for Sale #10000 - Total: Rs\.\d+\.\d+/,
      );
      await waitFor(
        /\[inventory\] Inventory update for Sale #10000, Items: \d+/,
      );
      await writer.write(new TextEncoder().encode("q\n"));
      await writer.close();
      const { code } = await child.status;
      await reading;
      await child.stderr.cancel();
      assert.equal(code, 0, output);
      // And when it stops, with what it did.
      assert.match(output, /\[pos {6}\] pos running as till-\w+ of NEPAL-01/);
      assert.match(
        output,
        /\[pos {6}\] pos stopped: 1 sale\(s\) rung up, 1 message\(s\) confirmed by the broker, up \d+\.\d s\./,
      );
      assert.match(
        output,
        /\[billing {2}\] billing stopped: 1 handled, 0 set aside, up \d+\.\d s\./,
      );
      assert.match(
        output,
        /\[inventory\] inventory stopped: 1 handled, 0 set aside/,
      );
      // The opening stock, the sale, its invoice and its stock change.
      assert.match(
        output,
        /\[office {3}\] office stopped: \d+ handled, 0 set aside/,
      );
      // The demo starts stocked: the first sale takes nothing below zero.
      assert.match(
        output,
        /Loaded the opening stock: \d+ SKU\(s\) in \d+ store\(s\)\./,
      );
      assert.doesNotMatch(output, /below zero/);
      // One instruction for the whole shop: the till's.
      assert.doesNotMatch(output, /Press Ctrl\+C/);
    });
  },
);

Deno.test(
  "deno task billing: the service is the task's own child, and stops on its SIGTERM",
  processTest,
  async () => {
    await withSandbox(async (sandbox) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "billing", "--", "--tax-rate", "0.13"],
        cwd: projectPath(),
        env: sandbox.env,
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      let output = "";
      const reading = (async () => {
        for await (
          const text of child.stdout.pipeThrough(new TextDecoderStream())
        ) output += text;
      })();
      const deadline = Date.now() + 30_000;
      while (!/running on "billing_queue"/.test(output)) {
        assert.ok(Date.now() < deadline, output);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // One process under the task: Deno running the service itself.
      const children = await command("sh", [
        "-c",
        `cat /proc/${child.pid}/task/*/children`,
      ]);
      const pids = children.stdout.trim().split(/\s+/);
      assert.equal(pids.length, 1, children.stdout);
      const cmdline = await command("sh", [
        "-c",
        `tr '\\0' ' ' < /proc/${pids[0]}/cmdline`,
      ]);
      assert.match(
        cmdline.stdout,
        /--no-prompt .*services\/billing\.ts --tax-rate 0\.13\s*$/,
      );
      child.kill("SIGTERM");
      const { code } = await child.status;
      await reading;
      assert.equal(code, 0, output);
      assert.match(output, /billing stopped: 0 handled, 0 set aside/);
    });
  },
);

Deno.test("compose.yaml validates against the Compose Specification and is safe by default", async () => {
  const schema = projectPath("tests", "compose_spec", "compose-spec.json");
  const script = `
import json, sys, yaml, jsonschema
doc = yaml.safe_load(open(sys.argv[1]))
jsonschema.validate(doc, json.load(open(sys.argv[2])), cls=jsonschema.Draft7Validator)
rabbit = doc["services"]["rabbitmq"]
assert "management" in rabbit["image"], rabbit["image"]
assert {"127.0.0.1:5672:5672", "127.0.0.1:15672:15672"} <= set(rabbit["ports"]), rabbit["ports"]
assert rabbit["healthcheck"]["test"], "no healthcheck"
limits = doc["configs"][rabbit["configs"][0]["source"]]["content"]
assert "max_message_size = 1048576" in limits, limits
assert rabbit["configs"][0]["target"].startswith("/etc/rabbitmq/conf.d/"), rabbit
services = doc["services"]
# Safe by default: every port on loopback, every secret from .env, no guest.
for name, service in services.items():
    for port in service.get("ports", []):
        assert port.startswith("127.0.0.1:"), (name, port)
text = open(sys.argv[1]).read()
assert "guest" not in text.replace("no guest", ""), "guest in compose.yaml"
assert "loopback_users" not in text
for variable in ["RABBITMQ_ADMIN_PASSWORD", "RABBITMQ_ERLANG_COOKIE", "POSTGRES_PASSWORD"]:
    assert "$" + "{" + variable + ":?" in text, variable
    assert variable + "=" in open(sys.argv[4]).read(), variable
assert rabbit["environment"]["RABBITMQ_DEFAULT_PASS"].startswith("$" + "{RABBITMQ_ADMIN_PASSWORD:?")
assert doc["configs"]["erlang-cookie"]["content"].startswith("$" + "{RABBITMQ_ERLANG_COOKIE:?")
for node in ["rmq1", "rmq2", "rmq3"]:
    assert services[node]["profiles"] == ["cluster"], node
    assert services[node]["healthcheck"]["test"], node
assert services["postgres"]["healthcheck"]["test"], "postgres"
setup = services["setup"]
assert "broker setup" in " ".join(setup["entrypoint"]) and "database setup" in " ".join(setup["entrypoint"])
assert all(dep["condition"] == "service_healthy" for dep in setup["depends_on"].values())
for name in ["billing", "inventory", "office", "pos"]:
    service = services[name]
    assert service["build"] == ".", name
    env = service["environment"]
    # Each service on its own user and role, read from the setup's files.
    assert env["AMQP_URL_FILE"] == f"/run/shop/{name}.url", name
    assert env["DATABASE_URL_FILE"] == f"/run/shop/{name}.database.url", name
    assert "AMQP_URL" not in env and "DATABASE_URL" not in env, name
    if name != "pos":
        assert env["QUEUE_TYPE"] == "quorum", name
    assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully", name
assert services["billing"]["deploy"]["replicas"] == 2
office = services["office"]
assert office["command"] == ["office", "--host", "0.0.0.0"], office["command"]
assert "127.0.0.1:8000:8000" in office["ports"], office["ports"]
assert "classic_config" in doc["configs"]["rabbitmq-cluster"]["content"]
dockerfile = open(sys.argv[3]).read()
assert dockerfile.startswith("# ") and "FROM denoland/deno:2.9.6" in dockerfile, dockerfile
print("valid")
`;
  const { code, stdout, stderr } = await command("/usr/bin/python3", [
    "-c",
    script,
    projectPath("compose.yaml"),
    schema,
    projectPath("Dockerfile"),
    projectPath(".env.example"),
  ]);
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), "valid");
});

/** Whether `deno compile` can get its runtime here (it downloads it once). */
async function compileUnavailable(): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "shop-compile-" });
  try {
    await Deno.writeTextFile(join(dir, "hello.ts"), "console.log('hi');\n");
    const { code, stderr } = await command(Deno.execPath(), [
      "compile",
      "--output",
      join(dir, "hello"),
      join(dir, "hello.ts"),
    ]);
    if (code === 0) return undefined;
    return /denort|download|dns error/i.test(stderr)
      ? "deno compile cannot download its denort runtime on this machine"
      : undefined;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const noCompile = await compileUnavailable();

Deno.test({
  name: `compile: the binaries run with their permissions${
    noCompile ? ` (skipped: ${noCompile})` : ""
  }`,
  ignore: noCompile !== undefined,
  ...processTest,
  fn: async () => {
    const { code, stderr } = await command(
      Deno.execPath(),
      ["task", "compile"],
      {
        env: {},
      },
    );
    assert.equal(code, 0, stderr);
    for (const service of SERVICES) {
      const binary = projectPath("dist", service);
      const help = await command(binary, ["--help"]);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /Usage:/);
    }
    // The baked-in permissions: localhost:5672 only.
    const denied = await command(projectPath("dist", "billing"), [], {
      env: { AMQP_URL: "amqp://guest:guest@127.0.0.1:5672" },
    });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /not permitted/);
  },
});

Deno.test({
  name:
    "compile: where Deno's runtime cannot be had, one line says so and nothing is left half-made",
  ignore: noCompile === undefined,
  ...processTest,
  fn: async () => {
    const before = await Deno.stat(projectPath("dist")).then(
      () => true,
      () => false,
    );
    const { code, stdout, stderr } = await command(
      Deno.execPath(),
      ["task", "--quiet", "compile"],
      { env: {} },
    );
    assert.equal(code, 1, stderr);
    // Said before trying: what it fetches, and how not to.
    assert.match(stdout, /Deno fetches its denort runtime once .*DENORT_BIN/);
    const lines = stderr.trim().split("\n");
    assert.equal(lines.length, 1, stderr);
    assert.match(
      lines[0],
      /^compile: could not get Deno's denort runtime \(.+\); set DENORT_BIN .* Nothing was written to dist\/\.$/,
    );
    assert.doesNotMatch(stderr, /backtrace|Caused by/);
    if (!before) {
      await assert.rejects(Deno.stat(projectPath("dist")));
    }
    await assert.rejects(Deno.stat(projectPath(".dist-build")));
  },
});
