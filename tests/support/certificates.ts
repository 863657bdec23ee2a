/**
 * Certificates a test makes with openssl in a folder of its own: a CA, a
 * server certificate for `localhost` signed by it, a client certificate,
 * and another CA that signed none of them.
 *
 * @module
 */
import { join } from "node:path";

/** The PEM files of {@linkcode makeCertificates}. */
export interface Certificates {
  /** The CA that signed the server's and the client's certificates. */
  caFile: string;
  /** A CA that signed nothing here: verifying by it fails. */
  otherCaFile: string;
  /** The server's certificate, for DNS name `localhost` only. */
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate signed by the CA. */
  clientCertFile: string;
  clientKeyFile: string;
}

/** Whether openssl is installed. */
export async function hasOpenssl(): Promise<boolean> {
  try {
    return (await new Deno.Command("openssl", { args: ["version"] }).output())
      .success;
  } catch {
    return false;
  }
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  }
}

/** Makes the certificates in `dir`, every file readable by a broker or database running as another user. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  await Deno.mkdir(dir, { recursive: true });
  const ca = (name: string, subject: string) =>
    openssl(dir, [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      subject,
    ]);
  const signed = async (name: string, subject: string, extension?: string) => {
    await openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ]);
    if (extension) {
      await Deno.writeTextFile(join(dir, `${name}.ext`), extension);
    }
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      ...extension ? ["-extfile", `${name}.ext`] : [],
    ]);
  };
  await ca("ca", "/CN=Shop Test CA");
  await ca("other", "/CN=Another CA");
  await signed("server", "/CN=localhost", "subjectAltName=DNS:localhost\n");
  await signed("client", "/CN=shop-client");
  for await (const entry of Deno.readDir(dir)) {
    await Deno.chmod(join(dir, entry.name), 0o644);
  }
  await Deno.chmod(dir, 0o755);
  return {
    caFile: join(dir, "ca.pem"),
    otherCaFile: join(dir, "other.pem"),
    serverCertFile: join(dir, "server.pem"),
    serverKeyFile: join(dir, "server.key"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client.key"),
  };
}
