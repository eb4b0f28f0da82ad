// Option resolution (contract 1.1): arguments first, then the environment, then defaults; the key
// check; the version constant.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SDK_VERSION } from "tinker-ts";
import { ValidationError } from "../src/client/errors.js";
import { parseLogLevel } from "../src/client/logger.js";
import { DEFAULT_BASE_URL, parseTags, resolveOptions } from "../src/client/options.js";
import { SDK_VERSION as CORE_VERSION } from "../src/client/version.js";

const KEY = "tml-optionstestkey";

describe("resolveOptions", () => {
  it("defaults", () => {
    const o = resolveOptions({}, { TINKER_API_KEY: KEY });
    assert.equal(o.apiKey, KEY);
    assert.equal(o.baseUrl, DEFAULT_BASE_URL);
    assert.deepEqual(o.tags, []);
    assert.equal(o.projectId, undefined);
    assert.deepEqual(o.userMetadata, {});
    assert.equal(o.logLevel, "warn");
    assert.equal(o.timeoutMs, 60_000);
    assert.equal(o.maxRetries, 10);
    assert.deepEqual(o.defaultHeaders, {});
    assert.deepEqual(o.heartbeat, {
      intervalMs: 10_000,
      timeoutMs: 10_000,
      warnAfterMs: 120_000,
      warnRepeatMs: 30_000,
    });
  });

  it("arguments win over the environment", () => {
    const env = {
      TINKER_API_KEY: "tml-fromenv",
      TINKER_BASE_URL: "http://env.example",
      TINKER_TAGS: "env",
      TINKER_PROJECT_ID: "penv",
      TINKER_LOG: "debug",
    };
    const o = resolveOptions(
      {
        apiKey: KEY,
        baseUrl: "http://arg.example/",
        tags: ["a", "a", "b"],
        projectId: "parg",
        logLevel: "error",
      },
      env,
    );
    assert.equal(o.apiKey, KEY);
    assert.equal(o.baseUrl, "http://arg.example");
    assert.deepEqual(o.tags, ["a", "b"]);
    assert.equal(o.projectId, "parg");
    assert.equal(o.logLevel, "error");
  });

  it("reads the environment", () => {
    const o = resolveOptions(
      {},
      {
        TINKER_API_KEY: KEY,
        TINKER_BASE_URL: "http://127.0.0.1:8000/services/x/",
        TINKER_TAGS: "b, a,,b",
        TINKER_PROJECT_ID: "proj-1",
        TINKER_LOG: "WARNING",
        TINKER_CREDENTIAL_CMD: "echo hi",
        CLOUDFLARE_ACCESS_CLIENT_ID: "cf-id",
        CLOUDFLARE_ACCESS_CLIENT_SECRET: "cf-secret-value",
      },
    );
    assert.equal(o.baseUrl, "http://127.0.0.1:8000/services/x", "path prefix kept, trailing slash dropped");
    assert.deepEqual(o.tags, ["b", "a"]);
    assert.equal(o.projectId, "proj-1");
    assert.equal(o.logLevel, "warn");
    assert.equal(o.credentialCmd, "echo hi");
    assert.deepEqual(o.defaultHeaders, {
      "CF-Access-Client-Id": "cf-id",
      "CF-Access-Client-Secret": "cf-secret-value",
    });
  });

  it("empty environment values count as unset", () => {
    const o = resolveOptions(
      {},
      { TINKER_API_KEY: KEY, TINKER_BASE_URL: "", TINKER_PROJECT_ID: "", TINKER_TAGS: "" },
    );
    assert.equal(o.baseUrl, DEFAULT_BASE_URL);
    assert.equal(o.projectId, undefined);
    assert.deepEqual(o.tags, []);
  });

  it("no key and no credential command: a ValidationError naming TINKER_API_KEY", () => {
    assert.throws(
      () => resolveOptions({}, {}),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.match(e.message, /TINKER_API_KEY/);
        assert.equal(e.field, "apiKey");
        return true;
      },
    );
    assert.throws(() => resolveOptions({}, { TINKER_API_KEY: "" }), /TINKER_API_KEY/);
  });

  it("a credential command alone is enough", () => {
    const o = resolveOptions({}, { TINKER_CREDENTIAL_CMD: "echo tml-x" });
    assert.equal(o.apiKey, undefined);
    assert.equal(o.credentialCmd, "echo tml-x");
  });

  it("key check: tml- and eyJ pass; anything else fails without printing the key", () => {
    assert.equal(resolveOptions({ apiKey: "eyJhbGciOi.payload.sig" }, {}).apiKey, "eyJhbGciOi.payload.sig");
    for (const bad of ["sk-secretvalue123", "TML-uppercase", "  tml-leadingspace"]) {
      assert.throws(
        () => resolveOptions({ apiKey: bad }, {}),
        (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.match(e.message, /'tml-'/);
          assert.ok(!e.message.includes(bad), "the key is not in the message");
          return true;
        },
      );
    }
    assert.throws(() => resolveOptions({}, { TINKER_API_KEY: "nope-abcdef" }), /TINKER_API_KEY/);
  });

  it("rejects unusable values with ValidationError", () => {
    const env = { TINKER_API_KEY: KEY };
    assert.throws(() => resolveOptions({ baseUrl: "not a url" }, env), ValidationError);
    assert.throws(() => resolveOptions({ baseUrl: "ftp://x" }, env), ValidationError);
    assert.throws(() => resolveOptions({}, { ...env, TINKER_BASE_URL: "::" }), /TINKER_BASE_URL/);
    assert.throws(() => resolveOptions({ maxRetries: -1 }, env), /maxRetries/);
    assert.throws(() => resolveOptions({ maxRetries: 1.5 }, env), /maxRetries/);
    assert.throws(() => resolveOptions({ timeout: 0 }, env), /timeout/);
    assert.throws(() => resolveOptions({ heartbeat: { intervalMs: -5 } }, env), /heartbeat.intervalMs/);
    assert.throws(() => resolveOptions({ logLevel: "loud" as never }, env), /logLevel/);
  });

  it("an unknown TINKER_LOG falls back to warn, with a warning", () => {
    const lines: string[] = [];
    const o = resolveOptions(
      { logger: { debug() {}, info() {}, warn: (m) => lines.push(m), error() {} } },
      { TINKER_API_KEY: KEY, TINKER_LOG: "chatty" },
    );
    assert.equal(o.logLevel, "warn");
    assert.match(lines[0] ?? "", /TINKER_LOG=chatty/);
  });
});

describe("helpers", () => {
  it("parseTags keeps order and drops empties and duplicates", () => {
    assert.deepEqual(parseTags(undefined), []);
    assert.deepEqual(parseTags("x"), ["x"]);
    assert.deepEqual(parseTags("c,b,a,b,c"), ["c", "b", "a"]);
    assert.deepEqual(parseTags(" ,, "), []);
  });

  it("parseLogLevel reads TINKER_LOG spellings", () => {
    assert.deepEqual(
      ["debug", "INFO", "warning", "warn", "error", "off", "bogus", undefined].map(parseLogLevel),
      ["debug", "info", "warn", "warn", "error", "off", undefined, undefined],
    );
  });

  it("the SDK version matches package.json and the public export", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    assert.equal(CORE_VERSION, pkg.version);
    assert.equal(SDK_VERSION, pkg.version);
  });
});
