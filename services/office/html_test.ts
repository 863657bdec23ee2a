import assert from "node:assert/strict";
import { markup } from "./html.ts";

Deno.test("html: values are escaped, markup and lists are kept", () => {
  const name = `<script>alert("x")</script>&'`;
  const row = (text: string) => markup`<li>${text}</li>`;
  assert.equal(
    markup`<p title="${name}">${name}</p><ul>${
      ["a", "<b>"].map(row)
    }</ul>${null}${false}${0}`.text,
    `<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">` +
      `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>` +
      `<ul><li>a</li><li>&lt;b&gt;</li></ul>0`,
  );
});
