/**
 * TLS to the broker and to PostgreSQL, against a node and a cluster of the
 * test's own with certificates the test makes: verified, or one clear line
 * and exit 1, never a plain connection instead.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OwnBroker } from "./support/faults.ts";
import { hasOpenssl, makeCertificates } from "./support/certificates.ts";
import { ownPostgresMissing, withOwnPostgres } from "./support/postgres.ts";
import { Running, runService } from "./support/process.ts";
import { processTest } from "./support/options.ts";
import { withSandbox } from "./support/sandbox.ts";

const canRun = await OwnBroker.available() && await hasOpenssl();

/** The lines a failed run printed: exactly one, naming the failure. */
function oneLine(output: { stdout: string; stderr: string }): string {
  const lines = (output.stdout + output.stderr).trim().split("\n");
  assert.equal(lines.length, 1, lines.join("\n"));
  return lines[0];
}

Deno.test({
  name:
    "tls: amqps:// verified against AMQP_CA_FILE with a client certificate; a wrong CA, host name or missing certificate is one line and exit 1",
  ...processTest,
  ignore: !canRun,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "shop-test-" });
    // The node runs as the rabbitmq user: it reads the certificates here.
    await Deno.chmod(dir, 0o755);
    const certs = await makeCertificates(join(dir, "certs"));
    const node = await OwnBroker.start(
      ["ssl_options.fail_if_no_peer_cert = true"],
      {
        tls: {
          caFile: certs.caFile,
          certFile: certs.serverCertFile,
          keyFile: certs.serverKeyFile,
        },
      },
    ).catch(async (error) => {
      await Deno.remove(dir, { recursive: true });
      throw error;
    });
    const env = (host: string, extra: Record<string, string> = {}) => ({
      AMQP_URL: `amqps://guest:guest@${host}:${node.tlsPort}`,
      DATA_DIR: dir,
      AMQP_CA_FILE: certs.caFile,
      AMQP_CERT_FILE: certs.clientCertFile,
      AMQP_KEY_FILE: certs.clientKeyFile,
      ...extra,
    });
    const sandbox = (values: Record<string, string>) => ({
      url: values.AMQP_URL,
      dataDir: dir,
      env: values,
    });
    try {
      const billing = new Running("billing", sandbox(env("localhost")));
      try {
        await billing.waitFor(/running on/);
        const sold = await runService("pos", sandbox(env("localhost")), [
          "--items",
          "MILK-1L:1",
        ]);
        assert.equal(sold.code, 0, sold.stderr);
        await billing.waitFor(/Generating invoice for Sale #10000/);
      } finally {
        await billing.stop();
      }

      const refused: [string, Record<string, string>, RegExp][] = [
        [
          "a CA that did not sign it",
          env("localhost", {
            AMQP_CA_FILE: certs.otherCaFile,
          }),
          /certificate/i,
        ],
        [
          "another host name",
          env("127.0.0.1"),
          /does not match|NotValidForName/i,
        ],
      ];
      for (const [what, values, words] of refused) {
        const output = await runService("pos", sandbox(values), [
          "--items",
          "MILK-1L:1",
        ]);
        assert.equal(output.code, 1, `${what}: ${output.stderr}`);
        assert.match(oneLine(output), words, what);
        assert.match(oneLine(output), /^pos: Cannot connect to "amqps:/, what);
      }
      // Without a client certificate the broker refuses the handshake.
      const { AMQP_CERT_FILE: _, AMQP_KEY_FILE: __, ...withoutCert } = env(
        "localhost",
      );
      const anonymous = await runService("pos", sandbox(withoutCert), [
        "--items",
        "MILK-1L:1",
      ]);
      assert.equal(anonymous.code, 1, anonymous.stderr);
      assert.match(oneLine(anonymous), /^pos: Cannot connect to "amqps:/);
      // A CA file with a plain URL is a mistake, not a silent plain connection.
      const plain = await runService(
        "pos",
        sandbox(env("localhost", {
          AMQP_URL: `amqp://guest:guest@localhost:${node.port}`,
        })),
        ["--items", "MILK-1L:1"],
      );
      assert.equal(plain.code, 2, plain.stderr);
      assert.match(oneLine(plain), /plain amqp:\/\/ broker: use amqps:\/\//);
    } finally {
      await node.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const pgMissing = ownPostgresMissing();

Deno.test({
  name:
    "tls: PostgreSQL with sslmode=verify-full and sslrootcert; a wrong CA or host name is one line and exit 1; an unknown sslmode exit 2",
  ...processTest,
  ignore: pgMissing !== undefined || !(await hasOpenssl()),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "shop-test-" });
    try {
      const certs = await makeCertificates(join(dir, "certs"));
      await withOwnPostgres(async (server) => {
        const port = new URL(server.url).port;
        const url = (host: string, ca: string, mode = "verify-full") =>
          `postgres://postgres@${host}:${port}/postgres?sslmode=${mode}&sslrootcert=${ca}`;
        await withSandbox(async (shared) => {
          const sandbox = (databaseUrl: string) => ({
            ...shared,
            env: { ...shared.env, DATABASE_URL: databaseUrl },
          });
          const verified = sandbox(url("localhost", certs.caFile));
          const billing = new Running("billing", verified);
          try {
            await billing.waitFor(/running on/);
            assert.ok(
              billing.lines.some((line) =>
                line.includes("postgres://postgres@localhost")
              ),
            );
          } finally {
            await billing.stop();
          }
          const listed = await runService("billing", verified, [
            "invoices",
            "--json",
          ]);
          assert.equal(listed.code, 0, listed.stderr);

          const refused: [string, string, RegExp][] = [
            [
              "a CA that did not sign it",
              url("localhost", certs.otherCaFile),
              /certificate/i,
            ],
            [
              "another host name",
              url("127.0.0.1", certs.caFile),
              /does not match|NotValidForName|altnames/i,
            ],
          ];
          for (const [what, databaseUrl, words] of refused) {
            const output = await runService("billing", sandbox(databaseUrl), [
              "invoices",
            ]);
            assert.equal(output.code, 1, `${what}: ${output.stderr}`);
            assert.match(oneLine(output), words, what);
          }
          const unknown = await runService(
            "billing",
            sandbox(url("localhost", certs.caFile, "prefer")),
            ["invoices"],
          );
          assert.equal(unknown.code, 2, unknown.stderr);
          assert.match(oneLine(unknown), /Invalid sslmode "prefer"/);
        });
      }, {
        ssl: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
