import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { UsageError } from "../../lib/core/mod.ts";
import { SqliteStore } from "../../lib/store/mod.ts";
import { Accounts, allows } from "./accounts.ts";

async function accounts() {
  return await Accounts.open(new SqliteStore(new DatabaseSync(":memory:")));
}

Deno.test("accounts: sign in with the right password only; a session until it ends", async () => {
  const all = await accounts();
  await all.add("ann", "manager", "a long passphrase");
  assert.equal(await all.signIn("ann", "wrong password"), undefined);
  assert.equal(await all.signIn("bob", "a long passphrase"), undefined);
  const token = await all.signIn("ann", "a long passphrase");
  assert.ok(token);
  const session = await all.session(token);
  assert.equal(session?.name, "ann");
  assert.equal(session?.role, "manager");
  assert.ok(session!.csrf.length >= 32);
  await all.signOut(token);
  assert.equal(await all.session(token), undefined);
});

Deno.test("accounts: a new password ends the sessions; a removed account has none", async () => {
  const all = await accounts();
  await all.add("ann", "viewer", "a long passphrase");
  const token = await all.signIn("ann", "a long passphrase");
  await all.passwd("ann", "another long one");
  assert.equal(await all.session(token), undefined);
  const again = await all.signIn("ann", "another long one");
  await all.remove("ann");
  assert.equal(await all.session(again), undefined);
  assert.deepEqual(await all.list(), []);
});

Deno.test("accounts: names, roles and passwords are checked; stored hashed", async () => {
  const all = await accounts();
  await assert.rejects(
    all.add("Ann Smith", "viewer", "a long passphrase"),
    UsageError,
  );
  await assert.rejects(
    all.add("ann", "owner", "a long passphrase"),
    /Invalid role "owner"/,
  );
  await assert.rejects(
    all.add("ann", "viewer", "short"),
    /at least 10 characters/,
  );
  await all.add("ann", "admin", "a long passphrase");
  await assert.rejects(
    all.add("ann", "admin", "a long passphrase"),
    /has an account already/,
  );
  assert.ok(allows("admin", "manager") && !allows("viewer", "manager"));
});
