// No log line or error message carries the API key or a JWT the client holds.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiKeyAuth, JwtAuth } from "../src/client/auth.js";
import { APIConnectionError, AuthenticationError, ValidationError } from "../src/client/errors.js";
import { HttpClient } from "../src/client/http.js";
import { createConsoleLogger, wrapLogger } from "../src/client/logger.js";
import { resolveOptions } from "../src/client/options.js";
import { redact, registerSecret } from "../src/client/redact.js";
import { FakeClock, recordingLogger } from "./helpers/fake-clock.js";

// Shaped unlike the masking patterns, so only registration can catch it.
const ODD_KEY = `tml-${"Zq9".repeat(8)}`;
const JWT = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: "u", exp: 9e9 })).toString("base64url")}.sig-nature_x`;

describe("redact", () => {
  it("masks registered secrets and anything shaped like a key or a JWT", () => {
    registerSecret("plain-secret-value-123");
    const out = redact(`a plain-secret-value-123 b tml-unregistered999 c ${JWT} d`);
    assert.ok(!out.includes("plain-secret-value-123"));
    assert.ok(!out.includes("tml-unregistered999"));
    assert.ok(!out.includes(JWT));
    assert.match(out, /^a \[REDACTED\] b tml-\[REDACTED\] c \[REDACTED_JWT\] d$/);
  });

  it("masks a Hugging Face access token (push-hf holds one) but not short hf_ words", () => {
    const out = redact("token hf_abcdefghijklmnopQRSTUVWX0123 in hf_home");
    assert.equal(out, "token hf_[REDACTED] in hf_home");
  });
});

describe("logging", () => {
  it("the console logger redacts message and fields", () => {
    resolveOptions({ apiKey: ODD_KEY }, {});
    const lines: string[] = [];
    const log = wrapLogger(
      createConsoleLogger((l) => lines.push(l)),
      "debug",
    );
    log.warn(`key=${ODD_KEY}`, { header: ODD_KEY, nested: { jwt: JWT }, error: new Error(`bad ${ODD_KEY}`) });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes(ODD_KEY));
    assert.ok(!lines[0]!.includes(JWT));
    assert.match(lines[0]!, /^\[tinker\] WARN key=/);
  });

  it("an injected logger receives redacted messages and fields", () => {
    const rec = recordingLogger();
    const log = wrapLogger(rec.logger, "debug");
    log.error(`with ${JWT}`, {
      list: [JWT, ODD_KEY],
      err: new AuthenticationError(401, { detail: ODD_KEY }, new Headers()),
    });
    const text = JSON.stringify(rec.lines);
    assert.ok(!text.includes(ODD_KEY));
    assert.ok(!text.includes(JWT));
    assert.match(text, /AuthenticationError/);
  });

  it("drops messages below the level", () => {
    const rec = recordingLogger();
    const log = wrapLogger(rec.logger, "warn");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    assert.deepEqual(
      rec.lines.map((l) => l.level),
      ["warn", "error"],
    );
    wrapLogger(rec.logger, "off").error("never");
    assert.equal(rec.lines.length, 2);
  });
});

describe("errors", () => {
  it("a 401 whose body echoes the key: neither message nor body carries it", async () => {
    const body = JSON.stringify({ detail: `invalid key ${ODD_KEY}` });
    const http = new HttpClient({
      baseUrl: "http://127.0.0.1:9",
      auth: new ApiKeyAuth(ODD_KEY),
      fetch: (async () =>
        new Response(body, {
          status: 401,
          headers: { "content-type": "application/json", "content-length": String(body.length) },
        })) as unknown as typeof fetch,
    });
    await assert.rejects(http.request({ method: "POST", path: "/x", body: {} }), (e: unknown) => {
      assert.ok(e instanceof AuthenticationError);
      assert.ok(!e.message.includes(ODD_KEY));
      assert.ok(!JSON.stringify(e.body).includes(ODD_KEY));
      assert.ok(!String(e.stack).includes(ODD_KEY));
      return true;
    });
  });

  it("connection errors whose cause mentions a secret are redacted", async () => {
    const http = new HttpClient({
      baseUrl: "http://127.0.0.1:9",
      auth: new ApiKeyAuth(ODD_KEY),
      maxRetries: 0,
      fetch: (async () => {
        throw new TypeError(`fetch failed for ${ODD_KEY}`);
      }) as unknown as typeof fetch,
    });
    await assert.rejects(http.request({ method: "GET", path: "/x" }), (e: unknown) => {
      assert.ok(e instanceof APIConnectionError);
      assert.ok(!e.message.includes(ODD_KEY));
      return true;
    });
  });

  it("a key that fails the format check is not echoed", () => {
    const bad = "sk-live-abcdefghijklmnop";
    assert.throws(
      () => resolveOptions({ apiKey: bad }, {}),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.ok(!e.message.includes(bad));
        return true;
      },
    );
  });

  it("a JWT obtained by JwtAuth is registered and redacted even where its shape is unusual", async () => {
    const odd = `eyJ${"w".repeat(30)}`; // no dots: not caught by the JWT pattern
    const auth = new JwtAuth({
      clock: new FakeClock(),
      logger: recordingLogger().logger,
      fetchToken: async () => odd,
    });
    await auth.start();
    auth.close();
    assert.ok(!redact(`token ${odd}`).includes(odd));
  });
});
