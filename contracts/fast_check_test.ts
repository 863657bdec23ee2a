import assert from "node:assert/strict";
import { decode } from "./codec.ts";
import { Decimal } from "./decimal.ts";
import { formatTest } from "./fast_check.ts";
import { DOTNET_MESSAGE } from "./_fixtures.ts";
import { fastInvoice, InvoiceCreatedSchema, writeInvoice } from "./invoice.ts";
import { fastSale, SaleDetailsSchema, writeSale } from "./sale.ts";
import { fastStockChanged, StockChangedSchema } from "./stock.ts";
import type { z } from "zod";

const price = (text: string) => Decimal.parse(text);

/** Values a field may be given, good and bad. */
const ODD: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1,
  1.5,
  2_147_483_647,
  2_147_483_648,
  Number.MAX_SAFE_INTEGER,
  "5",
  "",
  " ",
  " NEPAL-01",
  "NEPAL-01 ",
  "NE\u0000PAL",
  "NE\u009bPAL",
  "\ud800",
  "é".repeat(32),
  "é".repeat(33),
  "a".repeat(64),
  "a".repeat(65),
  "till_1-A",
  "till 1",
  "t".repeat(33),
  "2026-11-27T10:46:12.1234567Z",
  "2026-11-27T10:46:12",
  "2026-11-27T10:46:12+05:45",
  "27/11/2026",
  true,
  [],
  [{}],
  {},
  price("0"),
  price("-0.01"),
  price("110.00"),
  price("79228162514264337593543950335"),
];

/** Every one-field change of `base`, at every depth. */
function variants(base: Record<string, unknown>): unknown[] {
  const out: unknown[] = [base];
  for (const key of [...Object.keys(base), "Extra"]) {
    for (const value of ODD) {
      out.push({ ...base, [key]: value });
    }
    const inner = base[key];
    if (Array.isArray(inner) && inner.length > 0) {
      for (const variant of variants(inner[0] as Record<string, unknown>)) {
        out.push({ ...base, [key]: [variant, ...inner.slice(1)] });
      }
      out.push({
        ...base,
        [key]: Array.from({ length: 1001 }, () => inner[0]),
      });
    }
  }
  return out;
}

function holdsTo<T>(
  name: string,
  schema: z.ZodType<T>,
  fast: (value: unknown) => T | undefined,
  corpus: unknown[],
  write?: (checked: T) => string,
): number {
  let taken = 0;
  for (const value of corpus) {
    const quick = fast(value);
    if (quick === undefined) continue;
    taken++;
    const result = schema.safeParse(value);
    assert.ok(
      result.success,
      `${name}: the fast check took what zod refuses: ${JSON.stringify(value)}`,
    );
    assert.equal(
      JSON.stringify(quick),
      JSON.stringify(result.data),
      `${name}: a different result for ${JSON.stringify(value)}`,
    );
    if (write) {
      assert.equal(
        write(quick),
        JSON.stringify(quick),
        `${name}: its writer differs from JSON.stringify for ${
          JSON.stringify(value)
        }`,
      );
    }
  }
  return taken;
}

Deno.test("fast checks: accept only what zod accepts, and make the same", () => {
  const sale = {
    SaleId: 10000,
    StoreId: "NEPAL-01",
    TillId: "till-1a2b3c4d",
    Items: [
      { Sku: "MILK-1L", Quantity: 2, UnitPrice: price("110.00") },
      { Sku: "EGGS-12", Quantity: 1, UnitPrice: price("216.00") },
    ],
    Timestamp: "2026-11-27T10:00:00.000Z",
    TotalAmount: price("436.00"),
  };
  const sales = [
    ...variants(sale),
    decode(SaleDetailsSchema, new TextEncoder().encode(DOTNET_MESSAGE)),
  ];
  const salesTaken = holdsTo(
    "sale",
    SaleDetailsSchema,
    fastSale,
    [...sales, {
      ...sale,
      TillId: undefined,
      Items: [{ Sku: 'é"\\', Quantity: 1 }],
    }],
    writeSale,
  );
  const invoice = {
    InvoiceNumber: "NEPAL-01-000001",
    StoreId: "NEPAL-01",
    TillId: "till-1a2b3c4d",
    SaleId: 10000,
    Lines: [{
      Sku: "MILK-1L",
      Quantity: 2,
      UnitPrice: price("110.00"),
      LineTotal: price("220.00"),
    }],
    Subtotal: price("220.00"),
    TaxRate: price("0.13"),
    Tax: price("28.60"),
    Total: price("248.60"),
    TotalAmount: price("220.00"),
    Mismatch: false,
    CreatedAt: "2026-11-27T10:00:00.123Z",
  };
  const invoicesTaken = holdsTo(
    "invoice",
    InvoiceCreatedSchema,
    fastInvoice,
    [
      ...variants(invoice),
      {
        ...invoice,
        TillId: undefined,
        Subtotal: undefined,
        TaxRate: undefined,
        Tax: undefined,
        Lines: [{ Sku: 'é"\\', Quantity: 1 }],
      },
    ],
    writeInvoice,
  );
  const changed = {
    StoreId: "NEPAL-01",
    Levels: [
      { Sku: "MILK-1L", Quantity: -3, Threshold: 10, Low: true },
      { Sku: "EGGS-12", Quantity: 40, Threshold: null, Low: false },
    ],
    Cause: "sale",
    SaleId: 10000,
    TillId: "till-1a2b3c4d",
    At: "2026-11-27T10:00:00.123Z",
  };
  const changesTaken = holdsTo(
    "stock change",
    StockChangedSchema,
    fastStockChanged,
    [
      ...variants(changed),
      ...variants({ ...changed, Cause: "count", AdjustmentId: "a-1" }),
    ],
  );
  assert.ok(changesTaken > 50, `only ${changesTaken} stock changes did`);
  // And the fast path is really the one taken for ordinary messages.
  assert.ok(fastSale(sale) !== undefined);
  assert.ok(fastInvoice(invoice) !== undefined);
  assert.ok(salesTaken > 100, `only ${salesTaken} sales took the fast path`);
  assert.ok(invoicesTaken > 50, `only ${invoicesTaken} invoices did`);
});

Deno.test("fast check: a date-time is tested as zod tests it", () => {
  const schema = SaleDetailsSchema.shape.Timestamp;
  const test = formatTest(schema);
  for (
    const text of [
      "2026-12-02T10:00:00Z",
      "2026-12-02T10:00:00.1234567Z",
      "2026-12-02T10:00:00+05:45",
      "2026-12-02T10:00:00",
      "2026-12-02T10:00",
      "2024-02-29T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-12-02 10:00:00Z",
      "2026-12-02T24:00:00Z",
      "2026-12-02T10:00:00+5:45",
      "",
      "2026-12-02T10:00:00Z\n",
    ]
  ) {
    assert.equal(test(text), schema.safeParse(text).success, text);
  }
  // By the pattern, not by zod again.
  const parse = schema.safeParse;
  schema.safeParse = () => {
    throw new Error("parsed by zod");
  };
  try {
    assert.equal(formatTest(schema)("2026-12-02T10:00:00Z"), true);
  } finally {
    schema.safeParse = parse;
  }
});
