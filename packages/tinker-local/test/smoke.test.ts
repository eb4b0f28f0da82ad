import assert from "node:assert/strict";
import { test } from "node:test";
import { SDK_VERSION } from "tinker-ts";

test("workspace packages resolve from source", () => {
  assert.equal(typeof SDK_VERSION, "string");
});
