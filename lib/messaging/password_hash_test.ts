import assert from "node:assert/strict";
import { hashPassword, passwordMatches } from "./password_hash.ts";

Deno.test("password hash: RabbitMQ's salted SHA-256, as its API returns it", () => {
  // Made by RabbitMQ 3.10 for the password "abc".
  const fromBroker = "idTSFND5Fc6wY1qJOKs9qwGP1OxVYOh/F91LrRG3rJy70kbd";
  assert.ok(passwordMatches("abc", fromBroker));
  assert.ok(!passwordMatches("abd", fromBroker));
  assert.ok(!passwordMatches("abc", fromBroker, "rabbit_password_hashing_md5"));
  assert.ok(!passwordMatches("abc", "", "unknown"));
});

Deno.test("password hash: a new salt each time, and each hash matches", () => {
  const one = hashPassword("s3cret");
  const two = hashPassword("s3cret");
  assert.notEqual(one, two);
  assert.ok(passwordMatches("s3cret", one) && passwordMatches("s3cret", two));
  assert.ok(
    passwordMatches(
      "x",
      hashPassword("x", undefined, "rabbit_password_hashing_sha512"),
      "rabbit_password_hashing_sha512",
    ),
  );
});
