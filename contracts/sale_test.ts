import assert from "node:assert/strict";
import {
  code,
  ContractError,
  Decimal,
  decodeSale,
  encodeSale,
  type SaleDetails,
} from "./sale.ts";
import { decimal, decode } from "./codec.ts";
import { z } from "zod";
import { DOTNET_MESSAGE } from "./_fixtures.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array) => new TextDecoder().decode(body);

function sale(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...JSON.parse(DOTNET_MESSAGE), ...overrides });
}

Deno.test("contract: the .NET message", async (t) => {
  await t.step("is read with every field, decimal scale kept", () => {
    const read = decodeSale(bytes(DOTNET_MESSAGE));
    assert.equal(read.SaleId, 10001);
    assert.equal(read.StoreId, "NEPAL-01");
    assert.deepEqual(read.Items, [
      { Sku: "MILK001", Quantity: 5 },
      { Sku: "BREAD001", Quantity: 5 },
    ]);
    assert.equal(read.Timestamp, "2026-11-27T10:46:12.1234567Z");
    assert.equal(read.TotalAmount.toString(), "10.0");
  });

  await t.step("round-trips byte for byte", () => {
    assert.equal(
      text(encodeSale(decodeSale(bytes(DOTNET_MESSAGE)))),
      DOTNET_MESSAGE,
    );
  });

  await t.step("ignores unknown properties, as .NET readers do", () => {
    const read = decodeSale(
      bytes(DOTNET_MESSAGE.replace("{", '{"Cashier":"Asha","Extra":{"x":1},')),
    );
    assert.equal(read.SaleId, 10001);
    assert.equal("Cashier" in read, false);
  });

  await t.step("accepts every DateTime form .NET writes", () => {
    for (
      const timestamp of [
        "2026-11-27T10:46:12.1234567Z",
        "2026-11-27T10:46:12.5Z",
        "2026-11-27T10:46:12Z",
        "2026-11-27T16:31:12.1234567+05:45",
        "2026-11-27T10:46:12.1234567",
      ]
    ) {
      assert.equal(
        decodeSale(bytes(sale({ Timestamp: timestamp }))).Timestamp,
        timestamp,
      );
    }
  });
});

Deno.test("contract: what we send is what .NET reads", () => {
  const ours: SaleDetails = {
    SaleId: 2147483647,
    StoreId: "NEPAL-01",
    Items: [{ Sku: "MILK001", Quantity: 1 }],
    Timestamp: new Date(0).toISOString(),
    TotalAmount: Decimal.parse("10.50"),
  };
  const json = text(encodeSale(ours));
  assert.equal(
    json,
    '{"SaleId":2147483647,"StoreId":"NEPAL-01","Items":[{"Sku":"MILK001","Quantity":1}],"Timestamp":"1970-01-01T00:00:00.000Z","TotalAmount":10.50}',
  );
  // PascalCase keys, numbers for int and decimal: what System.Text.Json binds.
  const plain = JSON.parse(json);
  assert.equal(typeof plain.SaleId, "number");
  assert.equal(typeof plain.TotalAmount, "number");
  assert.equal(typeof plain.Items[0].Quantity, "number");
});

