/**
 * `deno task office -- users`: the back office's accounts, from the
 * command line. A password is read without echo from a terminal, or as
 * the first line of standard input otherwise (never from the command line,
 * where every local user could read it). Each change is in the audit trail.
 *
 *     deno task office -- users add NAME --role viewer|manager|admin
 *     deno task office -- users list
 *     deno task office -- users passwd NAME
 *     deno task office -- users remove NAME
 *
 * @module
 */
import { type CommandLine } from "../lib/cli/mod.ts";
import { UsageError } from "../lib/core/mod.ts";
import { openStore } from "../lib/store/mod.ts";
import { Accounts } from "../services/office/accounts.ts";

/** A password typed at a terminal without echo, or the first line of stdin. */
async function readPassword(prompt: string): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    const text = await new Response(Deno.stdin.readable).text();
    return text.split(/\r?\n/)[0];
  }
  const encoder = new TextEncoder();
  await Deno.stdout.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const typed: number[] = [];
  try {
    const buffer = new Uint8Array(1);
    while (await Deno.stdin.read(buffer) === 1) {
      const [byte] = buffer;
      if (byte === 13 || byte === 10) break;
      if (byte === 3) throw new UsageError("Cancelled");
      if (byte === 127 || byte === 8) typed.pop();
      else typed.push(byte);
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stdout.write(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(typed));
}

/**
 * Runs `users <add|list|passwd|remove>` of the office's command line.
 *
 * @throws {UsageError} for an unknown action, a missing name, or what the
 * accounts refuse.
 */
export async function usersCommand(
  { values, config }: CommandLine,
  [action = "list", name, ...rest]: string[],
): Promise<void> {
  if (rest.length > 0) {
    throw new UsageError(`Unknown argument "${rest[0]}": see --help`);
  }
  const store = await openStore({ name: "office", ...config });
  try {
    const accounts = await Accounts.open(store);
    const audit = (what: string, detail: string) =>
      accounts.audit({
        Who: "command line",
        Action: what,
        Detail: detail,
        From: "-",
      });
    const needName = () => {
      if (!name) throw new UsageError(`users ${action} needs a name`);
      return name;
    };
    if (action === "list") {
      for (const account of await accounts.list()) {
        console.log(
          `${account.name.padEnd(24)} ${
            account.role.padEnd(8)
          } since ${account.created}`,
        );
      }
    } else if (action === "add") {
      const role = String(values.role ?? "");
      const who = needName();
      await accounts.add(who, role, await readPassword("Password: "));
      await audit("added an account", `${who} (${role})`);
      console.log(`Added ${who} (${role}).`);
    } else if (action === "passwd") {
      const who = needName();
      await accounts.passwd(who, await readPassword("New password: "));
      await audit("changed a password", who);
      console.log(`Changed the password of ${who}; its sessions are ended.`);
    } else if (action === "remove") {
      const who = needName();
      await accounts.remove(who);
      await audit("removed an account", who);
      console.log(`Removed ${who}.`);
    } else {
      throw new UsageError(
        `Unknown users action "${action}": use add, list, passwd or remove`,
      );
    }
  } finally {
    await store.close();
  }
}
