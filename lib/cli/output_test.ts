import assert from "node:assert/strict";
import { jsonArrayLines, writeLines } from "./output.ts";

function collect(): {
  output: { writeSync(data: Uint8Array): number };
  text(): string;
  writes: number;
} {
  const parts: Uint8Array[] = [];
  const sink = {
    output: {
      writeSync(data: Uint8Array) {
        parts.push(data.slice());
        return data.byteLength;
      },
    },
    text: () =>
      new TextDecoder().decode(
        new Uint8Array(parts.flatMap((part) => [...part])),
      ),
    get writes() {
      return parts.length;
    },
  };
  return sink;
}

Deno.test("output: lines are written in chunks, a JSON array as it is read", async () => {
  const sink = collect();
  function* many() {
    for (let i = 0; i < 1000; i++) yield `{"n":${i}}`;
  }
  assert.equal(
    await writeLines(jsonArrayLines(many()), {
      chunk: 1024,
      output: sink.output,
    }),
    1002,
  );
  assert.ok(sink.writes < 20, `${sink.writes} writes`);
  const parsed = JSON.parse(sink.text());
  assert.equal(parsed.length, 1000);
  assert.deepEqual(parsed[999], { n: 999 });
  const empty = collect();
  await writeLines(jsonArrayLines([]), { output: empty.output });
  assert.deepEqual(JSON.parse(empty.text()), []);
});