Deno.test("contract: invalid messages are refused with one line", async (t) => {
  const cases: [string, string | Uint8Array, RegExp][] = [
    ["not JSON", "hello", /not UTF-8 JSON/],
    ["not UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), /not UTF-8 JSON/],
    ["an int as a string", sale({ SaleId: "5" }), /SaleId: .*expected number/],
    ["an id beyond 32 bits", sale({ SaleId: 2147483648 }), /SaleId/],
    ["a fractional id", sale({ SaleId: 1.5 }), /SaleId/],
    [
      "a zero quantity",
      sale({ Items: [{ Sku: "A", Quantity: 0 }] }),
      /Items\.0\.Quantity/,
    ],
    [
      "a negative quantity",
      sale({ Items: [{ Sku: "A", Quantity: -5 }] }),
      /Items\.0\.Quantity/,
    ],
    ["no items", sale({ Items: [] }), /Items/],
    [
      "an empty SKU",
      sale({ Items: [{ Sku: " ", Quantity: 1 }] }),
      /Items\.0\.Sku/,
    ],
    ["a long store id", sale({ StoreId: "S".repeat(65) }), /StoreId/],
    ["a missing field", sale({ StoreId: undefined }), /StoreId/],
    ["a camelCase message", JSON.stringify({ saleId: 1 }), /SaleId/],
    ["a bad timestamp", sale({ Timestamp: "yesterday" }), /Timestamp/],
    ["a date without time", sale({ Timestamp: "2026-11-27" }), /Timestamp/],
    [
      "a decimal as a string",
      sale({ TotalAmount: "10.0" }),
      /TotalAmount: expected a JSON number/,
    ],
    [
      "a negative total",
      sale({ TotalAmount: -1 }),
      /TotalAmount: must not be negative/,
    ],
    [
      "a total beyond decimal",
      sale({ TotalAmount: 1e30 }),
      /TotalAmount: .*does not fit/,
    ],
    ["a JSON array", "[]", /expected object/],
  ];
  for (const [name, body, reason] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => decodeSale(typeof body === "string" ? bytes(body) : body),
        (error: unknown) => {
          assert.ok(error instanceof ContractError);
          assert.match(error.message, reason);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    });
  }
});

Deno.test("contract: an invalid sale is not sent", () => {
  assert.throws(
    () =>
      encodeSale({
        ...decodeSale(bytes(DOTNET_MESSAGE)),
        Items: [{ Sku: "MILK001", Quantity: -1 }],
      }),
    ContractError,
  );
});

Deno.test("contract: a priced sale stays readable by .NET", () => {
  const priced = DOTNET_MESSAGE.replace(
    '{"Sku":"MILK001","Quantity":5}',
    '{"Sku":"MILK001","Quantity":5,"UnitPrice":1.10}',
  );
  const read = decodeSale(bytes(priced));
  assert.equal(read.Items[0].UnitPrice?.toString(), "1.10");
  assert.equal(read.Items[1].UnitPrice, undefined);
  // Written back with the same digits; the unpriced item gains no key.
  assert.equal(text(encodeSale(read)), priced);
  assert.throws(
    () => decodeSale(bytes(priced.replace("1.10", '"1.10"'))),
    /Items\.0\.UnitPrice: expected a JSON number/,
  );
  assert.throws(
    () => decodeSale(bytes(priced.replace("1.10", "-1.10"))),
    /Items\.0\.UnitPrice: must not be negative/,
  );
});

Deno.test("contract: decimals are chosen by the schema, not by name", () => {
  const schema = z.object({ Total: z.int32(), Amount: decimal() });
  const read = decode(schema, bytes('{"Total":3,"Amount":2.50}'));
  assert.equal(read.Total, 3, "an int named Total stays a number");
  assert.equal(read.Amount.toString(), "2.50");
  assert.equal(
    decode(schema, bytes('{"Total":3,"Amount":7}')).Amount.toString(),
    "7",
  );
  assert.throws(
    () => decode(schema, bytes('{"Total":3.0,"Amount":1}')),
    /Total: /,
  );
  assert.throws(
    () => decodeSale(bytes(DOTNET_MESSAGE.replace("10001", "10001.0"))),
    /SaleId: /,
  );
});

Deno.test("decodeSale: JSON nested too deeply is refused in those words", () => {
  const deep = `{"SaleId":1,"StoreId":"A","Items":${"[".repeat(200_000)}${
    "]".repeat(200_000)
  }}`;
  assert.throws(
    () => decodeSale(new TextEncoder().encode(deep)),
    (error) =>
      error instanceof ContractError &&
      error.message === "Message is JSON nested too deeply to read",
  );
});

Deno.test("code: invisible format characters are refused, so no code looks like another", () => {
  for (const text of ["NEPAL\u200b-01", "\u202eMILK", "MI\u00adLK"]) {
    const result = code.safeParse(text);
    assert.equal(result.success, false, JSON.stringify(text));
    assert.match(result.error!.issues[0].message, /invisible format/);
  }
  assert.equal(code.safeParse("NEPAL-01").success, true);
  assert.equal(code.safeParse("Café Zürich").success, true);
});
