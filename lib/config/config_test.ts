import assert from "node:assert/strict";
import { UsageError } from "../core/mod.ts";
import { resolveConfig } from "./config.ts";

const files: Record<string, string> = {
  "/run/secrets/url": "amqp://u:p@broker:5672/shop\nignored\n",
};
const readFile = (path: string) => {
  if (!(path in files)) throw new Deno.errors.NotFound("No such file");
  return files[path];
};

Deno.test("resolveConfig: a flag, then the variable, then its file, then the default", () => {
  const env = (values: Record<string, string>) => (name: string) =>
    values[name];
  assert.equal(
    resolveConfig({}, env({ AMQP_URL_FILE: "/run/secrets/url" }), readFile)
      .url,
    "amqp://u:p@broker:5672/shop",
  );
  assert.equal(
    resolveConfig(
      {},
      env({ AMQP_URL: "amqp://a@b", AMQP_URL_FILE: "/run/secrets/url" }),
      readFile,
    ).url,
    "amqp://a@b",
  );
  assert.equal(
    resolveConfig(
      { url: "amqp://flag@c" },
      env({ AMQP_URL_FILE: "/run/secrets/url" }),
      readFile,
    ).url,
    "amqp://flag@c",
  );
  assert.equal(
    resolveConfig({}, env({}), readFile).url,
    "amqp://guest:guest@localhost:5672",
  );
});

Deno.test("resolveConfig: a file that cannot be read is one line naming it", () => {
  assert.throws(
    () =>
      resolveConfig(
        {},
        (name) =>
          name === "DATABASE_URL_FILE" ? "/run/secrets/none" : undefined,
        readFile,
      ),
    (error) =>
      error instanceof UsageError &&
      /^Cannot read DATABASE_URL_FILE "\/run\/secrets\/none": /.test(
        error.message,
      ),
  );
});
