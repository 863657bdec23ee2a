import assert from "node:assert/strict";
import { createLog } from "../log/mod.ts";
import { StoreSyncError } from "./wal_sync.ts";
import { whileStoreFails } from "./patient.ts";

function logged() {
  const lines: string[] = [];
  const log = createLog("unit", {
    format: "text",
    write: (_level, text) => lines.push(text.trim()),
  });
  return { log, lines };
}

Deno.test("whileStoreFails: tries again while the store fails, saying so once each way", async () => {
  const { log, lines } = logged();
  let tries = 0;
  const result = await whileStoreFails(() => {
    tries++;
    if (tries < 3) {
      return Promise.reject(new StoreSyncError("the log cannot be synced"));
    }
    return Promise.resolve("done");
  }, {
    log,
    name: "pos",
    waiting: "the sales wait until it works",
    retry: { initial: 1, max: 1 },
  });
  assert.equal(result, "done");
  assert.equal(tries, 3);
  assert.equal(lines.length, 2);
  assert.match(lines[0], /pos: its store is failing .*the sales wait/);
  assert.match(lines[1], /pos: its store works again/);
});

Deno.test("whileStoreFails: any other failure is thrown at once", async () => {
  const { log, lines } = logged();
  let tries = 0;
  await assert.rejects(
    whileStoreFails(() => {
      tries++;
      return Promise.reject(new RangeError("not the store"));
    }, { log, name: "pos", waiting: "-" }),
    RangeError,
  );
  assert.equal(tries, 1);
  assert.deepEqual(lines, []);
});
