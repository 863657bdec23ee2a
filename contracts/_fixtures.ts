/**
 * Messages as the article's .NET services write them, for tests.
 *
 * @module
 */

/** The message exactly as the .NET POS sends it (dotnet-wire.md). */
export const DOTNET_MESSAGE =
  '{"SaleId":10001,"StoreId":"NEPAL-01","Items":[{"Sku":"MILK001","Quantity":5},{"Sku":"BREAD001","Quantity":5}],"Timestamp":"2026-11-27T10:46:12.1234567Z","TotalAmount":10.0}';
