// The Node transport (node:http) against a real tinker-local: it is what the SDK uses by default on
// Node, a user's `fetch` takes every request over from it, timeouts and the caller's abort end a
// request on it (faults injected by `server.faults`), one long-lived AbortSignal shared by a thousand
// requests holds a single listener, and errors carry no secret.

import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  ServiceClient,
} from "tinker-ts";
import { type CreateSessionBody, createSession, sessionHeartbeat } from "../src/api/service.js";
import { ApiKeyAuth } from "../src/client/auth.js";
import { HttpClient } from "../src/client/http.js";

const KEY = "tml-local-dev";
const SESSION_PATH = "/api/v1/create_session";
const BODY: CreateSessionBody = {
  tags: ["transport"],
  user_metadata: {},
  sdk_version: "0.25.0",
  type: "create_session",
};

describe("the Node transport against tinker-local", () => {
  let server: LocalServer;
  let retries: number;

  before(async () => {
    server = await startServer({ port: 0 });
  });
  after(() => server.close());
  afterEach(() => {
    server.faults.clear();
    server.clearRequests();
  });

  const http = (options: { maxRetries?: number; apiKey?: string } = {}) => {
    retries = 0;
    return new HttpClient({
      baseUrl: server.url,
      auth: new ApiKeyAuth(options.apiKey ?? KEY),
      maxRetries: options.maxRetries ?? 2,
      onRetry: () => retries++,
      // Record the backoff instead of waiting it; the decision to retry is what is asserted.
      sleep: async (_ms, signal) => {
        if (signal?.aborted) throw signal.reason;
      },
    });
  };

  const statuses = (path = SESSION_PATH) =>
    server
      .requests()
      .filter((r) => r.path === path)
      .map((r) => r.status);

  it("is node:http on Node when no fetch is given, and no request goes through globalThis.fetch", async () => {
    const original = globalThis.fetch;
    let fetchCalls = 0;
    globalThis.fetch = ((...args: Parameters<typeof fetch>) => {
      fetchCalls++;
      return original(...args);
    }) as typeof fetch;
    try {
      const client = http();
      assert.equal((await client.transport()).name, "node:http");
      const service = new ServiceClient({ apiKey: KEY, baseUrl: server.url, logLevel: "off" });
      const sampler = await service.createSamplingClient({ baseModel: "tinker-local/tiny" });
      const result = await sampler.sample([104, 105], { samplingParams: { maxTokens: 2, seed: 1 } });
      assert.equal(result.sequences.length, 1);
      await service.close();
    } finally {
      globalThis.fetch = original;
    }
    assert.ok(server.requests().length >= 4, "the calls reached the server");
    assert.equal(fetchCalls, 0);
  });

  it("a fetch passed in ClientOptions carries every request of the client", async () => {
    const seen: string[] = [];
    const userFetch: typeof fetch = (input, init) => {
      seen.push(new URL(String(input)).pathname);
      return fetch(input, init);
    };
    const service = new ServiceClient({
      apiKey: KEY,
      baseUrl: server.url,
      logLevel: "off",
      fetch: userFetch,
    });
    const sampler = await service.createSamplingClient({ baseModel: "tinker-local/tiny" });
    await sampler.sample([104, 105], { samplingParams: { maxTokens: 2, seed: 1 } });
    await service.close();
    const reached = server.requests().map((r) => r.path);
    assert.ok(reached.includes("/api/v1/asample") && reached.includes("/api/v1/retrieve_future"));
    assert.deepEqual([...seen].sort(), [...reached].sort());
  });

  it("a hung attempt times out (APITimeoutError) and a timeout is retried", async () => {
    server.faults.add({ path: SESSION_PATH, hang: true, times: 2 });
    await assert.rejects(createSession(http({ maxRetries: 1 }), BODY, { timeout: 200 }), APITimeoutError);
    assert.deepEqual(statuses(), [0, 0]);
    assert.equal(retries, 1);

    server.clearRequests();
    server.faults.add({ path: SESSION_PATH, hang: true });
    const res = await createSession(http({ maxRetries: 1 }), BODY, { timeout: 200 });
    assert.match(res.session_id, /\S/);
    assert.deepEqual(statuses(), [0, 200]);
  });

  it("the caller's abort ends a request the server holds; it is not retried", async () => {
    server.faults.add({ path: SESSION_PATH, hang: true });
    const controller = new AbortController();
    const pending = createSession(http(), BODY, { signal: controller.signal });
    while (statuses().length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(pending, APIUserAbortError);
    assert.equal(retries, 0);
    assert.deepEqual(statuses(), [0]);
  });

  it("a reset connection is an APIConnectionError once the retries are spent", async () => {
    server.faults.add({ path: SESSION_PATH, reset: true, times: 3 });
    await assert.rejects(createSession(http({ maxRetries: 2 }), BODY), APIConnectionError);
    assert.deepEqual(statuses(), [0, 0, 0]);
  });

  it("one long-lived signal shared by 1,000 requests in flight holds one abort listener", async () => {
    const client = http();
    const { session_id } = await createSession(client, BODY);
    const lifetime = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      // Each beat is held a while, so that many are in flight together.
      const slow = server.faults.add({ path: "/api/v1/session_heartbeat", delayMs: 500, times: 1000 });
      let done = false;
      const beats = Promise.all(
        Array.from({ length: 1000 }, () =>
          sessionHeartbeat(client, session_id, { signal: lifetime.signal, maxRetries: 0, timeout: 120_000 }),
        ),
      ).finally(() => {
        done = true;
      });
      let mostListeners = 0;
      let mostHeld = 0;
      while (!done) {
        mostListeners = Math.max(mostListeners, getEventListeners(lifetime.signal, "abort").length);
        mostHeld = Math.max(mostHeld, slow.hits - statuses("/api/v1/session_heartbeat").length);
        await new Promise((r) => setTimeout(r, 10));
      }
      await beats;
      assert.ok(mostHeld >= 100, `at least 100 requests were in flight together (most: ${mostHeld})`);
      assert.equal(mostListeners, 1);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    assert.deepEqual(
      warnings.map((w) => `${w.name}: ${w.message}`),
      [],
    );
    assert.equal(statuses("/api/v1/session_heartbeat").filter((s) => s === 200).length, 1000);
  });

  it("a 401 that echoes the key is an AuthenticationError whose message and body hold no key", async () => {
    const key = "tml-TransportEcho-Key-41c";
    server.faults.add({ path: SESSION_PATH, status: 401, body: { detail: `unknown key ${key}` } });
    const error = await createSession(http({ apiKey: key }), BODY).then(
      () => assert.fail("expected a 401"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.doesNotMatch(`${error.message} ${JSON.stringify(error.body)}`, new RegExp(key));
  });
});
