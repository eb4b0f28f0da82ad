// Every row of the README's retry table against real faults: the SDK's HTTP core (real fetch) talks
// to a real tinker-local whose `server.faults` injects the failure, and the assertions read the
// server's own request records: how many attempts arrived, with which statuses, and that every
// attempt of one call carried the same X-Idempotency-Key. Only the backoff sleep is injected (it
// records the delays instead of waiting them); the exact delay arithmetic is also covered against a
// fake clock in retry.test.ts.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { retrieveFuture } from "../src/api/futures.js";
import { asample } from "../src/api/sampling.js";
import {
  type CreateSessionBody,
  createSession,
  fetchDynamicConfig,
  sessionHeartbeat,
} from "../src/api/service.js";
import { saveWeights, saveWeightsForSampler } from "../src/api/training.js";
import { ApiKeyAuth } from "../src/client/auth.js";
import {
  APIConnectionError,
  APITimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from "../src/client/errors.js";
import { HttpClient } from "../src/client/http.js";

const KEY = "tml-local-dev";
const SESSION_PATH = "/api/v1/create_session";
const BODY: CreateSessionBody = {
  tags: ["retry"],
  user_metadata: {},
  sdk_version: "0.25.0",
  type: "create_session",
};

describe("retry table against a real tinker-local", () => {
  let server: LocalServer;
  let delays: number[];
  let http: HttpClient;

  before(async () => {
    server = await startServer({ port: 0 });
  });
  after(() => server.close());
  afterEach(() => {
    server.faults.clear();
    server.clearRequests();
  });

  const client = (maxRetries = 10) => {
    delays = [];
    http = new HttpClient({
      baseUrl: server.url,
      auth: new ApiKeyAuth(KEY),
      maxRetries,
      random: () => 0,
      sleep: async (ms, signal) => {
        if (signal?.aborted) throw signal.reason;
        delays.push(ms);
      },
    });
    return http;
  };

  /** Statuses the server recorded for `path` (0: no answer reached the client), and the keys seen. */
  const attempts = (path = SESSION_PATH) => {
    const records = server.requests().filter((r) => r.path === path);
    return { statuses: records.map((r) => r.status), keys: new Set(records.map((r) => r.idempotencyKey)) };
  };

  const assertOneKey = (keys: Set<string | null>) => {
    assert.equal(keys.size, 1, `one idempotency key for every attempt, got ${[...keys].join(", ")}`);
    const [key] = keys;
    assert.match(String(key), /^tinker-ts-retry-[0-9a-f-]{36}$/);
  };

  it("connection reset: retried with backoff, same key, then answered", async () => {
    server.faults.add({ path: SESSION_PATH, reset: true, times: 2 });
    const res = await createSession(client(), BODY);
    assert.match(res.session_id, /^sess-/);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [0, 0, 200]);
    assertOneKey(keys);
    assert.deepEqual(delays, [500, 1000]);
  });

  it("per-attempt timeout: the hung attempt is abandoned and retried with the same key", async () => {
    server.faults.add({ path: SESSION_PATH, hang: true });
    // Long enough that the answered retry never runs into it on a loaded machine (with 300 ms a
    // slow retry timed out too: [0, 200, 200]); the hung first attempt always does.
    const res = await createSession(client(), BODY, { timeout: 2000 });
    assert.match(res.session_id, /^sess-/);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [0, 200]);
    assertOneKey(keys);
    assert.deepEqual(delays, [500]);
  });

  for (const status of [408, 500, 502, 503]) {
    it(`${status}: retried, same key`, async () => {
      server.faults.add({ path: SESSION_PATH, status, times: 2 });
      await createSession(client(), BODY);
      const { statuses, keys } = attempts();
      assert.deepEqual(statuses, [status, status, 200]);
      assertOneKey(keys);
    });
  }

  it("429 with Retry-After: waits what the server asked, same key", async () => {
    server.faults.add({ path: SESSION_PATH, status: 429, headers: { "retry-after": "3" } });
    await createSession(client(), BODY);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [429, 200]);
    assertOneKey(keys);
    assert.deepEqual(delays, [3000]);
  });

  it("429 answers beyond the budget: maxRetries + 1 attempts, then RateLimitError", async () => {
    server.faults.add({ path: SESSION_PATH, status: 429, times: 10 });
    await assert.rejects(createSession(client(2), BODY), RateLimitError);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [429, 429, 429]);
    assertOneKey(keys);
  });

  it("bare 400 (no body, as an edge proxy sends): retried as a connection error", async () => {
    server.faults.add({ path: SESSION_PATH, status: 400, body: "" });
    await createSession(client(), BODY);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [400, 200]);
    assertOneKey(keys);
  });

  it("400 with a body: not retried", async () => {
    server.faults.add({ path: SESSION_PATH, status: 400, body: { detail: "bad field" } });
    await assert.rejects(createSession(client(), BODY), BadRequestError);
    assert.deepEqual(attempts().statuses, [400]);
    assert.deepEqual(delays, []);
  });

  const fatal = [
    [401, AuthenticationError],
    [403, PermissionDeniedError],
    [404, NotFoundError],
    [409, ConflictError],
    [422, UnprocessableEntityError],
  ] as const;
  for (const [status, type] of fatal) {
    it(`${status}: not retried, typed error`, async () => {
      server.faults.add({ path: SESSION_PATH, status });
      await assert.rejects(createSession(client(), BODY), type);
      assert.deepEqual(attempts().statuses, [status]);
      assert.deepEqual(delays, []);
    });
  }

  it("x-should-retry: true makes a 400 with a body retried, same key", async () => {
    server.faults.add({
      path: SESSION_PATH,
      status: 400,
      body: { detail: "try again" },
      headers: { "x-should-retry": "true" },
    });
    await createSession(client(), BODY);
    const { statuses, keys } = attempts();
    assert.deepEqual(statuses, [400, 200]);
    assertOneKey(keys);
  });

  it("x-should-retry: false stops a 503 from being retried", async () => {
    server.faults.add({ path: SESSION_PATH, status: 503, headers: { "x-should-retry": "false" } });
    await assert.rejects(createSession(client(), BODY), InternalServerError);
    assert.deepEqual(attempts().statuses, [503]);
  });

  it("the caller's AbortSignal: the attempt ends and nothing is retried", async () => {
    server.faults.add({ path: SESSION_PATH, hang: true });
    const controller = new AbortController();
    const pending = createSession(client(), BODY, { signal: controller.signal });
    // Abort once the server holds the request (its record appears when the fault hangs it).
    while (attempts().statuses.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(pending, APIUserAbortError);
    assert.deepEqual(attempts().statuses, [0]);
    assert.deepEqual(delays, []);
  });

  it("each call gets its own key; the retries of one call share it", async () => {
    server.faults.add({ path: SESSION_PATH, status: 503 });
    const h = client();
    await createSession(h, BODY);
    await createSession(h, BODY);
    const records = server.requests().filter((r) => r.path === SESSION_PATH);
    assert.deepEqual(
      records.map((r) => r.status),
      [503, 200, 200],
    );
    assert.equal(records[0]?.idempotencyKey, records[1]?.idempotencyKey);
    assert.notEqual(records[1]?.idempotencyKey, records[2]?.idempotencyKey);
  });

  describe("calls with a zero retry budget: one request under a 503", () => {
    let sessionId: string;
    before(async () => {
      sessionId = (await createSession(client(), BODY)).session_id;
    });

    const zeroRetry: [string, string, () => Promise<unknown>][] = [
      ["session_heartbeat", "/api/v1/session_heartbeat", () => sessionHeartbeat(http, sessionId)],
      ["client/dynamic_config", "/api/v1/client/dynamic_config", () => fetchDynamicConfig(http, "0.25.0")],
      [
        "save_weights",
        "/api/v1/save_weights",
        () =>
          saveWeights(http, { model_id: "m", path: "p", seq_id: 1, overwrite: false, type: "save_weights" }),
      ],
      [
        "save_weights_for_sampler",
        "/api/v1/save_weights_for_sampler",
        () =>
          saveWeightsForSampler(http, {
            model_id: "m",
            path: "p",
            seq_id: 1,
            type: "save_weights_for_sampler",
          }),
      ],
      [
        "asample",
        "/api/v1/asample",
        () =>
          asample(http, {
            type: "sample",
            num_samples: 1,
            prompt: { chunks: [{ type: "encoded_text", tokens: [1, 2] }] },
            sampling_params: { max_tokens: 1, temperature: 1, top_k: -1, top_p: 1 },
            base_model: "tinker-local/tiny",
            prompt_logprobs: false,
            topk_prompt_logprobs: 0,
          }),
      ],
      [
        "retrieve_future",
        "/api/v1/retrieve_future",
        () =>
          retrieveFuture(http, {
            requestId: "req-1",
            allowMetadataOnly: true,
            iteration: 0,
            requestType: "ForwardBackward",
            accept: "application/json",
          }),
      ],
    ];
    for (const [name, path, call] of zeroRetry) {
      it(`${name}: exactly one request, the 503 surfaces`, async () => {
        client(10); // a generous default budget: only the call's own budget of 0 can stop retries
        server.faults.add({ path, status: 503, times: 5 });
        await assert.rejects(call(), InternalServerError);
        assert.deepEqual(attempts(path).statuses, [503]);
        assert.deepEqual(delays, []);
      });
    }
  });
});

describe("a connection error on a zero-retry call is not retried either", () => {
  it("session_heartbeat under a reset: one request, APIConnectionError", async () => {
    const server = await startServer({ port: 0 });
    try {
      const http = new HttpClient({ baseUrl: server.url, auth: new ApiKeyAuth(KEY), maxRetries: 10 });
      const { session_id } = await createSession(http, BODY);
      server.faults.add({ path: "/api/v1/session_heartbeat", reset: true, times: 5 });
      await assert.rejects(sessionHeartbeat(http, session_id), (error: unknown) => {
        assert.ok(error instanceof APIConnectionError && !(error instanceof APITimeoutError));
        return true;
      });
      assert.deepEqual(
        server
          .requests()
          .filter((r) => r.path === "/api/v1/session_heartbeat")
          .map((r) => r.status),
        [0],
      );
    } finally {
      await server.close();
    }
  });
});
