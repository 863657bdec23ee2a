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
