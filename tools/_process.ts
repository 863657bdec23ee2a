/**
 * The real programs as processes under their real permission sets, their
 * output collected: for the tests, and for the tools that run a shop of
 * their own (the screenshot).
 *
 * @module
 */
import type { Sandbox } from "../tests/support/sandbox.ts";
import { invocation, type ProgramName } from "./launcher.ts";

/** Runs a command to its end; its exit code and output. */
export async function command(
  name: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(name, {
    args,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** A service running as its own process, its output collected. */
export class Running {
  readonly #child: Deno.ChildProcess;
  readonly #lines: string[] = [];
  /** When each line came, in milliseconds since the epoch. */
  readonly #times: number[] = [];
  readonly #done: Promise<unknown>;
  #waiters: (() => void)[] = [];

  constructor(service: ProgramName, sandbox: Sandbox, args: string[] = []) {
    const { args: argv, env } = invocation(service, sandbox.env, args);
    this.#child = new Deno.Command(Deno.execPath(), {
      args: argv,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#done = Promise.all([
      this.#collect(this.#child.stdout),
      this.#collect(this.#child.stderr),
    ]);
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      this.#lines.push(...parts);
      const now = Date.now();
      for (const _ of parts) this.#times.push(now);
      for (const wake of this.#waiters.splice(0)) wake();
    }
    if (rest) {
      this.#lines.push(rest);
      this.#times.push(Date.now());
    }
  }

  /** When the first line matching `pattern` came (ms since the epoch), if one did. */
  timeOf(pattern: RegExp): number | undefined {
    const i = this.#lines.findIndex((line) => pattern.test(line));
    return i < 0 ? undefined : this.#times[i];
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Every line printed so far, stdout and stderr. */
  get lines(): string[] {
    return this.#lines;
  }

  /** Waits until `count` printed lines match `pattern`. */
  async waitFor(pattern: RegExp, count = 1, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.filter((line) => pattern.test(line)).length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${count} x ${pattern}; output:\n${
            this.#lines.slice(-20).join("\n")
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** Sends `signal` (SIGTERM: a clean stop) and waits for the exit code. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<number> {
    try {
      this.#child.kill(signal);
    } catch {
      // Exited already.
    }
    return await this.exited();
  }

  /** Waits for the process to end by itself; its exit code. */
  async exited(): Promise<number> {
    const { code } = await this.#child.status;
    await this.#done;
    return code;
  }
}

/** Runs a service to its end, e.g. `pos --count 5` or `billing invoices --json`. */
export async function runService(
  service: ProgramName,
  sandbox: Sandbox,
  args: string[],
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { args: argv, env } = invocation(service, sandbox.env, args);
  return await command(Deno.execPath(), argv, { env, stdin });
}
