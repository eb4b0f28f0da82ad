import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, ownerIdForKey, startServer } from "tinker-local";
import { createSession, DEFAULT_KEY, errorDetail, FakeClock, post } from "./helpers/server-http.js";

const KEY = "tml-jwt-user-4b1d";
const TTL = 600;

function claims(jwt: string): Record<string, unknown> {
  const payload = jwt.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

async function token(url: string, key: string): Promise<string> {
  const result = await post(url, "/api/v1/auth/token", {}, key);
  assert.equal(result.status, 200, result.text);
  const { jwt } = result.json as { jwt: unknown };
  assert.equal(typeof jwt, "string");
  return jwt as string;
}

describe("JWT mode", () => {
  const clock = new FakeClock();
  let server: LocalServer;
  before(async () => {
    server = await startServer({ jwt: true, jwtTtlSeconds: TTL, apiKeys: [KEY], clock });
  });
  after(() => server.close());

  test("client/config turns pjwt_auth_enabled on", async () => {
    const result = await post(server.url, "/api/v1/client/config", { sdk_version: "0.25.0" }, KEY);
    assert.equal((result.json as Record<string, unknown>).pjwt_auth_enabled, true);
  });

  test("auth/token returns a JWT with numeric exp and iat, a user URN sub, and our issuer", async () => {
    const jwt = await token(server.url, KEY);
    assert.ok(jwt.startsWith("eyJ"));
    const c = claims(jwt);
    assert.equal(typeof c.exp, "number");
    assert.equal(typeof c.iat, "number");
    assert.equal(c.iat, Math.floor(clock.now() / 1000));
    assert.equal((c.exp as number) - (c.iat as number), TTL);
    assert.equal(c.sub, `tinker:${ownerIdForKey(KEY)}`);
    assert.equal(c.iss, "tinker-local");
    assert.ok(!jwt.includes(KEY));
  });

  test("a JWT authenticates as the same user as its key", async () => {
    const jwt = await token(server.url, KEY);
    const sessionId = await createSession(server.url, jwt);
    assert.equal(server.store.sessions.get(sessionId)?.owner, ownerIdForKey(KEY));
    const beat = await post(
      server.url,
      "/api/v1/session_heartbeat",
      { session_id: sessionId, type: "session_heartbeat" },
      KEY,
    );
    assert.equal(beat.status, 200);
    // A client configured with a JWT as its key exchanges it for a fresh one.
    assert.equal(claims(await token(server.url, jwt)).sub, `tinker:${ownerIdForKey(KEY)}`);
  });

  test("an expired JWT is 401 saying it expired; a raw key still works", async () => {
    const jwt = await token(server.url, KEY);
    clock.advance(TTL * 1000 - 1000);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, jwt)).status, 200);
    clock.advance(1000);
    const result = await post(server.url, "/api/v1/client/config", {}, jwt);
    assert.equal(result.status, 401);
    assert.match(errorDetail(result), /expired/i);
    assert.ok(!result.text.includes(jwt));
    assert.equal((await post(server.url, "/api/v1/client/config", {}, KEY)).status, 200);
  });

  test("a JWT with a changed payload or a foreign signature is refused", async () => {
    const jwt = await token(server.url, KEY);
    const [header, , signature] = jwt.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claims(jwt), sub: "tinker:user:000000000000" })).toString(
      "base64url",
    );
    const result = await post(server.url, "/api/v1/client/config", {}, `${header}.${forged}.${signature}`);
    assert.equal(result.status, 401);
    assert.match(errorDetail(result), /invalid token/i);

    const other = await startServer({ jwt: true, apiKeys: [KEY] });
    try {
      const foreign = await token(other.url, KEY);
      assert.equal((await post(server.url, "/api/v1/client/config", {}, foreign)).status, 401);
    } finally {
      await other.close();
    }
  });

  test("auth/token without a credential is 401", async () => {
    const result = await post(server.url, "/api/v1/auth/token", {}, null);
    assert.equal(result.status, 401);
  });
});

describe("outside JWT mode", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test("client/config says pjwt_auth_enabled false, but auth/token still issues a usable JWT", async () => {
    const config = await post(server.url, "/api/v1/client/config", {});
    assert.equal((config.json as Record<string, unknown>).pjwt_auth_enabled, false);
    const jwt = await token(server.url, DEFAULT_KEY);
    assert.equal(claims(jwt).sub, `tinker:${ownerIdForKey(DEFAULT_KEY)}`);
    assert.equal((await post(server.url, "/api/v1/client/config", {}, jwt)).status, 200);
  });
});
