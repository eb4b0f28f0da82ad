// JWT mode end to end against tinker-local (`startServer({ jwt: true })`): the key goes only to
// client/config and auth/token, every other request carries a JWT, and the JWT is refreshed.
// The fetch passed to the SDK is the real fetch, wrapped only to observe the X-API-Key sent.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, ownerIdForKey, startServer } from "tinker-local";
import { ServiceClient } from "tinker-ts";

const KEY = "tml-jwt-integration-key";

function observingFetch(log: { path: string; key: string | null }[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    log.push({ path: url.pathname, key: new Headers(init?.headers).get("x-api-key") });
    return fetch(input, init);
  }) as typeof fetch;
}

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("JWT mode against tinker-local", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY], jwt: true, jwtTtlSeconds: 2 });
  });
  after(() => server.close());

  it("exchanges the key for a JWT, uses the JWT everywhere else, and refreshes it", async () => {
    const sent: { path: string; key: string | null }[] = [];
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      fetch: observingFetch(sent),
      heartbeat: { intervalMs: 100 },
    });
    try {
      const holder = await client.session();
      assert.equal(holder.config.pjwtAuthEnabled, true);
      const jwt = holder.jwt;
      assert.ok(jwt, "JWT mode is on");
      assert.deepEqual(jwt.whoami(), { userUrn: `tinker:${ownerIdForKey(KEY)}`, email: null });

      // 2 s tokens: past half their life the background refresh runs, and with <= 60 s left every
      // request refreshes first; either way, new tokens keep coming and heartbeats keep working.
      await until("3 token fetches", () => jwt.fetchCount >= 3);
      await until("heartbeats after the refreshes", () => (client.heartbeatStats()?.successes ?? 0) >= 10);
      assert.equal(client.heartbeatStats()?.failures, 0, "no heartbeat failed (no expired JWT was used)");

      const byPath = (p: string) => sent.filter((s) => s.path === p);
      assert.ok(
        byPath("/api/v1/client/config").every((s) => s.key === KEY),
        "client/config: raw key",
      );
      assert.ok(
        byPath("/api/v1/auth/token").every((s) => s.key === KEY),
        "auth/token: raw key",
      );
      const others = sent.filter(
        (s) => s.path !== "/api/v1/client/config" && s.path !== "/api/v1/auth/token",
      );
      assert.ok(others.length >= 10);
      assert.ok(
        others.every((s) => s.key?.startsWith("eyJ")),
        "every other request carries a JWT",
      );
      const distinctJwts = new Set(others.map((s) => s.key));
      assert.ok(distinctJwts.size >= 2, `refreshed JWTs were used (${distinctJwts.size} distinct)`);
      const tokenRequests = server.requests().filter((r) => r.path === "/api/v1/auth/token");
      assert.ok(tokenRequests.length >= 3 && tokenRequests.every((r) => r.status === 200));
    } finally {
      await client.close();
    }
    // close() stops the background refresh too.
    const fetched = sent.filter((s) => s.path === "/api/v1/auth/token").length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(sent.filter((s) => s.path === "/api/v1/auth/token").length, fetched);
  });

  it("a key the server does not know fails at client/config with AuthenticationError (401 not retried)", async () => {
    const client = new ServiceClient({
      apiKey: "tml-unknown-to-server",
      baseUrl: server.url,
      logLevel: "off",
    });
    server.clearRequests();
    await assert.rejects(client.openSession(), { name: "AuthenticationError" });
    assert.equal(server.requests().length, 1);
    await client.close();
  });
});
