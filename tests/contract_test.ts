import assert from "node:assert/strict";
import {
  ContractError,
  Decimal,
  decodeSale,
  encodeSale,
  type SaleDetails,
} from "../contracts/sale.ts";
import { DOTNET_MESSAGE } from "./test_util.ts";

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
    ["a 1 MB body", "x".repeat(1024 * 1024), /1048576 bytes/],
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

Deno.test("decimal: money is exact", async (t) => {
  const d = Decimal.parse;
  await t.step("0.1 + 0.2 is 0.3", () => {
    assert.equal(d("0.1").add(d("0.2")).toString(), "0.3");
    assert.ok(d("0.1").add(d("0.2")).equals(d("0.3")));
  });
  await t.step("3 x 0.333 is 0.999", () => {
    assert.equal(d("0.333").times(3).toString(), "0.999");
  });
  await t.step("scale is kept as written", () => {
    assert.equal(d("10.0").toString(), "10.0");
    assert.equal(d("10.50").add(d("0.5")).toString(), "11.00");
    assert.equal(JSON.stringify({ a: d("10.50") }), '{"a":10.50}');
  });
  await t.step("large quantities stay exact", () => {
    assert.equal(
      d("19.99").times(2147483647).toString(),
      "42928198103.53",
    );
  });
  await t.step("exponents and signs", () => {
    assert.equal(d("1e2").toString(), "100");
    assert.equal(d("1.5E-3").toString(), "0.0015");
    assert.equal(d("-0.75").toString(), "-0.75");
    assert.ok(d("-0.75").isNegative());
    assert.equal(d("2.0").compare(d("2")), 0);
    assert.equal(d("1.99").compare(d("2")), -1);
  });
  await t.step("what .NET decimal cannot hold is refused", () => {
    assert.throws(() => d("79228162514264337593543950336"), RangeError);
    assert.throws(() => d("0.00000000000000000000000000001"), RangeError);
    assert.throws(() => d("1,5"), SyntaxError);
    assert.throws(() => d("01"), SyntaxError);
  });
});

Deno.test("decimal: tax arithmetic rounds like a till", () => {
  const d = Decimal.parse;
  assert.equal(d("401.00").multiply(d("0.13")).toString(), "52.1300");
  assert.equal(d("401.00").multiply(d("0.13")).round(2).toString(), "52.13");
  assert.equal(d("0.125").round(2).toString(), "0.13");
  assert.equal(d("-0.125").round(2).toString(), "-0.13");
  assert.equal(d("0.124").round(2).toString(), "0.12");
  assert.equal(d("10").round(2).toString(), "10.00");
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
