import assert from "node:assert/strict";
import { UsageError } from "../core/mod.ts";
import { permissionFlags } from "./permissions.ts";
import {
  HelpRequested,
  parseCommandLine,
  type Program,
  withoutSettings,
} from "./program.ts";
import { wholeNumber } from "../config/mod.ts";

const program: Program = {
  name: "demo",
  script: "services/demo.ts",
  settings: ["url", "dataDir", "prefetch"],
  env: ["TAX_RATE"],
  keepsData: true,
  options: { file: { type: "string" }, json: { type: "boolean" } },
  reads: ({ values }) => [values.file as string | undefined],
  help: "Demo.\n\nUsage:\n  demo",
};

const env = (values: Record<string, string>) => (name: string) => values[name];

Deno.test("program: a flag wins over its variable, a variable over the default", () => {
  const none = parseCommandLine(program, [], env({}));
  assert.deepEqual(none.config, {
    url: "amqp://guest:guest@localhost:5672",
    dataDir: "./data",
    prefetch: 200,
    maxMessageBytes: 262144,
    queueType: "classic",
    httpHost: "127.0.0.1",
    retentionMs: 7 * 86_400_000,
    closeGraceMs: 60_000,
    gapAgeMs: 300_000,
    money: { symbol: "Rs", locale: "en-US" },
    timeZone: "UTC",
  });
  const fromEnv = parseCommandLine(
    program,
    [],
    env({ AMQP_URL: "amqp://a", DATA_DIR: "/d", PREFETCH: "5" }),
  );
  assert.deepEqual(fromEnv.config, {
    url: "amqp://a",
    dataDir: "/d",
    prefetch: 5,
    maxMessageBytes: 262144,
    queueType: "classic",
    httpHost: "127.0.0.1",
    retentionMs: 7 * 86_400_000,
    closeGraceMs: 60_000,
    gapAgeMs: 300_000,
    money: { symbol: "Rs", locale: "en-US" },
    timeZone: "UTC",
  });
  const fromFlags = parseCommandLine(
    program,
    ["--url", "amqp://b", "--data-dir=/e", "--prefetch", "7", "x"],
    env({ AMQP_URL: "amqp://a", DATA_DIR: "/d", PREFETCH: "5" }),
  );
  assert.deepEqual(fromFlags.config, {
    url: "amqp://b",
    dataDir: "/e",
    prefetch: 7,
    maxMessageBytes: 262144,
    queueType: "classic",
    httpHost: "127.0.0.1",
    retentionMs: 7 * 86_400_000,
    closeGraceMs: 60_000,
    gapAgeMs: 300_000,
    money: { symbol: "Rs", locale: "en-US" },
    timeZone: "UTC",
  });
  assert.deepEqual(fromFlags.positionals, ["x"]);
});

Deno.test("program: bad flags are usage errors; --help is a request", () => {
  assert.throws(
    () => parseCommandLine(program, ["--nope"], env({})),
    UsageError,
  );
  assert.throws(
    () => parseCommandLine(program, ["--prefetch", "0"], env({})),
    /^UsageError: Invalid prefetch "0": use 1 to 65535$/,
  );
  assert.throws(
    () => parseCommandLine(program, ["--help"], env({})),
    (error: unknown) => {
      assert.ok(error instanceof HelpRequested);
      assert.match(error.text, /^Demo\./);
      assert.match(error.text, /--data-dir <dir>\s+DATA_DIR/);
      return true;
    },
  );
});

Deno.test("program: the settings' flags leave the command line", () => {
  assert.deepEqual(
    withoutSettings(program, [
      "--url",
      "amqp://u:secret@h",
      "--json",
      "--data-dir=/d",
      "--file",
      "x.csv",
      "stock",
    ]),
    ["--json", "--file", "x.csv", "stock"],
  );
});

Deno.test("permissions: derived from the same command line the program reads", () => {
  assert.deepEqual(
    permissionFlags(program, { AMQP_URL: "amqp://a:b@h1:1,amqps://h2" }, [
      "--data-dir",
      "/srv/shop",
      "--file",
      "in.csv",
    ]),
    [
      "--no-prompt",
      "--allow-net=h1:1,h2:5671",
      "--allow-env=AMQP_URL,AMQP_URL_FILE,DATA_DIR,PREFETCH,TAX_RATE,LAUNCHER_PID,SHOP_TOGETHER,LOG_FORMAT",
      "--allow-read=/srv/shop/demo,in.csv",
      "--allow-write=/srv/shop/demo",
    ],
  );
  // Serving /health and /metrics adds that one listen address.
  const serving = { ...program, settings: [...program.settings, "httpPort"] };
  assert.equal(
    permissionFlags(serving as Program, {
      AMQP_URL: "amqp://h1",
      HTTP_PORT: "9101",
    })[1],
    "--allow-net=h1:5672,127.0.0.1:9101",
  );
  // No broker to name: no network at all, rather than every host.
  assert.equal(
    permissionFlags(program, { AMQP_URL: "http://x" }).some((flag) =>
      flag.startsWith("--allow-net")
    ),
    false,
  );
});

Deno.test("wholeNumber: digits only, within bounds, named in the error", () => {
  assert.equal(wholeNumber("count", "42"), 42);
  assert.equal(wholeNumber("quantity", "-3", { min: -5 }), -3);
  for (const text of ["x", "1e3", "-1", "2147483648", "", undefined]) {
    assert.throws(
      () => wholeNumber("count", text),
      new RegExp(`^UsageError: Invalid count "${text ?? ""}"`),
    );
  }
});
