import assert from "node:assert/strict";
import { EventStream } from "./event_stream.ts";

Deno.test("event stream: each page gets what is sent after it came, as SSE frames", async () => {
  const stream = new EventStream();
  const first = stream.response([{ event: "hello", data: { n: 1 } }]);
  stream.send("summary", { Sales: 2, Text: "a\nb" });
  const second = stream.response();
  stream.send("feed", "x");
  assert.equal(stream.size, 2);
  stream.close();
  assert.equal(stream.size, 0);
  assert.equal(
    first.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  assert.equal(
    await first.text(),
    'retry: 2000\n\nevent: hello\ndata: {"n":1}\n\n' +
      'event: summary\ndata: {"Sales":2,"Text":"a\\nb"}\n\n' +
      'event: feed\ndata: "x"\n\n',
  );
  assert.equal(
    await second.text(),
    'retry: 2000\n\nevent: feed\ndata: "x"\n\n',
  );
});

Deno.test("event stream: a page that does not read is dropped once its unread bytes pass the bound", async () => {
  const stream = new EventStream({ maxQueuedBytes: 4096 });
  const stalled = stream.response();
  const reading = stream.response();
  const reader = reading.body!.getReader();
  const data = { Text: "x".repeat(500) };
  for (let i = 0; i < 100; i++) {
    stream.send("feed", data);
    await reader.read();
  }
  assert.equal(stream.dropped, 1);
  assert.equal(stream.size, 1, "the reading page stays");
  await assert.rejects(stalled.text(), /fell behind/);
  reader.releaseLock();
  stream.close();
});

Deno.test("event stream: pages beyond the bound are refused with 503", async () => {
  const stream = new EventStream({ maxClients: 2 });
  stream.response();
  stream.response();
  const third = stream.response();
  assert.equal(third.status, 503);
  assert.equal(third.headers.get("retry-after"), "10");
  await third.body?.cancel();
  assert.equal(stream.size, 2);
  stream.close();
});
