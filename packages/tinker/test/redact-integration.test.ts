// Against tinker-local: no log line (default stderr logger and an injected one, at debug level) and
// no error message carries the API key or a JWT, including a 401 whose body echoes the key.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { type HeartbeatWarningEvent, ServiceClient } from "tinker-ts";
import { recordingLogger } from "./helpers/fake-clock.js";

// Deliberately not shaped like the masking patterns' usual input (uppercase, odd characters).
const KEY = "tml-RedactIntegration-Key-9f3";

function captureStderr(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stderr.write;
  return {
    lines,
    restore: () => {
      process.stderr.write = original;
    },
  };
}

describe("no secret in logs or errors (against tinker-local)", () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, apiKeys: [KEY], jwt: true, jwtTtlSeconds: 3 });
  });
  after(() => server.close());

  it("default stderr logger at debug, a 401 echoing the key, heartbeat failures", async () => {
    const seenKeys = new Set<string>([KEY]);
    const fetchSpy = (async (input: string | URL | Request, init?: RequestInit) => {
      const k = new Headers(init?.headers).get("x-api-key");
      if (k) seenKeys.add(k);
      return fetch(input, init);
    }) as typeof fetch;
    const stderr = captureStderr();
    const errors: string[] = [];
    try {
      const client = new ServiceClient({
        apiKey: KEY,
        baseUrl: server.url,
        logLevel: "debug",
        fetch: fetchSpy,
        heartbeat: { intervalMs: 50, timeoutMs: 200, warnAfterMs: 100, warnRepeatMs: 50 },
      });
      const sessionId = await client.openSession();
      // The server rejects beats with the key echoed back in the body.
      server.faults.add({
        path: "/api/v1/session_heartbeat",
        status: 401,
        body: { detail: `bad key ${KEY}` },
        times: 6,
      });
      const warning = await new Promise<HeartbeatWarningEvent>((resolve) =>
        client.on("heartbeatWarning", resolve),
      );
      // What a listener is handed is output too: the session, the failures, the error, never the key.
      assert.equal(warning.sessionId, sessionId);
      assert.ok(warning.consecutiveFailures >= 1);
      // A 401, or on a loaded machine a beat past its 200 ms deadline: either way an Error.
      assert.ok(warning.lastError instanceof Error);
      errors.push(warning.lastError.message, String(warning.lastError.stack), JSON.stringify(warning));
      const lastError = client.heartbeatStats()?.lastError;
      errors.push(lastError?.message ?? "", String(lastError?.stack));
      await client.close();

      // A session start-up that fails with a 401 echoing the key.
      const bad = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "debug", maxRetries: 0 });
      server.faults.add({ path: "/api/v1/create_session", status: 401, body: `denied for ${KEY}` });
      await bad
        .openSession()
        .catch((e: Error) =>
          errors.push(e.message, String(e.stack), JSON.stringify((e as { body?: unknown }).body)),
        );
      await bad.close();
    } finally {
      stderr.restore();
    }
    const output = stderr.lines.join("");
    assert.ok(stderr.lines.length > 5, "debug logging produced output");
    assert.match(output, /rejected with status 401/);
    assert.ok(errors.some((e) => /401/.test(e)));
    assert.ok(seenKeys.size >= 2, "the key and at least one JWT were sent");
    for (const secret of seenKeys) {
      assert.ok(!output.includes(secret), `a log line contains a credential (${secret.slice(0, 4)}…)`);
      for (const e of errors) assert.ok(!e.includes(secret), "an error contains a credential");
    }
  });

  it("console.log / util.inspect of the client and its session shows no credential", async () => {
    const { inspect } = await import("node:util");
    const client = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const holder = await client.session();
      const token = await holder.jwt!.apiKey();
      for (const obj of [client, holder, holder.http, holder.jwt]) {
        const text = inspect(obj, { depth: 10, showHidden: true, getters: true });
        assert.ok(!text.includes(KEY), "the key is not printed");
        assert.ok(!text.includes(token), "the JWT is not printed");
      }
    } finally {
      await client.close();
    }
  });

  it("an injected logger sees the same redaction", async () => {
    const rec = recordingLogger();
    const client = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logger: rec.logger,
      logLevel: "debug",
    });
    server.faults.add({
      path: "/api/v1/create_session",
      status: 500,
      body: { detail: `oops ${KEY}` },
      times: 2,
    });
    const holder = await client.session();
    const jwtSeen = await holder.jwt?.refresh();
    await client.close();
    const text = JSON.stringify(rec.lines);
    assert.match(text, /Retrying POST \/api\/v1\/create_session/);
    assert.ok(!text.includes(KEY));
    assert.ok(jwtSeen && !text.includes(jwtSeen));
  });
});
