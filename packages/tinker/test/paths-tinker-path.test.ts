// The tinker path parser (contract 4.10) and the path-segment check used for ids in URLs.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ValidationError } from "tinker-ts";
import { pathSegment } from "../src/paths/segments.js";
import {
  formatTinkerPath,
  isTinkerPath,
  parseTinkerPath,
  type TinkerPath,
} from "../src/paths/tinker-path.js";

function refuses(input: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseTinkerPath(input),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, `expected ValidationError, got ${String(error)}`);
      assert.equal(error.field, "path");
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("parseTinkerPath", () => {
  it("parses both kinds, with run ids that contain colons", () => {
    assert.deepEqual(parseTinkerPath("tinker://abc-123:train:0/weights/0001"), {
      runId: "abc-123:train:0",
      kind: "weights",
      name: "0001",
      checkpointId: "weights/0001",
    } satisfies TinkerPath);
    assert.deepEqual(parseTinkerPath("tinker://r1/sampler_weights/final"), {
      runId: "r1",
      kind: "sampler_weights",
      name: "final",
      checkpointId: "sampler_weights/final",
    });
  });

  it("says what is wrong with each kind of bad path", () => {
    refuses("", /is empty/);
    refuses(42, /must be a tinker path string/);
    refuses("r1/weights/0001", /must start with 'tinker:\/\/'/);
    refuses("tinker:/r1/weights/0001", /two slashes after 'tinker:'/);
    refuses("https://host/r1/weights/0001", /starts with 'https:\/\/'/);
    refuses(" tinker://r1/weights/0001", /leading or trailing whitespace/);
    refuses("tinker://r1/weights", /exactly 3 segments.*got 2/);
    refuses("tinker://r1", /exactly 3 segments.*got 1/);
    refuses("tinker://r1/weights/a/b", /checkpoint name with '\/' in it \('a\/b'\)/);
    refuses("tinker://r1/checkpoints/a/b", /exactly 3 segments.*got 4/);
    refuses(
      "tinker://r1/checkpoints/0001",
      /second segment must be 'weights' or 'sampler_weights', got 'checkpoints'/,
    );
    refuses("tinker:///weights/0001", /empty run id/);
    refuses("tinker://r1/weights/", /empty checkpoint name/);
    refuses("tinker://r1/weights/..", /checkpoint name cannot be '\.\.'/);
    refuses("tinker://r1/weights/a?b", /checkpoint name must not contain '\?'/);
    refuses("tinker://r1/weights/a#b", /must not contain '#'/);
    refuses("tinker://r 1/weights/x", /run id must not contain a space/);
  });

  it("the field name in errors can be chosen", () => {
    assert.throws(
      () => parseTinkerPath("nope", "model_path"),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(e.field, "model_path");
        assert.match(e.message, /^model_path must start/);
        return true;
      },
    );
  });

  it("isTinkerPath and formatTinkerPath agree with the parser", () => {
    assert.equal(isTinkerPath("tinker://r/weights/x"), true);
    assert.equal(isTinkerPath("tinker://r/weights/x/y"), false);
    assert.equal(
      formatTinkerPath({ runId: "r:train:1", kind: "sampler_weights", name: "s" }),
      "tinker://r:train:1/sampler_weights/s",
    );
    assert.throws(
      () => formatTinkerPath({ runId: "r", kind: "weights", name: "a/b" }),
      /names cannot contain '\/'/,
    );
  });

  const segment = fc
    .string({ minLength: 1, maxLength: 24, unit: fc.constantFrom(..."abcXYZ019-_.:~+@!$&'()*,;=é") })
    .filter((s) => s !== "." && s !== "..");
  const validPath = fc.record({
    runId: segment,
    kind: fc.constantFrom("weights" as const, "sampler_weights" as const),
    name: segment,
  });

  it("format ∘ parse is the identity on valid paths (property)", () => {
    fc.assert(
      fc.property(validPath, (parts) => {
        const text = formatTinkerPath(parts);
        const parsed = parseTinkerPath(text);
        assert.deepEqual(parsed, { ...parts, checkpointId: `${parts.kind}/${parts.name}` });
        assert.equal(formatTinkerPath(parsed), text);
      }),
      { numRuns: 300 },
    );
  });

  it("any string either parses to parts that format back to it, or throws a ValidationError (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `tinker://${s}`),
        ),
        (text) => {
          let parsed: TinkerPath;
          try {
            parsed = parseTinkerPath(text);
          } catch (error) {
            assert.ok(error instanceof ValidationError);
            return;
          }
          assert.equal(formatTinkerPath(parsed), text);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("pathSegment", () => {
  it("accepts run ids and session ids, refuses what would change the URL path", () => {
    assert.equal(pathSegment("s-1:train:0", "runId"), "s-1:train:0");
    for (const [bad, why] of [
      ["", /runId is empty/],
      ["a/b", /must not contain '\/'/],
      ["..", /cannot be '\.\.'/],
      ["a?x=1", /must not contain '\?'/],
      ["a%2F", /must not contain '%'/],
      ["a\nb", /control character/],
    ] as const) {
      assert.throws(
        () => pathSegment(bad, "runId"),
        (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.equal(e.field, "runId");
          assert.match(e.message, why);
          return true;
        },
      );
    }
    assert.throws(() => pathSegment(undefined, "runId"), /runId must be a string/);
  });
});
