// JWT auth (contract 1.2): background refresh 300 s before exp, on-demand refresh with <= 60 s left,
// 60 s pause after a failed background refresh, unparseable exp = expired, single flight. Driven by
// a fake clock; the token fetch is an in-process function.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  ApiKeyAuth,
  CredentialCommandAuth,
  CredentialCommandError,
  decodeClaims,
  expiryMs,
  identityFromClaims,
  JwtAuth,
  loadJwtDecoder,
  runCredentialCommand,
} from "../src/client/auth.js";
import { ValidationError } from "../src/client/errors.js";
import { resolveOptions } from "../src/client/options.js";
import { parseClientConfig } from "../src/session/client-config.js";
import { exchangeCredential } from "../src/session/connection.js";
import { FakeClock, recordingLogger } from "./helpers/fake-clock.js";

// decodeClaims is synchronous once the decoder is loaded (JwtAuth.start() loads it).
before(() => loadJwtDecoder());

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
export function makeJwt(claims: Record<string, unknown>): string {
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2lnbmF0dXJl`;
}

function setup(opts: { ttlSec?: number; exp?: unknown; fail?: () => boolean } = {}) {
  const clock = new FakeClock();
  const log = recordingLogger();
  const fetchedAt: number[] = [];
  let inflight = 0;
  let maxInflight = 0;
  const auth = new JwtAuth({
    clock,
    logger: log.logger,
    fetchToken: async () => {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      await new Promise((r) => setImmediate(r));
      inflight--;
      fetchedAt.push(clock.now());
      if (opts.fail?.()) throw new Error("token endpoint down");
      const exp = "exp" in opts ? opts.exp : Math.floor(clock.now() / 1000) + (opts.ttlSec ?? 3600);
      return makeJwt({ sub: "user:1", email: "a@b.c", exp, n: fetchedAt.length });
    },
  });
  return { clock, log, auth, fetchedAt, maxInflight: () => maxInflight };
}

describe("JwtAuth", () => {
  it("refreshes in the background 300 s before exp", async () => {
    const t = setup({ ttlSec: 3600 });
    await t.auth.start();
    const first = await t.auth.apiKey();
    await t.clock.advance(3300_000 - 1);
    assert.equal(t.fetchedAt.length, 1);
    await t.clock.advance(1);
    assert.equal(t.fetchedAt.length, 2);
    const second = await t.auth.apiKey();
    assert.notEqual(second, first);
    assert.equal(t.fetchedAt.length, 2, "a fresh token is used without another fetch");
    t.auth.close();
  });

  it("refreshes on demand first when <= 60 s of validity are left", async () => {
    const t = setup({ ttlSec: 3600 });
    await t.auth.start();
    t.auth.close(); // no background refresh: only the on-demand path is under test
    await t.clock.advance(3600_000 - 60_001);
    await t.auth.apiKey();
    assert.equal(t.fetchedAt.length, 1, "61 s left: no refresh");
    await t.clock.advance(1);
    const token = await t.auth.apiKey();
    assert.equal(t.fetchedAt.length, 2, "60 s left: refresh before answering");
    assert.equal(decodeClaims(token)?.n, 2);
  });

  it("concurrent callers share one refresh (single flight)", async () => {
    const t = setup({ ttlSec: 30 });
    await t.auth.start();
    t.auth.close();
    const tokens = await Promise.all([t.auth.apiKey(), t.auth.apiKey(), t.auth.apiKey()]);
    assert.equal(t.fetchedAt.length, 2);
    assert.equal(new Set(tokens).size, 1);
    assert.equal(t.maxInflight(), 1);
  });

  it("waits 60 s after a failed background refresh before trying again", async () => {
    let failing = false;
    const t = setup({ ttlSec: 3600, fail: () => failing });
    await t.auth.start();
    failing = true;
    await t.clock.advance(3300_000);
    assert.equal(t.fetchedAt.length, 2);
    assert.ok(t.log.at("warn").some((l) => /trying again in 60 s/.test(l.message)));
    await t.clock.advance(59_999);
    assert.equal(t.fetchedAt.length, 2);
    failing = false;
    await t.clock.advance(1);
    assert.equal(t.fetchedAt.length, 3);
    // Back on schedule: the next background refresh is 300 s before the new exp.
    await t.clock.advance(3300_000);
    assert.equal(t.fetchedAt.length, 4);
    t.auth.close();
  });

  it("a failed on-demand refresh still returns a token that has not expired, and fails once it has", async () => {
    let failing = false;
    const t = setup({ ttlSec: 100, fail: () => failing });
    await t.auth.start();
    t.auth.close();
    failing = true;
    await t.clock.advance(50_000);
    assert.ok(await t.auth.apiKey());
    assert.ok(t.log.at("warn").some((l) => /using the current token/.test(l.message)));
    await t.clock.advance(50_000);
    await assert.rejects(t.auth.apiKey(), /token endpoint down/);
  });

  it("an unparseable exp counts as expired: every request refreshes, no background loop", async () => {
    const t = setup({ exp: "tomorrow" });
    await t.auth.start();
    assert.equal(t.clock.pendingTimers, 0);
    await t.auth.apiKey();
    await t.auth.apiKey();
    assert.equal(t.fetchedAt.length, 3);
    assert.ok(t.log.at("warn").some((l) => /no usable 'exp'/.test(l.message)));
  });

  it("short-lived tokens refresh in the background at half their remaining life, never back to back", async () => {
    const t = setup({ ttlSec: 10 });
    await t.auth.start();
    await t.clock.advance(4_999);
    assert.equal(t.fetchedAt.length, 1);
    await t.clock.advance(1);
    assert.equal(t.fetchedAt.length, 2);
    await t.clock.advance(20_000);
    assert.equal(t.fetchedAt.length, 6);
    t.auth.close();
  });

  it("close() clears the refresh timer", async () => {
    const t = setup({ ttlSec: 3600 });
    await t.auth.start();
    assert.equal(t.clock.pendingTimers, 1);
    t.auth.close();
    assert.equal(t.clock.pendingTimers, 0);
    await t.clock.advance(7200_000);
    assert.equal(t.fetchedAt.length, 1);
  });

  it("whoami reads sub and email from the claims", async () => {
    const t = setup();
    await t.auth.start();
    assert.deepEqual(t.auth.whoami(), { userUrn: "user:1", email: "a@b.c" });
    assert.deepEqual(identityFromClaims({ sub: "u", email: "" }), { userUrn: "u", email: null });
    assert.throws(() => identityFromClaims({}), ValidationError);
    t.auth.close();
  });

  it("expiryMs: numeric exp in ms, anything else 0", () => {
    assert.equal(expiryMs({ exp: 10 }), 10_000);
    assert.equal(expiryMs({}), 0);
    assert.equal(expiryMs(undefined), 0);
    assert.equal(decodeClaims("not a jwt"), undefined);
  });
});

describe("credential command", () => {
  it("runs through sh -c and returns trimmed stdout", async () => {
    assert.equal(await runCredentialCommand("printf '  tml-fromcmd123\\n\\n'"), "tml-fromcmd123");
  });

  it("runs again on every call", async () => {
    const dir = await import("node:fs/promises").then((fs) => fs.mkdtemp("/tmp/tinker-cred-"));
    const auth = new CredentialCommandAuth(
      `n=$(cat ${dir}/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/n; echo tml-call$n-xyz`,
    );
    assert.equal(await auth.apiKey(), "tml-call1-xyz");
    assert.equal(await auth.apiKey(), "tml-call2-xyz");
  });

  it("reports a failing command with its stderr, never its stdout", async () => {
    await assert.rejects(runCredentialCommand("echo tml-secretpart; echo nope >&2; exit 3"), (e: unknown) => {
      assert.ok(e instanceof CredentialCommandError);
      assert.match((e as Error).message, /nope/);
      assert.doesNotMatch((e as Error).message, /secretpart/);
      return true;
    });
  });

  it("rejects empty or malformed output", async () => {
    await assert.rejects(runCredentialCommand("true"), CredentialCommandError);
    await assert.rejects(runCredentialCommand("echo hunter2hunter2"), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.doesNotMatch((e as Error).message, /hunter2/);
      return true;
    });
  });
});

describe("credential choice for the token exchange (contract 1.2 step 1)", () => {
  const env = {};
  const jwtKey = makeJwt({ sub: "x", exp: 1 });
  const cfg = (source?: string) =>
    parseClientConfig({ pjwt_auth_enabled: true, credential_default_source: source });

  it("a JWT key is used as is, even when the server prefers the command", async () => {
    const auth = exchangeCredential(
      resolveOptions({ apiKey: jwtKey, credentialCmd: "echo tml-cmd0000" }, env),
      cfg("credential_cmd"),
    );
    assert.ok(auth instanceof ApiKeyAuth);
    assert.equal(await auth.apiKey(), jwtKey);
  });

  it("credential_default_source=credential_cmd runs the command instead of using a tml- key", async () => {
    const auth = exchangeCredential(
      resolveOptions({ apiKey: "tml-plainkey", credentialCmd: "echo tml-fromcommand" }, env),
      cfg("credential_cmd"),
    );
    assert.equal(await auth.apiKey(), "tml-fromcommand");
  });

  it("credential_cmd without a command is a ValidationError naming TINKER_CREDENTIAL_CMD", () => {
    assert.throws(
      () => exchangeCredential(resolveOptions({ apiKey: "tml-plainkey" }, env), cfg("credential_cmd")),
      /TINKER_CREDENTIAL_CMD/,
    );
  });

  it("otherwise the API key, and the command only when there is no key", async () => {
    const a = exchangeCredential(
      resolveOptions({ apiKey: "tml-plainkey", credentialCmd: "echo tml-c0000000" }, env),
      cfg(),
    );
    assert.equal(await a.apiKey(), "tml-plainkey");
    const b = exchangeCredential(resolveOptions({ credentialCmd: "echo tml-c0000000" }, env), cfg());
    assert.equal(await b.apiKey(), "tml-c0000000");
  });
});
